package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"math"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// The board's data set: seven problems driven through March 2026 on the fake
// clock (dates and times in Shanghai), whose every figure is worked out by
// hand below.
//
//	P1 一班 general  学习意识 inspection  reg 3-02 09:00, assigned owner1 (deadline 4-01), accepted 3-02,
//	                                      submitted 3-05, closed 3-06 09:00 on time        → 4 days to close
//	P2 一班 serious  等靠思想 self_check  reg 3-02, assigned owner1 deadline 3-10, accepted 3-04 (late: limit 3-03),
//	                                      submitted 3-09, sent back 3-09, submitted 3-11, closed 3-12 09:00 late → 10 days
//	P3 二班 critical 廉洁风险 spot_check  reg 3-02, assigned owner2 deadline 3-09, accepted 3-03, extension to 3-20
//	                                      approved 3-05; rectifying                         → yellow on 3-18
//	P4 二班 general  学习意识 inspection  reg 3-02, assigned owner2 deadline 3-16, accepted 3-02; rectifying → red on 3-18
//	P5 一班 general  争先劲头 report      reg 3-03, dismissed 3-03
//	P6 部门 general  大局意识 supervision reg 3-03; registered
//	P7 一班 serious  学习意识 inspection  reg 3-02, assigned owner1 deadline 4-30, accepted 3-02, submitted 3-13,
//	                                      closed 3-16, reopened 3-17 (deadline 4-30); rectifying → green
//
// Contributions for March: owner2 10 points (while in 二班; moved to 一班 on
// 3-20), ownerdept 5, ownerverifier 5 (a tie with ownerdept).
type boardSet struct {
	e   *apptest.Env
	svc *wire.Services
	p   map[string]*domain.Problem
}

// shanghai returns the instant of a day of March 2026 at an hour in Shanghai.
func shanghai(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour-8, 0, 0, 0, time.UTC)
}

func buildBoardSet(t *testing.T) *boardSet {
	t.Helper()
	e := apptest.New(t)
	// Submitting a serious or critical problem needs an attachment by default;
	// this data set is about the board, so a service without that rule drives it.
	cfg := e.Svc.Core.Config()
	cfg.Evidence = domain.EvidencePolicy{}
	svc := wire.New(e.DB, e.Keys, cfg, wire.WithClock(e.Clock.Now))
	b := &boardSet{e: e, svc: svc, p: map[string]*domain.Problem{}}
	ctx := t.Context()
	at := func(day, hour int) { e.Clock.Set(shanghai(time.March, day, hour)) }
	must := func(p *domain.Problem, err error) *domain.Problem {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	reg := func(name, unit string, cat int64, sev domain.Severity, src domain.Source) {
		t.Helper()
		b.p[name] = must(svc.Lifecycle.Register(ctx, e.Caller("inspector"), app.ProblemInput{Title: name, Description: "描述",
			CategoryID: cat, Severity: sev, Source: src, UnitID: e.Units[unit].ID}))
	}
	id := func(name string) int64 { return b.p[name].ID }
	date := func(m time.Month, d int) domain.Date { return domain.NewDate(2026, m, d) }
	assign := func(name, owner string, deadline domain.Date) {
		t.Helper()
		b.p[name] = must(svc.Lifecycle.Assign(ctx, e.Caller("verifier"), id(name), 0, app.AssignInput{AssigneeID: e.Users[owner].ID,
			Deadline: deadline, Measures: "整改措施"}))
	}
	act := func(name string, fn func() (*domain.Problem, error)) {
		t.Helper()
		b.p[name] = must(fn())
	}
	at(2, 9)
	reg("P1", "一班", 5, domain.SeverityGeneral, domain.SourceInspection)
	reg("P2", "一班", 8, domain.SeveritySerious, domain.SourceSelfCheck)
	reg("P3", "二班", 13, domain.SeverityCritical, domain.SourceSpotCheck)
	reg("P4", "二班", 5, domain.SeverityGeneral, domain.SourceInspection)
	reg("P7", "一班", 5, domain.SeveritySerious, domain.SourceInspection)
	at(2, 10)
	assign("P1", "owner1", date(time.April, 1))
	assign("P2", "owner1", date(time.March, 10))
	assign("P3", "owner2", date(time.March, 9))
	assign("P4", "owner2", date(time.March, 16))
	assign("P7", "owner1", date(time.April, 30))
	at(2, 11)
	act("P1", func() (*domain.Problem, error) {
		return svc.Lifecycle.Accept(ctx, e.Caller("owner1"), id("P1"), 0, "签收")
	})
	act("P4", func() (*domain.Problem, error) {
		return svc.Lifecycle.Accept(ctx, e.Caller("owner2"), id("P4"), 0, "签收")
	})
	act("P7", func() (*domain.Problem, error) {
		return svc.Lifecycle.Accept(ctx, e.Caller("owner1"), id("P7"), 0, "签收")
	})
	at(3, 9)
	reg("P5", "一班", 11, domain.SeverityGeneral, domain.SourceReport)
	reg("P6", "部门", 6, domain.SeverityGeneral, domain.SourceSupervision)
	act("P5", func() (*domain.Problem, error) {
		return svc.Lifecycle.Dismiss(ctx, e.Caller("verifier"), id("P5"), 0, "重复")
	})
	act("P3", func() (*domain.Problem, error) {
		return svc.Lifecycle.Accept(ctx, e.Caller("owner2"), id("P3"), 0, "签收")
	})
	at(4, 9)
	act("P2", func() (*domain.Problem, error) {
		return svc.Lifecycle.Accept(ctx, e.Caller("owner1"), id("P2"), 0, "签收晚了")
	})
	at(5, 9)
	act("P1", func() (*domain.Problem, error) {
		return svc.Lifecycle.Submit(ctx, e.Caller("owner1"), id("P1"), 0, "已整改")
	})
	ext, err := svc.Lifecycle.RequestExtension(ctx, e.Caller("owner2"), id("P3"), 0, date(time.March, 20), "需要更多时间")
	if err != nil {
		t.Fatal(err)
	}
	act("P3", func() (*domain.Problem, error) {
		return svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), id("P3"), 0, ext.ID, true, "同意")
	})
	at(6, 9)
	act("P1", func() (*domain.Problem, error) {
		return svc.Lifecycle.Verify(ctx, e.Caller("verifier"), id("P1"), 0, true, "同意销号")
	})
	at(9, 9)
	act("P2", func() (*domain.Problem, error) {
		return svc.Lifecycle.Submit(ctx, e.Caller("owner1"), id("P2"), 0, "初次整改")
	})
	at(9, 15)
	act("P2", func() (*domain.Problem, error) {
		return svc.Lifecycle.Verify(ctx, e.Caller("verifier"), id("P2"), 0, false, "缺少记录")
	})
	at(11, 9)
	act("P2", func() (*domain.Problem, error) {
		return svc.Lifecycle.Submit(ctx, e.Caller("owner1"), id("P2"), 0, "补充记录")
	})
	at(12, 9)
	act("P2", func() (*domain.Problem, error) {
		return svc.Lifecycle.Verify(ctx, e.Caller("verifier2"), id("P2"), 0, true, "")
	})
	at(13, 9)
	act("P7", func() (*domain.Problem, error) {
		return svc.Lifecycle.Submit(ctx, e.Caller("owner1"), id("P7"), 0, "已整改")
	})
	at(16, 9)
	act("P7", func() (*domain.Problem, error) {
		return svc.Lifecycle.Verify(ctx, e.Caller("verifier"), id("P7"), 0, true, "同意")
	})
	at(17, 9)
	act("P7", func() (*domain.Problem, error) {
		return svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), id("P7"), 0, "回头看发现反弹", date(time.April, 30))
	})
	for _, a := range []struct {
		who    string
		points int
	}{{"owner2", 10}, {"ownerdept", 5}, {"ownerverifier", 5}} {
		if _, err := svc.Board.AwardContribution(ctx, e.Caller("verifier"), app.ContributionInput{UserID: e.Users[a.who].ID,
			Points: a.points, Reason: "专项工作"}); err != nil {
			t.Fatal(err)
		}
	}
	at(18, 9)
	return b
}

func ptr(f float64) *float64 { return &f }

func sameRate(got, want *float64) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return math.Abs(*got-*want) < 1e-9
}

func show(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func TestOverviewFiguresByHand(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	o, err := b.svc.Board.Overview(t.Context(), b.e.Caller("leader"), app.BoardInput{})
	if err != nil {
		t.Fatal(err)
	}
	ints := map[string][2]int64{
		"total": {o.Total, 7}, "overdue": {o.Overdue, 1}, "closed": {o.Closed, 2}, "closed_on_time": {o.ClosedOnTime, 1},
		"red": {o.Warning.Red, 2}, "yellow": {o.Warning.Yellow, 1}, "green": {o.Warning.Green, 2},
		"reworked": {o.Reworked, 1}, "reopened": {o.Reopened, 1}, "extensions": {o.Extensions, 1},
		"registered": {o.ByStatus[domain.StatusRegistered], 1}, "assigned": {o.ByStatus[domain.StatusAssigned], 0},
		"rectifying": {o.ByStatus[domain.StatusRectifying], 3}, "submitted": {o.ByStatus[domain.StatusSubmitted], 0},
		"closed status": {o.ByStatus[domain.StatusClosed], 2}, "dismissed": {o.ByStatus[domain.StatusDismissed], 1},
		"general": {o.BySeverity[domain.SeverityGeneral], 4}, "serious": {o.BySeverity[domain.SeveritySerious], 2},
		"critical":   {o.BySeverity[domain.SeverityCritical], 1},
		"inspection": {o.BySource[domain.SourceInspection], 3}, "self_check": {o.BySource[domain.SourceSelfCheck], 1},
		"spot_check": {o.BySource[domain.SourceSpotCheck], 1}, "report": {o.BySource[domain.SourceReport], 1},
		"supervision": {o.BySource[domain.SourceSupervision], 1},
	}
	for name, v := range ints {
		if v[0] != v[1] {
			t.Errorf("%s = %d, want %d", name, v[0], v[1])
		}
	}
	rates := map[string][2]*float64{
		"closure_rate":      {o.ClosureRate, ptr(0.3333)}, // 2 closed ÷ (7 − 1 dismissed)
		"on_time_rate":      {o.OnTimeRate, ptr(0.5)},     // P1 of P1, P2
		"rework_rate":       {o.ReworkRate, ptr(0.3333)},  // P2 of P1, P2, P7 (verified at least once)
		"reopen_rate":       {o.ReopenRate, ptr(0.3333)},  // P7 of P1, P2, P7 (closed at least once)
		"avg_days_to_close": {o.AvgDaysToClose, ptr(7)},   // (4 + 10) ÷ 2
		"p90_days_to_close": {o.P90DaysToClose, ptr(10)},  // nearest rank ⌈0.9 × 2⌉ = 2nd of 4, 10
	}
	for name, v := range rates {
		if !sameRate(v[0], v[1]) {
			t.Errorf("%s = %v, want %v", name, show(v[0]), show(v[1]))
		}
	}
	e := b.e
	wantUnits := []struct {
		name                              string
		total, closed, dismissed, overdue int64
		rate                              *float64
	}{
		{"中心", 7, 2, 1, 1, ptr(0.3333)},
		{"部门", 7, 2, 1, 1, ptr(0.3333)},
		{"一班", 4, 2, 1, 0, ptr(0.6667)},
		{"二班", 2, 0, 0, 1, ptr(0)},
	}
	if len(o.ByUnit) != len(wantUnits) {
		t.Fatalf("by_unit has %d lines, want %d: %+v", len(o.ByUnit), len(wantUnits), o.ByUnit)
	}
	for i, w := range wantUnits {
		got := o.ByUnit[i]
		if got.ID != e.Units[w.name].ID || got.Name != w.name || got.Total != w.total || got.Closed != w.closed ||
			got.Dismissed != w.dismissed || got.Overdue != w.overdue || !sameRate(got.ClosureRate, w.rate) {
			t.Errorf("by_unit[%d] = %+v (rate %v), want %+v", i, got, show(got.ClosureRate), w)
		}
	}
	wantCats := []struct {
		id                     int64
		total, closed, overdue int64
		rate                   *float64
	}{
		{1, 4, 1, 1, ptr(0.25)}, {5, 3, 1, 1, ptr(0.3333)}, {6, 1, 0, 0, ptr(0)},
		{2, 1, 1, 0, ptr(1)}, {8, 1, 1, 0, ptr(1)},
		{3, 1, 0, 0, nil}, {11, 1, 0, 0, nil},
		{4, 1, 0, 0, ptr(0)}, {13, 1, 0, 0, ptr(0)},
	}
	if len(o.ByCategory) != len(wantCats) {
		t.Fatalf("by_category has %d lines, want %d: %+v", len(o.ByCategory), len(wantCats), o.ByCategory)
	}
	for i, w := range wantCats {
		got := o.ByCategory[i]
		if got.ID != w.id || got.Total != w.total || got.Closed != w.closed || got.Overdue != w.overdue ||
			!sameRate(got.ClosureRate, w.rate) {
			t.Errorf("by_category[%d] = %+v (rate %v), want %+v", i, got, show(got.ClosureRate), w)
		}
	}
}

func TestOverviewScopeAndFilters(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	for _, c := range []struct {
		name    string
		who     string
		in      app.BoardInput
		total   int64
		overdue int64
		red     int64
	}{
		{"owner2 sees 二班", "owner2", app.BoardInput{}, 2, 1, 1},
		{"owner1 sees 一班", "owner1", app.BoardInput{}, 4, 0, 1},
		{"admin sees nothing", "admin", app.BoardInput{}, 0, 0, 0},
		{"unit 一班", "leader", app.BoardInput{UnitID: e.Units["一班"].ID}, 4, 0, 1},
		{"owner2 filtering on 一班", "owner2", app.BoardInput{UnitID: e.Units["一班"].ID}, 0, 0, 0},
		{"dimension 思想政治", "verifier", app.BoardInput{CategoryID: 1}, 4, 1, 1},
		{"serious", "inspector", app.BoardInput{Severities: []domain.Severity{domain.SeveritySerious}}, 2, 0, 1},
		{"sources", "leader", app.BoardInput{Sources: []domain.Source{domain.SourceReport, domain.SourceSupervision}}, 2, 0, 0},
		{"registered on 3-03", "leader", app.BoardInput{From: shanghai(time.March, 3, 0), To: shanghai(time.March, 4, 0)}, 2, 0, 0},
	} {
		o, err := b.svc.Board.Overview(ctx, e.Caller(c.who), c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if o.Total != c.total || o.Overdue != c.overdue || o.Warning.Red != c.red {
			t.Errorf("%s: total %d overdue %d red %d, want %d %d %d", c.name, o.Total, o.Overdue, o.Warning.Red,
				c.total, c.overdue, c.red)
		}
	}
	var val *domain.ValidationError
	if _, err := b.svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{UnitID: 9999}); !errors.As(err, &val) {
		t.Errorf("unknown unit: %v, want a validation error", err)
	}
	if _, err := b.svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{From: shanghai(time.March, 4, 0), To: shanghai(time.March, 3, 0)}); !errors.As(err, &val) {
		t.Errorf("from after to: %v, want a validation error", err)
	}
}

func TestTrendByWeekAndMonth(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	ctx := t.Context()
	// Weeks of March 2026 (Mondays): 3-02 W10, 3-09 W11, 3-16 W12.
	ps, err := b.svc.Board.Trend(ctx, b.e.Caller("leader"), app.TrendInput{By: stats.ByWeek,
		From: domain.NewDate(2026, 3, 2), To: domain.NewDate(2026, 3, 18)})
	if err != nil {
		t.Fatal(err)
	}
	type fig struct {
		label                                           string
		registered, closed, dismissed, overdue, backlog int64
	}
	// Registered: all seven in W10. Closed (and still closed): P1 3-06 (W10), P2 3-12 (W11); P7 closed 3-16
	// but was reopened. Dismissed: P5 3-03. Missed deadlines before 3-18: P2's 3-10 (closed late, W11) and
	// P4's 3-16 (open, W12). Backlog: 7 − 1 − 1 = 5, then 5 − 1 = 4, then 4.
	want := []fig{
		{"2026-W10", 7, 1, 1, 0, 5},
		{"2026-W11", 0, 1, 0, 1, 4},
		{"2026-W12", 0, 0, 0, 1, 4},
	}
	if len(ps) != len(want) {
		t.Fatalf("%d periods, want %d: %+v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		got := fig{p.Label, p.Registered, p.Closed, p.Dismissed, p.Overdue, p.Backlog}
		if got != w {
			t.Errorf("period %d = %+v, want %+v", i, got, w)
		}
	}
	ms, err := b.svc.Board.Trend(ctx, b.e.Caller("leader"), app.TrendInput{By: stats.ByMonth,
		From: domain.NewDate(2026, 2, 1), To: domain.NewDate(2026, 3, 31)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Label != "2026-02" || ms[0].Registered != 0 || ms[1].Label != "2026-03" ||
		ms[1].Registered != 7 || ms[1].Closed != 2 || ms[1].Overdue != 2 || ms[1].Backlog != 4 {
		t.Errorf("by month: %+v", ms)
	}
	if _, err := b.svc.Board.Trend(ctx, b.e.Caller("leader"), app.TrendInput{By: "day"}); err == nil {
		t.Error("by=day accepted")
	}
	if _, err := b.svc.Board.Trend(ctx, b.e.Caller("leader"), app.TrendInput{By: stats.ByWeek,
		From: domain.NewDate(2020, 1, 1), To: domain.NewDate(2026, 3, 1)}); err == nil {
		t.Error("six years of weeks accepted")
	}
}

// evaluationOf returns one month's evaluation, failing the test on error.
func evaluationOf(t *testing.T, svc *wire.Services, c app.Caller, month string, level app.EvaluationLevel) *app.Evaluation {
	t.Helper()
	m, err := stats.ParseMonth(month)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := svc.Board.Evaluation(t.Context(), c, m, level)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

type line struct {
	name                 string
	closed               int
	workload             float64
	accuracy, timeliness *float64
	contribution, score  float64
	rank                 int
}

func checkLines(t *testing.T, what string, items []app.EvaluationItem, want []line) {
	t.Helper()
	if len(items) != len(want) {
		t.Fatalf("%s: %d items, want %d: %+v", what, len(items), len(want), items)
	}
	for i, w := range want {
		x := items[i]
		if x.Name != w.name || x.Closed != w.closed || x.Workload != w.workload || !sameRate(x.Accuracy, w.accuracy) ||
			!sameRate(x.Timeliness, w.timeliness) || x.Contribution != w.contribution || x.Score != w.score || x.Rank != w.rank {
			t.Errorf("%s item %d = %+v (accuracy %v, timeliness %v), want %+v", what, i, x, show(x.Accuracy),
				show(x.Timeliness), w)
		}
	}
}

func TestEvaluationFiguresByHand(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	// owner2 moves from 二班 to 一班 after the award: the unit figures of March keep the points with 二班.
	e.Clock.Set(shanghai(time.March, 20, 9))
	yiban := e.Units["一班"].ID
	if _, err := b.svc.Access.UpdateUser(ctx, e.Caller("admin"), e.Users["owner2"].ID, app.UserPatch{UnitID: &yiban}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(shanghai(time.April, 2, 9))

	// Persons. Closed in March (and still closed): P1 (owner1, general, first pass, on time) and P2 (owner1,
	// serious, sent back once, last submitted 3-11 after its deadline 3-10). Acceptances in March: owner1 P1
	// (prompt), P2 (3-04 for 3-02: late), P7 (prompt); owner2 P3 (3-03 for 3-02: prompt), P4 (prompt).
	//   owner1: workload 1×1 + 1×2 = 3; accuracy 1/2; timeliness (1 on time + 2 prompt) ÷ (2 + 3) = 0.6
	//           score 0.4×100 + 0.3×50 + 0.3×60 = 73
	//   owner2: workload 0; accuracy none; timeliness (0 + 2) ÷ (0 + 2) = 1; 10 points → 30 + 10 = 40
	//   ownerdept, ownerverifier: 5 points each → 5, tied third
	person := evaluationOf(t, b.svc, e.Caller("leader"), "2026-03", app.LevelPerson)
	checkLines(t, "persons", person.Items, []line{
		{"owner1", 2, 3, ptr(0.5), ptr(0.6), 0, 73, 1},
		{"owner2", 0, 0, nil, ptr(1), 10, 40, 2},
		{"ownerdept", 0, 0, nil, nil, 5, 5, 3},
		{"ownerverifier", 0, 0, nil, nil, 5, 5, 3},
	})
	if person.Items[1].UnitID != yiban {
		t.Errorf("owner2's unit is %d, want 一班 %d (where they are now)", person.Items[1].UnitID, yiban)
	}
	if len(person.ModelWorkers) != 1 || person.ModelWorkers[0].Name != "owner1" {
		t.Errorf("model workers %+v, want owner1", person.ModelWorkers)
	}
	// February was empty: everyone scored 0, so owner1 rose most (73).
	if len(person.MostImproved) != 1 || person.MostImproved[0].Name != "owner1" || person.MostImproved[0].Rise != 73 ||
		person.MostImproved[0].PreviousScore != 0 {
		t.Errorf("most improved %+v, want owner1 +73", person.MostImproved)
	}
	if person.Published || person.Formula == "" || person.Weights != stats.DefaultWeights() {
		t.Errorf("published %v, formula %q, weights %+v", person.Published, person.Formula, person.Weights)
	}

	// Units, by the problem's responsible unit; points by the unit credited when awarded.
	//   一班: P1, P2 closed → workload 3, accuracy 0.5; accepts P1, P2 (late), P7 → timeliness 3/5;
	//         ownerverifier's 5 points → 40 + 15 + 18 + 5 = 78
	//   二班: accepts P3, P4 → timeliness 1 → 30; owner2's 10 points → 40
	//   部门: ownerdept's 5 points → 5
	unit := evaluationOf(t, b.svc, e.Caller("verifier"), "2026-03", app.LevelUnit)
	checkLines(t, "units", unit.Items, []line{
		{"一班", 2, 3, ptr(0.5), ptr(0.6), 5, 78, 1},
		{"二班", 0, 0, nil, ptr(1), 10, 40, 2},
		{"部门", 0, 0, nil, nil, 5, 5, 3},
	})

	// An empty month: everyone at 0, all tied first, no 标兵 and no 进步之星.
	feb := evaluationOf(t, b.svc, e.Caller("leader"), "2026-02", app.LevelPerson)
	if len(feb.Items) != 4 || len(feb.ModelWorkers) != 0 || len(feb.MostImproved) != 0 {
		t.Errorf("February: %+v", feb)
	}
	for _, x := range feb.Items {
		if x.Score != 0 || x.Rank != 1 || x.Accuracy != nil || x.Timeliness != nil {
			t.Errorf("February item %+v", x)
		}
	}

	// Who may read an unpublished month; months that have not begun.
	if _, err := b.svc.Board.Evaluation(ctx, e.Caller("owner1"), stats.Month{Year: 2026, Month: time.March}, app.LevelPerson); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("owner reads an unpublished month: %v", err)
	}
	var val *domain.ValidationError
	if _, err := b.svc.Board.Evaluation(ctx, e.Caller("leader"), stats.Month{Year: 2026, Month: time.May}, app.LevelPerson); !errors.As(err, &val) {
		t.Errorf("a month not begun: %v", err)
	}
}

func TestPublishedMonthIsFrozen(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	march := stats.Month{Year: 2026, Month: time.March}
	// Not before the month is over, and only by a leader.
	if _, err := b.svc.Board.PublishEvaluation(ctx, e.Caller("leader"), march); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("publishing March on 3-18: %v, want a conflict", err)
	}
	e.Clock.Set(shanghai(time.April, 1, 9))
	if _, err := b.svc.Board.PublishEvaluation(ctx, e.Caller("verifier"), march); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a verifier publishes: %v", err)
	}
	before := evaluationOf(t, b.svc, e.Caller("leader"), "2026-03", app.LevelPerson)
	pub, err := b.svc.Board.PublishEvaluation(ctx, e.Caller("leader"), march)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Board.PublishEvaluation(ctx, e.Caller("leader"), march); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("publishing twice: %v", err)
	}
	// The audit entry pins the snapshot.
	last := lastEntry(t, e, "evaluation/2026-03")
	var ch map[string]any
	if err := json.Unmarshal([]byte(last.Changes), &ch); err != nil || last.Action != app.ActionEvaluationPublish ||
		ch["snapshot_sha256"] == nil || last.ActorID != e.Users["leader"].ID {
		t.Errorf("publish entry %+v", last)
	}

	// Later data: P1 reopened and P2 … the live figures would change; an award for March is refused.
	e.Clock.Set(shanghai(time.April, 2, 9))
	if _, err := b.svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), b.p["P1"].ID, 0, "复查发现问题", domain.NewDate(2026, 4, 30)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Board.AwardContribution(ctx, e.Caller("verifier"), app.ContributionInput{UserID: e.Users["owner1"].ID,
		Points: 50, Reason: "补记", Month: "2026-03"}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("an award for a published month: %v", err)
	}
	after := evaluationOf(t, b.svc, e.Caller("owner1"), "2026-03", app.LevelPerson) // published: anyone reads it
	if !after.Published || after.PublishedAt == nil || !after.PublishedAt.Equal(pub.PublishedAt) {
		t.Errorf("published %v at %v", after.Published, after.PublishedAt)
	}
	checkLines(t, "after publication", after.Items, []line{
		{"owner1", 2, 3, ptr(0.5), ptr(0.6), 0, 73, 1},
		{"owner2", 0, 0, nil, ptr(1), 10, 40, 2},
		{"ownerdept", 0, 0, nil, nil, 5, 5, 3},
		{"ownerverifier", 0, 0, nil, nil, 5, 5, 3},
	})
	if len(after.Items) != len(before.Items) || after.Items[0].Score != before.Items[0].Score {
		t.Errorf("the published month changed: %+v → %+v", before.Items, after.Items)
	}
	unit := evaluationOf(t, b.svc, e.Caller("leader"), "2026-03", app.LevelUnit)
	if !unit.Published || unit.Items[0].Name != "一班" || unit.Items[0].Score != 78 {
		t.Errorf("published units: %+v", unit.Items)
	}
	mustVerifyOK(t, e)
}

func TestContributionRules(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	var val *domain.ValidationError
	for _, c := range []struct {
		name string
		who  string
		in   app.ContributionInput
		want func(error) bool
	}{
		{"owner may not award", "owner1", app.ContributionInput{UserID: e.Users["owner2"].ID, Points: 5, Reason: "r"},
			func(err error) bool { return errors.Is(err, domain.ErrForbidden) }},
		{"not to oneself", "ownerverifier", app.ContributionInput{UserID: e.Users["ownerverifier"].ID, Points: 5, Reason: "r"},
			func(err error) bool { return errors.Is(err, domain.ErrForbidden) }},
		{"no reason", "verifier", app.ContributionInput{UserID: e.Users["owner1"].ID, Points: 5},
			func(err error) bool { return errors.As(err, &val) }},
		{"too many points", "verifier", app.ContributionInput{UserID: e.Users["owner1"].ID, Points: 101, Reason: "r"},
			func(err error) bool { return errors.As(err, &val) }},
		{"user and unit", "verifier", app.ContributionInput{UserID: e.Users["owner1"].ID, UnitID: e.Units["一班"].ID, Points: 1, Reason: "r"},
			func(err error) bool { return errors.As(err, &val) }},
		{"unknown user", "verifier", app.ContributionInput{UserID: 9999, Points: 1, Reason: "r"},
			func(err error) bool { return errors.As(err, &val) }},
		{"month not begun", "verifier", app.ContributionInput{UserID: e.Users["owner1"].ID, Points: 1, Reason: "r", Month: "2026-04"},
			func(err error) bool { return errors.As(err, &val) }},
		{"bad month", "verifier", app.ContributionInput{UserID: e.Users["owner1"].ID, Points: 1, Reason: "r", Month: "2026-13"},
			func(err error) bool { return errors.As(err, &val) }},
	} {
		if _, err := e.Svc.Board.AwardContribution(ctx, e.Caller(c.who), c.in); !c.want(err) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	x, err := e.Svc.Board.AwardContribution(ctx, e.Caller("verifier"), app.ContributionInput{UnitID: e.Units["二班"].ID,
		Points: 8, Reason: "集体攻坚"})
	if err != nil {
		t.Fatal(err)
	}
	if x.Month != "2026-03" || x.UserID != 0 || x.UnitID != e.Units["二班"].ID {
		t.Errorf("award %+v", x)
	}
	entry := lastEntry(t, e, "contributions/2026-03")
	if entry.Action != app.ActionContributionAward || entry.ObjectID != fmtInt(x.ID) {
		t.Errorf("award entry %+v", entry)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE action = ? AND outcome = ?", app.ActionContributionAward, "refused"); n != 8 {
		t.Errorf("%d refused awards audited, want 8", n)
	}
	list, err := e.Svc.Board.Contributions(ctx, e.Caller("leader"), app.ContributionQuery{Month: "2026-03"})
	if err != nil || len(list) != 1 {
		t.Errorf("list: %v %+v", err, list)
	}
}

// The board's index is loaded once and then follows every change: each read
// first takes in the problems updated since the last one.
func TestBoardIndexFollowsChanges(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	total := func() (*app.Overview, []app.TrendPeriod) {
		t.Helper()
		o, err := e.Svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := e.Svc.Board.Trend(ctx, e.Caller("leader"), app.TrendInput{By: stats.ByWeek,
			From: domain.NewDate(2026, 3, 2), To: domain.NewDate(2026, 3, 2)})
		if err != nil {
			t.Fatal(err)
		}
		return o, tr
	}
	if o, _ := total(); o.Total != 0 || o.ClosureRate != nil {
		t.Fatalf("empty board %+v", o)
	}
	p := e.Drive(t, domain.StatusClosed)
	o, tr := total()
	if o.Total != 1 || o.Closed != 1 || tr[0].Registered != 1 || tr[0].Closed != 1 || tr[0].Backlog != 0 {
		t.Fatalf("after a closure: %+v %+v", o, tr)
	}
	if _, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), p.ID, 0, "反弹", domain.NewDate(2026, 4, 1)); err != nil {
		t.Fatal(err)
	}
	q := e.Drive(t, domain.StatusAssigned)
	o, tr = total()
	if o.Total != 2 || o.Closed != 0 || o.ByStatus[domain.StatusRectifying] != 1 || o.ByStatus[domain.StatusAssigned] != 1 ||
		o.Reopened != 1 || tr[0].Backlog != 2 {
		t.Fatalf("after a reopening and an assignment: %+v %+v", o, tr)
	}
	// A change committed late (its updated_at before the latest one seen, within the margin) is still taken in.
	// Like every change of a problem, it moves the version.
	execSQL(t, e, "UPDATE problems SET status = 'dismissed', version = version + 1, updated_at = ? WHERE id = ?", apptest.Start.Add(-time.Minute), q.ID)
	if o, _ = total(); o.ByStatus[domain.StatusDismissed] != 1 || o.ByStatus[domain.StatusAssigned] != 0 {
		t.Fatalf("a late commit was missed: %+v", o.ByStatus)
	}
	// A problem whose id is below one already seen (a registration that committed after a later one).
	insert := func(id int64) {
		execSQL(t, e, "INSERT INTO problems (id, code, title, description, category_id, severity, source, unit_id, found_at, "+
			"status, version, measures, created_by, created_at, updated_at) SELECT ?, ?, 't', '', 5, 'general', 'report', "+
			"unit_id, found_at, 'registered', 1, '', created_by, created_at, ? FROM problems WHERE id = ?",
			id, fmt.Sprintf("WT-2026-%06d", 900000+id), apptest.Start, p.ID)
	}
	insert(q.ID + 10)
	if o, _ = total(); o.Total != 3 {
		t.Fatalf("a new problem was missed: %+v", o.ByStatus)
	}
	insert(q.ID + 5)
	if o, _ = total(); o.Total != 4 || o.ByStatus[domain.StatusRegistered] != 2 {
		t.Fatalf("a problem below the largest id was missed: %+v", o.ByStatus)
	}
}

// The board's traffic lights agree with the list's warning filter and with
// each problem's warning, milestones (序时进度) included.
func TestBoardWarningsAgreeWithTheList(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	// P9: assigned on 3-18 with a deadline far off but a milestone due 3-20: yellow from 3-21.
	p9 := e.Register(t, "P9")
	if _, err := b.svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p9.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID,
		Deadline: domain.NewDate(2026, 5, 30), Measures: "措施",
		Milestones: []domain.MilestonePlan{{Due: domain.NewDate(2026, 3, 20), Title: "制定方案"}}}); err != nil {
		t.Fatal(err)
	}
	for _, day := range []int{18, 21} {
		e.Clock.Set(shanghai(time.March, day, 9))
		o, err := b.svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{})
		if err != nil {
			t.Fatal(err)
		}
		for level, n := range map[domain.WarningLevel]int64{domain.WarningGreen: o.Warning.Green,
			domain.WarningYellow: o.Warning.Yellow, domain.WarningRed: o.Warning.Red} {
			ps, _, err := b.svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{Warnings: []domain.WarningLevel{level}, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(ps)) != n {
				t.Errorf("3-%d: the board counts %d %s, the list has %d", day, n, level, len(ps))
			}
			for _, p := range ps {
				if w := b.svc.Lifecycle.Warning(p); w != level {
					t.Errorf("3-%d: %s is %s in the list but %s itself", day, p.Title, level, w)
				}
			}
		}
		// Yellow on 3-18: P3 (its deadline 3-20 is near); on 3-21: P9 (behind its milestone), P3 being red.
		ps, _, err := b.svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningYellow}, Limit: 200})
		if want := map[int]string{18: "P3", 21: "P9"}[day]; err != nil || len(ps) != 1 || ps[0].Title != want || o.Warning.Yellow != 1 {
			t.Errorf("3-%d: yellow %d %v, want %s", day, o.Warning.Yellow, ps, want)
		}
	}
}
