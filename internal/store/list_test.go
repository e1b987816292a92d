package store_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// listFixture is a hand-built problem list on 2026-03-10 with yellow within 3 days.
type listFixture struct {
	db     *store.DB
	units  map[string]*app.Unit
	users  map[string]*app.User
	cats   map[string]*app.Category
	byName map[string]*domain.Problem
	names  map[int64]string
	all    []*domain.Problem
}

var today = domain.NewDate(2026, 3, 10)

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	db := storetest.Open(t)
	f := &listFixture{db: db, units: map[string]*app.Unit{}, users: map[string]*app.User{}, cats: map[string]*app.Category{},
		byName: map[string]*domain.Problem{}, names: map[int64]string{}}
	f.units["中心"] = mkUnit(t, db, "中心", 0)
	f.units["部门"] = mkUnit(t, db, "部门", f.units["中心"].ID)
	f.units["一班"] = mkUnit(t, db, "一班", f.units["部门"].ID)
	f.units["二班"] = mkUnit(t, db, "二班", f.units["部门"].ID)
	f.units["其他"] = mkUnit(t, db, "其他", f.units["中心"].ID)
	f.users["insp"] = mkUser(t, db, "insp", f.units["部门"].ID, domain.RoleInspector)
	f.users["owner1"] = mkUser(t, db, "owner1", f.units["一班"].ID, domain.RoleOwner)
	f.users["owner2"] = mkUser(t, db, "owner2", f.units["二班"].ID, domain.RoleOwner)
	// A root category whose path starts like category 1's: "/15/" must not match "/1/".
	extra := &app.Category{Code: "QT", Name: "其他", CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Categories.Create(t.Context(), extra) })
	f.cats["extra"] = extra
	yes, no := true, false
	d := func(day int) domain.Date { return domain.NewDate(2026, 3, day) }
	specs := []struct {
		name string
		p    domain.Problem
		unit string
		user string
	}{
		{"P1", domain.Problem{Title: "办公室卫生问题", Description: `路径 C:\temp 下`, CategoryID: 5, Severity: domain.SeverityGeneral,
			Source: domain.SourceInspection, Status: domain.StatusRegistered}, "一班", ""},
		{"P2", domain.Problem{Title: "会议迟到 100% 发生", CategoryID: 6, Severity: domain.SeveritySerious,
			Source: domain.SourceSpotCheck, Status: domain.StatusAssigned, Deadline: d(20)}, "一班", "owner1"},
		{"P3", domain.Problem{Title: "1000 次", CategoryID: 8, Severity: domain.SeverityCritical,
			Source: domain.SourceSelfCheck, Status: domain.StatusRectifying, Deadline: d(12)}, "二班", "owner2"},
		{"P4", domain.Problem{Title: "a_b 文件", CategoryID: 9, Source: domain.SourceSupervision,
			Status: domain.StatusSubmitted, Deadline: d(10)}, "二班", "owner2"},
		{"P5", domain.Problem{Title: "axb 文件", CategoryID: 5, Source: domain.SourceReport,
			Status: domain.StatusRectifying, Deadline: d(9)}, "部门", "owner1"},
		{"P6", domain.Problem{Title: "按时销号", CategoryID: 13, Status: domain.StatusClosed, Deadline: d(1),
			ClosedOnTime: &yes}, "一班", "owner1"},
		{"P7", domain.Problem{Title: "超期销号", CategoryID: 14, Status: domain.StatusClosed, Deadline: d(20),
			ClosedOnTime: &no}, "其他", "owner2"},
		{"P8", domain.Problem{Title: "不予立项", Description: "含有整改关键字", CategoryID: extra.ID,
			Status: domain.StatusDismissed}, "其他", ""},
		{"P9", domain.Problem{Title: "Percent%Sign", CategoryID: 10, Status: domain.StatusAssigned, Deadline: d(13)}, "其他", "owner1"},
		{"P10", domain.Problem{Title: "Wow! 50", CategoryID: 11, Status: domain.StatusRectifying, Deadline: d(14)}, "一班", "owner1"},
	}
	created := []time.Duration{0, time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 5 * time.Hour, 6 * time.Hour,
		7 * time.Hour, 7*time.Hour + 500*time.Millisecond, 8 * time.Hour}
	for i, s := range specs {
		p := s.p
		p.UnitID = f.units[s.unit].ID
		p.CreatedBy = f.users["insp"].ID
		p.CreatedAt = t0.Add(created[i])
		if s.user != "" {
			p.AssigneeID = f.users[s.user].ID
		}
		mkProblem(t, db, &p)
		got, err := db.Read().Problems.Get(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.byName[s.name] = got
		f.names[p.ID] = s.name
		f.all = append(f.all, got)
	}
	return f
}

func (f *listFixture) list(t *testing.T, q app.ProblemQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Today.IsZero() {
		q.Today, q.YellowDays = today, 3
	}
	if !q.Scope.All && q.Scope.UserID == 0 && q.Scope.UnitPath == "" {
		q.Scope.All = true
	}
	ps, err := f.db.Read().Problems.List(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for i, p := range ps {
		if i > 0 && p.ID >= ps[i-1].ID {
			t.Errorf("not newest first: %d after %d", p.ID, ps[i-1].ID)
		}
		out = append(out, f.names[p.ID])
	}
	slices.SortFunc(out, byNumber)
	return out
}

// byNumber orders "P2" before "P10".
func byNumber(a, b string) int {
	x, _ := strconv.Atoi(a[1:])
	y, _ := strconv.Atoi(b[1:])
	return x - y
}

func sorted(names ...string) []string {
	if names == nil {
		return []string{}
	}
	slices.SortFunc(names, byNumber)
	return names
}

func TestProblemListFilters(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	u, us, c := f.units, f.users, f.cats
	tr, fa := true, false
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	all := []string{"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10"}
	tests := []struct {
		name string
		q    app.ProblemQuery
		want []string
	}{
		{"everything", app.ProblemQuery{}, all},
		{"one status", app.ProblemQuery{Statuses: []domain.Status{domain.StatusRectifying}}, sorted("P3", "P5", "P10")},
		{"several statuses", app.ProblemQuery{Statuses: []domain.Status{domain.StatusClosed, domain.StatusDismissed}}, sorted("P6", "P7", "P8")},
		{"severity", app.ProblemQuery{Severities: []domain.Severity{domain.SeverityCritical}}, sorted("P3")},
		{"severities", app.ProblemQuery{Severities: []domain.Severity{domain.SeveritySerious, domain.SeverityCritical}}, sorted("P2", "P3")},
		{"source", app.ProblemQuery{Sources: []domain.Source{domain.SourceReport}}, sorted("P5")},
		{"sources", app.ProblemQuery{Sources: []domain.Source{domain.SourceSpotCheck, domain.SourceSupervision}}, sorted("P2", "P4")},
		{"unit subtree", app.ProblemQuery{UnitPath: u["部门"].Path}, sorted("P1", "P2", "P3", "P4", "P5", "P6", "P10")},
		{"leaf unit", app.ProblemQuery{UnitPath: u["二班"].Path}, sorted("P3", "P4")},
		{"root unit", app.ProblemQuery{UnitPath: u["中心"].Path}, all},
		{"category subtree", app.ProblemQuery{CategoryPath: "/1/"}, sorted("P1", "P2", "P5")},
		{"category subtree 2", app.ProblemQuery{CategoryPath: "/2/"}, sorted("P3", "P4", "P9")},
		{"category leaf", app.ProblemQuery{CategoryPath: "/1/5/"}, sorted("P1", "P5")},
		{"category with a longer id", app.ProblemQuery{CategoryPath: c["extra"].Path}, sorted("P8")},
		{"assignee", app.ProblemQuery{AssigneeID: us["owner2"].ID}, sorted("P3", "P4", "P7")},
		{"green", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningGreen}}, sorted("P2", "P6", "P10")},
		{"yellow", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningYellow}}, sorted("P3", "P4", "P9")},
		{"red", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningRed}}, sorted("P5", "P7")},
		{"yellow or red", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningYellow, domain.WarningRed}}, sorted("P3", "P4", "P5", "P7", "P9")},
		{"warning and status", app.ProblemQuery{Warnings: []domain.WarningLevel{domain.WarningGreen},
			Statuses: []domain.Status{domain.StatusClosed}}, sorted("P6")},
		{"overdue", app.ProblemQuery{Overdue: &tr}, sorted("P5")},
		{"not overdue", app.ProblemQuery{Overdue: &fa}, sorted("P1", "P2", "P3", "P4", "P6", "P7", "P8", "P9", "P10")},
		{"chinese text in title", app.ProblemQuery{Text: "卫生"}, sorted("P1")},
		{"chinese text in description", app.ProblemQuery{Text: "整改"}, sorted("P8")},
		{"percent is literal", app.ProblemQuery{Text: "100%"}, sorted("P2")},
		{"a lone percent", app.ProblemQuery{Text: "%"}, sorted("P2", "P9")},
		{"underscore is literal", app.ProblemQuery{Text: "a_b"}, sorted("P4")},
		{"a lone underscore", app.ProblemQuery{Text: "_"}, sorted("P4")},
		{"the escape character is literal", app.ProblemQuery{Text: "Wow!"}, sorted("P10")},
		{"a backslash is literal", app.ProblemQuery{Text: `C:\temp`}, sorted("P1")},
		{"code", app.ProblemQuery{Text: f.byName["P3"].Code}, sorted("P3")},
		{"no match", app.ProblemQuery{Text: "不存在的"}, sorted()},
		{"deadline range", app.ProblemQuery{DeadlineFrom: domain.NewDate(2026, 3, 10), DeadlineTo: domain.NewDate(2026, 3, 13)}, sorted("P3", "P4", "P9")},
		{"deadline from", app.ProblemQuery{DeadlineFrom: domain.NewDate(2026, 3, 14)}, sorted("P2", "P7", "P10")},
		{"deadline to", app.ProblemQuery{DeadlineTo: domain.NewDate(2026, 3, 9)}, sorted("P5", "P6")},
		{"created range, end exclusive", app.ProblemQuery{CreatedFrom: at(2 * time.Hour), CreatedTo: at(4 * time.Hour)}, sorted("P3", "P4")},
		{"created from, sub-second", app.ProblemQuery{CreatedFrom: at(7*time.Hour + 500*time.Millisecond)}, sorted("P9", "P10")},
		{"created from, just before", app.ProblemQuery{CreatedFrom: at(7*time.Hour + 499999*time.Microsecond)}, sorted("P9", "P10")},
		{"created from, just after", app.ProblemQuery{CreatedFrom: at(7*time.Hour + 500001*time.Microsecond)}, sorted("P10")},
		{"created to, sub-second", app.ProblemQuery{CreatedTo: at(7*time.Hour + 500*time.Millisecond)}, sorted("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8")},
		{"created in another zone", app.ProblemQuery{CreatedFrom: at(8 * time.Hour).In(time.FixedZone("CST", 8*3600))}, sorted("P10")},
		{"before id", app.ProblemQuery{BeforeID: f.byName["P4"].ID}, sorted("P1", "P2", "P3")},
		{"owner scope: unit subtree and own assignments", app.ProblemQuery{Scope: app.Scope{UserID: us["owner1"].ID, UnitPath: u["一班"].Path}},
			sorted("P1", "P2", "P5", "P6", "P9", "P10")},
		{"owner scope: parent unit", app.ProblemQuery{Scope: app.Scope{UserID: us["owner2"].ID, UnitPath: u["部门"].Path}},
			sorted("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P10")},
		{"assignments only", app.ProblemQuery{Scope: app.Scope{UserID: us["owner2"].ID}}, sorted("P3", "P4", "P7")},
		{"nothing in scope", app.ProblemQuery{Scope: app.Scope{UserID: us["insp"].ID}}, sorted()},
		{"scope and filters", app.ProblemQuery{Scope: app.Scope{UserID: us["owner1"].ID, UnitPath: u["一班"].Path},
			Statuses: []domain.Status{domain.StatusRectifying}, Text: "Wow"}, sorted("P10")},
	}
	for _, tt := range tests {
		if got := f.list(t, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The list's warning filter agrees with the domain's WarningLevel on every problem.
func TestProblemListWarningsMatchDomain(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	for _, day := range []domain.Date{today.AddDays(-10), today, today.AddDays(3), today.AddDays(30)} {
		for _, w := range []domain.WarningLevel{domain.WarningGreen, domain.WarningYellow, domain.WarningRed} {
			want := []string{}
			for _, p := range f.all {
				if p.Warning(day, 3) == w {
					want = append(want, f.names[p.ID])
				}
			}
			got := f.list(t, app.ProblemQuery{Warnings: []domain.WarningLevel{w}, Today: day, YellowDays: 3})
			if !slices.Equal(got, sorted(want...)) {
				t.Errorf("%s on %s: got %v, domain says %v", w, day, got, sorted(want...))
			}
		}
		wantOverdue := []string{}
		for _, p := range f.all {
			if p.Overdue(day) {
				wantOverdue = append(wantOverdue, f.names[p.ID])
			}
		}
		tr := true
		if got := f.list(t, app.ProblemQuery{Overdue: &tr, Today: day, YellowDays: 3}); !slices.Equal(got, sorted(wantOverdue...)) {
			t.Errorf("overdue on %s: got %v, domain says %v", day, got, sorted(wantOverdue...))
		}
	}
}

func TestProblemListPagination(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	var seen []int64
	before := int64(0)
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		ps, err := f.db.Read().Problems.List(t.Context(), app.ProblemQuery{Scope: app.Scope{All: true}, BeforeID: before, Limit: 3,
			Today: today, YellowDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		if len(ps) > 3 {
			t.Fatalf("page of %d", len(ps))
		}
		for _, p := range ps {
			seen = append(seen, p.ID)
		}
		before = ps[len(ps)-1].ID
	}
	if len(seen) != len(f.all) {
		t.Fatalf("pages hold %d problems, want %d", len(seen), len(f.all))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("pages overlap or are out of order: %v", seen)
		}
	}
	// Pagination under a filter.
	var names []string
	before = 0
	for {
		ps, err := f.db.Read().Problems.List(t.Context(), app.ProblemQuery{Scope: app.Scope{All: true}, BeforeID: before, Limit: 1,
			Statuses: []domain.Status{domain.StatusRectifying}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		names = append(names, f.names[ps[0].ID])
		before = ps[0].ID
	}
	if fmt.Sprint(names) != "[P10 P5 P3]" {
		t.Fatalf("filtered pages %v", names)
	}
}
