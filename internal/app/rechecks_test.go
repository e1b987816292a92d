package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

// closeProblem registers a problem of the severity in 一班 and walks it to
// closed: assigned to owner1, submitted with a photo, passed by verifier.
func closeProblem(t testing.TB, e *apptest.Env, sev domain.Severity) *domain.Problem {
	t.Helper()
	return closeProblemFor(t, e, sev, "owner1")
}

func closeProblemFor(t testing.TB, e *apptest.Env, sev domain.Severity, owner string) *domain.Problem {
	t.Helper()
	ctx := t.Context()
	p, err := e.Svc.Lifecycle.Register(ctx, e.Caller("inspector"), app.ProblemInput{Title: "台账不全 " + string(sev), Description: "描述",
		CategoryID: 5, Severity: sev, Source: domain.SourceInspection, UnitID: e.Units["一班"].ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users[owner].ID, Measures: "补齐台账"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller(owner), p.ID, 0, "签收"); err != nil {
		t.Fatal(err)
	}
	photo, err := e.Svc.Evidence.Upload(ctx, e.Caller(owner), "整改后.txt", strings.NewReader("整改后的台账照片说明"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.SubmitFix(ctx, e.Caller(owner), p.ID, 0, app.SubmitInput{Note: "已补齐", AttachmentIDs: []int64{photo.ID}}); err != nil {
		t.Fatal(err)
	}
	if p, err = e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, 0, true, "验收通过"); err != nil {
		t.Fatal(err)
	}
	return p
}

func rechecksOf(t testing.TB, e *apptest.Env, user string, f app.RecheckFilter) []*app.Recheck {
	t.Helper()
	rs, _, err := e.Svc.Lifecycle.Rechecks(t.Context(), e.Caller(user), f)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestClosingSchedulesRechecksBySeverity(t *testing.T) {
	e := apptest.New(t)
	today := e.Svc.Core.Today()
	general := closeProblem(t, e, domain.SeverityGeneral)
	serious := closeProblem(t, e, domain.SeveritySerious)
	critical := closeProblem(t, e, domain.SeverityCritical)
	all := rechecksOf(t, e, "verifier", app.RecheckFilter{})
	var got []string
	for _, rc := range all {
		got = append(got, rc.Problem.Code+"+"+rc.DueOn.String())
		if rc.Status != app.RecheckPending || rc.Problem.Status != domain.StatusClosed {
			t.Errorf("re-check %d: %s, problem %s", rc.ID, rc.Status, rc.Problem.Status)
		}
	}
	want := []string{serious.Code + "+" + today.AddDays(30).String(), critical.Code + "+" + today.AddDays(30).String(),
		critical.Code + "+" + today.AddDays(90).String()}
	if !slices.Equal(got, want) {
		t.Fatalf("re-checks %v, want %v", got, want)
	}
	if rs := rechecksOf(t, e, "verifier", app.RecheckFilter{ProblemID: general.ID}); len(rs) != 0 {
		t.Errorf("a general problem got re-checks: %d", len(rs))
	}
	if rs := rechecksOf(t, e, "verifier", app.RecheckFilter{DueBy: today, Statuses: []app.RecheckStatus{app.RecheckPending}}); len(rs) != 0 {
		t.Errorf("%d re-checks due today, want none", len(rs))
	}
	if rs := rechecksOf(t, e, "verifier", app.RecheckFilter{DueBy: today.AddDays(30)}); len(rs) != 2 {
		t.Errorf("%d re-checks due in 30 days, want 2", len(rs))
	}
	// Paging follows (due date, id).
	page, more, err := e.Svc.Lifecycle.Rechecks(t.Context(), e.Caller("verifier"), app.RecheckFilter{Limit: 2})
	if err != nil || len(page) != 2 || !more {
		t.Fatalf("first page: %d, more %v, %v", len(page), more, err)
	}
	last := page[1]
	rest, more, err := e.Svc.Lifecycle.Rechecks(t.Context(), e.Caller("verifier"),
		app.RecheckFilter{Limit: 2, After: app.RecheckCursor{DueOn: last.DueOn, ID: last.ID}})
	if err != nil || len(rest) != 1 || more || rest[0].DueOn != today.AddDays(90) {
		t.Fatalf("second page: %d, more %v, %v", len(rest), more, err)
	}
	// Scope: owner2 of 二班 sees none of 一班's.
	if rs := rechecksOf(t, e, "owner2", app.RecheckFilter{}); len(rs) != 0 {
		t.Errorf("owner2 sees %d re-checks of another unit", len(rs))
	}
	if rs := rechecksOf(t, e, "owner1", app.RecheckFilter{}); len(rs) != 3 {
		t.Errorf("owner1 sees %d re-checks of its own problems, want 3", len(rs))
	}

	// The day they fall due, the scheduler reminds the working group once.
	e.Clock.Advance(days(30))
	if rep := tick(t, e.Svc, "a"); rep.Reminded != 2 {
		t.Fatalf("reminded %d, want 2", rep.Reminded)
	}
	if rep := tick(t, e.Svc, "a"); rep.Reminded != 0 {
		t.Fatalf("reminded %d again", rep.Reminded)
	}
	if got := kindsOf(inbox(t, e, "verifier2").Items); !slices.Equal(got, []string{app.EventSubmitted, app.EventSubmitted, app.EventSubmitted, app.EventRecheckDue, app.EventRecheckDue}) {
		t.Errorf("verifier2 told %v", got)
	}
}

func TestRecordingARecheck(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := closeProblem(t, e, domain.SeverityCritical)
	rs := rechecksOf(t, e, "verifier", app.RecheckFilter{ProblemID: p.ID})
	if len(rs) != 2 {
		t.Fatalf("%d re-checks", len(rs))
	}
	first, second := rs[0], rs[1]
	e.Clock.Advance(days(30))

	refusals := []struct {
		who  string
		in   app.RecheckInput
		want error
	}{
		{"owner1", app.RecheckInput{Result: app.ResultHolds, Note: "好"}, domain.ErrForbidden},
		{"inspector", app.RecheckInput{Result: app.ResultHolds, Note: "好"}, domain.ErrForbidden},
		{"verifier", app.RecheckInput{Result: "maybe", Note: "好"}, nil},
		{"verifier", app.RecheckInput{Result: app.ResultHolds}, nil},
		{"verifier", app.RecheckInput{Result: app.ResultRelapsed, Note: "又出现"}, nil},
		{"verifier", app.RecheckInput{Result: app.ResultHolds, Note: "好", Deadline: e.Svc.Core.Today().AddDays(9)}, nil},
	}
	for _, x := range refusals {
		_, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller(x.who), first.ID, x.in)
		var v *domain.ValidationError
		switch {
		case x.want != nil && !errors.Is(err, x.want):
			t.Errorf("%s %+v: %v, want %v", x.who, x.in, err, x.want)
		case x.want == nil && !errors.As(err, &v):
			t.Errorf("%s %+v: %v, want a validation error", x.who, x.in, err)
		}
	}
	// A relapse's note becomes the reopening's reason: its limit is the reason's, named as the note.
	_, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), first.ID, app.RecheckInput{Result: app.ResultRelapsed,
		Note: strings.Repeat("反", domain.MaxReason+1), Deadline: e.Svc.Core.Today().AddDays(9)})
	var long *domain.ValidationError
	if !errors.As(err, &long) || len(long.Fields) != 1 || long.Fields[0].Field != "note" {
		t.Errorf("a relapse note over %d characters: %v", domain.MaxReason, err)
	}
	if _, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), 99999, app.RecheckInput{Result: app.ResultHolds, Note: "好"}); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown re-check: %v", err)
	}

	res, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier2"), first.ID, app.RecheckInput{Result: app.ResultHolds, Note: "台账完整，未反弹"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Recheck.Status != app.RecheckHeld || res.Recheck.CheckedBy != e.Users["verifier2"].ID || res.Problem.Status != domain.StatusClosed ||
		res.Problem.Version != p.Version {
		t.Fatalf("held: %+v, problem %s v%d", res.Recheck, res.Problem.Status, res.Problem.Version)
	}
	if _, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), first.ID, app.RecheckInput{Result: app.ResultHolds, Note: "再记"}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("recording twice: %v", err)
	}

	e.Clock.Advance(days(60))
	deadline := e.Svc.Core.Today().AddDays(15)
	res, err = e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), second.ID, app.RecheckInput{Result: app.ResultRelapsed, Note: "台账又缺三个月", Deadline: deadline})
	if err != nil {
		t.Fatal(err)
	}
	q := load(t, e, p.ID)
	if res.Recheck.Problem.Status != domain.StatusRectifying || res.Recheck.Problem.Deadline != deadline {
		t.Errorf("the answer's summary of the problem is stale: %s %s", res.Recheck.Problem.Status, res.Recheck.Problem.Deadline)
	}
	if res.Recheck.Status != app.RecheckRelapsed || q.Status != domain.StatusRectifying || q.ReopenCount != 1 || q.Deadline != deadline || q.Version != p.Version+1 {
		t.Fatalf("relapsed: re-check %s, problem %s reopen %d deadline %s v%d", res.Recheck.Status, q.Status, q.ReopenCount, q.Deadline, q.Version)
	}
	es := problemEntries(t, e, p.ID)
	tail := es[len(es)-2:]
	if tail[0].Action != app.ActionRecheck || !strings.Contains(tail[0].Changes, `"result":"relapsed"`) ||
		tail[1].Action != string(domain.ActionReopen) || !strings.Contains(tail[1].Changes, `"recheck_id":`) ||
		tail[1].FromState != "closed" || tail[1].ToState != "rectifying" {
		t.Fatalf("audit tail: %s %s / %s %s %s→%s", tail[0].Action, tail[0].Changes, tail[1].Action, tail[1].Changes, tail[1].FromState, tail[1].ToState)
	}
	for _, who := range []string{"owner1", "leader", "verifier2"} {
		if got := kindsOf(inbox(t, e, who).Items); got[len(got)-1] != app.EventRelapsed {
			t.Errorf("%s not told of the relapse: %v", who, got)
		}
	}
	// A refused attempt is on the problem's trail.
	refused := 0
	for _, x := range es {
		if x.Action == app.ActionRecheck && x.Outcome == "refused" {
			refused++
		}
	}
	if refused != len(refusals)+2 {
		t.Errorf("%d refused re-checks audited, want %d", refused, len(refusals)+2)
	}

	// The relapse rate reaches the board: one held, one relapsed.
	o, err := e.Svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{})
	if err != nil {
		t.Fatal(err)
	}
	if o.RecheckHeld != 1 || o.RecheckRelapsed != 1 || o.RelapseRate == nil || *o.RelapseRate != 0.5 {
		t.Errorf("board: held %d relapsed %d rate %v", o.RecheckHeld, o.RecheckRelapsed, o.RelapseRate)
	}
	mustVerifyOK(t, e)
}

func TestReopeningCancelsPendingRechecks(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := closeProblem(t, e, domain.SeverityCritical)
	if _, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), p.ID, 0, "群众反映仍存在", e.Svc.Core.Today().AddDays(7)); err != nil {
		t.Fatal(err)
	}
	rs := rechecksOf(t, e, "verifier", app.RecheckFilter{ProblemID: p.ID})
	if len(rs) != 2 || rs[0].Status != app.RecheckCancelled || rs[1].Status != app.RecheckCancelled {
		t.Fatalf("after reopening: %+v", rs)
	}
	if _, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), rs[0].ID, app.RecheckInput{Result: app.ResultHolds, Note: "好"}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("recording a cancelled re-check: %v", err)
	}
	e.Clock.Advance(days(40))
	if rep := tick(t, e.Svc, "a"); rep.Reminded != 0 {
		t.Errorf("reminded %d cancelled re-checks", rep.Reminded)
	}
	// The four-eyes rule: the assignee who is also a verifier may not re-check it.
	q := closeProblemFor(t, e, domain.SeveritySerious, "ownerverifier")
	rs = rechecksOf(t, e, "verifier", app.RecheckFilter{ProblemID: q.ID})
	_, err := e.Svc.Lifecycle.RecordRecheck(ctx, e.Caller("ownerverifier"), rs[0].ID, app.RecheckInput{Result: app.ResultHolds, Note: "好"})
	var f *domain.ForbiddenError
	if !errors.As(err, &f) || f.Code != "four_eyes" {
		t.Errorf("the assignee re-checked their own fix: %v", err)
	}
}
