package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// listWorld is a random data set and everything a brute-force filter in Go
// needs to know about it.
type listWorld struct {
	db         *store.DB
	units      []*app.Unit
	unitPath   map[int64]string
	catPath    map[int64]string
	owners     []*app.User // owners: scope of their subtree and their assignments
	others     []*app.User // no owner role: their assignments only
	problems   []*domain.Problem
	behind     map[int64][]domain.Milestone
	today      domain.Date
	yellowDays int
}

var (
	listStatuses   = []domain.Status{domain.StatusRegistered, domain.StatusAssigned, domain.StatusRectifying, domain.StatusSubmitted, domain.StatusClosed, domain.StatusDismissed}
	listSeverities = []domain.Severity{domain.SeverityGeneral, domain.SeveritySerious, domain.SeverityCritical}
	listSources    = []domain.Source{domain.SourceSelfCheck, domain.SourceSpotCheck, domain.SourceInspection, domain.SourceSupervision, domain.SourceReport}
	listWords      = []string{"整改", "卫生", "纪律", "学习"}
	listASCII      = []string{"pump", "Valve", "leak-test", "pipe2"}
)

// newListWorld builds n problems over a unit tree of four levels, the seeded
// categories and two more levels under one of them, owners and other
// assignees, deadlines around today, milestones, and creation times over
// half a year, mostly in id order but a tenth of them anywhere (imported
// history), some at exact UTC and Shanghai midnights.
func newListWorld(t *testing.T, rng *rand.Rand, n int) *listWorld {
	t.Helper()
	db := storetest.Open(t)
	ctx := t.Context()
	w := &listWorld{db: db, unitPath: map[int64]string{}, catPath: map[int64]string{}, behind: map[int64][]domain.Milestone{},
		today: domain.NewDate(2026, 6, 15), yellowDays: 3}
	var grow func(parent int64, depth int)
	grow = func(parent int64, depth int) {
		kids := 1 + rng.IntN(3)
		if depth == 0 {
			kids = 2
		}
		for i := range kids {
			u := mkUnit(t, db, fmt.Sprintf("u%d-%d-%d", depth, parent, i), parent)
			w.units = append(w.units, u)
			w.unitPath[u.ID] = u.Path
			if depth < 3 && rng.IntN(3) > 0 {
				grow(u.ID, depth+1)
			}
		}
	}
	grow(0, 0)
	// Deeper categories: two levels under a leaf of the seed.
	sub := &app.Category{Code: "SXZZ-01-A", Name: "子类", ParentID: 5, CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Categories.Create(ctx, sub) })
	subsub := &app.Category{Code: "SXZZ-01-A-1", Name: "子子类", ParentID: sub.ID, CreatedAt: t0, UpdatedAt: t0}
	tx(t, db, func(r app.Repos) error { return r.Categories.Create(ctx, subsub) })
	cats, err := db.Read().Categories.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var catIDs []int64
	for _, c := range cats {
		w.catPath[c.ID] = c.Path
		catIDs = append(catIDs, c.ID)
	}
	inspector := mkUser(t, db, "insp", w.units[0].ID, domain.RoleInspector)
	for i := range 6 {
		u := w.units[rng.IntN(len(w.units))]
		w.owners = append(w.owners, mkUser(t, db, fmt.Sprintf("owner%d", i), u.ID, domain.RoleOwner))
	}
	for i := range 2 {
		w.others = append(w.others, mkUser(t, db, fmt.Sprintf("other%d", i), w.units[rng.IntN(len(w.units))].ID, domain.RoleVerifier))
	}
	assignees := append(slices.Clone(w.owners), w.others...)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	span := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC).Sub(start)
	const batch = 250
	for done := 0; done < n; done += batch {
		ps := make([]*domain.Problem, 0, batch)
		for i := done; i < min(n, done+batch); i++ {
			created := start.Add(time.Duration(float64(span) * float64(i) / float64(n))).Add(time.Duration(rng.IntN(7200)) * time.Second)
			switch rng.IntN(20) {
			case 0, 1: // history brought in later
				created = start.Add(time.Duration(rng.Int64N(int64(span))))
			case 2: // midnight in UTC or in Shanghai
				d := start.AddDate(0, 0, rng.IntN(165))
				created = d.Add(time.Duration(rng.IntN(2)*16) * time.Hour)
			}
			created = created.Truncate(time.Second)
			p := &domain.Problem{
				Title:       fmt.Sprintf("问题%d%s", i, listWords[rng.IntN(len(listWords))]),
				Description: "说明" + listWords[rng.IntN(len(listWords))] + " " + listASCII[rng.IntN(len(listASCII))],
				CategoryID:  catIDs[rng.IntN(len(catIDs))], Severity: listSeverities[rng.IntN(3)], Source: listSources[rng.IntN(5)],
				UnitID: w.units[rng.IntN(len(w.units))].ID, FoundAt: domain.DateOf(created, time.UTC),
				Status: listStatuses[rng.IntN(len(listStatuses))], Version: 1, CreatedBy: inspector.ID, CreatedAt: created, UpdatedAt: created,
			}
			p.Code = fmt.Sprintf("WT-%d-%06d", created.Year(), i+1)
			if p.Status != domain.StatusRegistered && rng.IntN(8) > 0 {
				p.AssigneeID = assignees[rng.IntN(len(assignees))].ID
			}
			if p.Status != domain.StatusRegistered && p.Status != domain.StatusDismissed || rng.IntN(6) == 0 {
				p.Deadline = w.today.AddDays(rng.IntN(41) - 20)
			}
			if p.Status == domain.StatusClosed && rng.IntN(5) > 0 {
				onTime := rng.IntN(2) == 0
				p.ClosedOnTime = &onTime
			}
			ps = append(ps, p)
		}
		tx(t, db, func(r app.Repos) error {
			for _, p := range ps {
				if err := r.Problems.Create(ctx, p); err != nil {
					return err
				}
				if rng.IntN(6) == 0 {
					var ms []domain.Milestone
					for range 1 + rng.IntN(3) {
						ms = append(ms, domain.Milestone{Due: w.today.AddDays(rng.IntN(21) - 10), Title: "节点", Done: rng.IntN(2) == 0})
					}
					if err := r.Milestones.Save(ctx, p.ID, ms, p.CreatedAt); err != nil {
						return err
					}
					w.behind[p.ID] = ms
				}
			}
			return nil
		})
		w.problems = append(w.problems, ps...)
	}
	return w
}

func (w *listWorld) behindSchedule(p *domain.Problem, today domain.Date) bool {
	for _, m := range w.behind[p.ID] {
		if !m.Done && m.Due.Before(today) {
			return true
		}
	}
	return false
}

// passes is the filter in Go, condition by condition as the SQL has it
// (a comparison with a missing deadline or closed_on_time is false).
func (w *listWorld) passes(p *domain.Problem, q app.ProblemQuery) bool {
	open := p.Status == domain.StatusAssigned || p.Status == domain.StatusRectifying || p.Status == domain.StatusSubmitted
	hasDeadline := !p.Deadline.IsZero()
	dl := p.Deadline.String()
	today, yellowEnd := q.Today.String(), q.Today.AddDays(q.YellowDays).String()
	switch {
	case q.Scope.All:
	case q.Scope.UnitPath != "":
		if p.AssigneeID != q.Scope.UserID && !strings.HasPrefix(w.unitPath[p.UnitID], q.Scope.UnitPath) {
			return false
		}
	default:
		if p.AssigneeID != q.Scope.UserID {
			return false
		}
	}
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, p.Status) {
		return false
	}
	if q.CategoryPath != "" && !strings.HasPrefix(w.catPath[p.CategoryID], q.CategoryPath) {
		return false
	}
	if len(q.Severities) > 0 && !slices.Contains(q.Severities, p.Severity) {
		return false
	}
	if len(q.Sources) > 0 && !slices.Contains(q.Sources, p.Source) {
		return false
	}
	if q.UnitPath != "" && !strings.HasPrefix(w.unitPath[p.UnitID], q.UnitPath) {
		return false
	}
	if q.AssigneeID > 0 && p.AssigneeID != q.AssigneeID {
		return false
	}
	if len(q.Warnings) > 0 {
		closedLate := p.Status == domain.StatusClosed && p.ClosedOnTime != nil && !*p.ClosedOnTime
		closedOnTime := p.Status == domain.StatusClosed && p.ClosedOnTime != nil && *p.ClosedOnTime
		behind := w.behindSchedule(p, q.Today)
		hit := false
		for _, lvl := range q.Warnings {
			switch lvl {
			case domain.WarningRed:
				hit = hit || open && hasDeadline && dl < today || closedLate
			case domain.WarningYellow:
				hit = hit || open && hasDeadline && dl >= today && (dl <= yellowEnd || behind)
			case domain.WarningGreen:
				hit = hit || open && hasDeadline && dl > yellowEnd && !behind || closedOnTime
			}
		}
		if !hit {
			return false
		}
	}
	if q.Overdue != nil {
		overdue := open && hasDeadline && dl < today
		if overdue != *q.Overdue {
			return false
		}
	}
	if q.Text != "" && !strings.Contains(p.Title, q.Text) && !strings.Contains(p.Description, q.Text) && !strings.Contains(p.Code, q.Text) {
		return false
	}
	if !q.DeadlineFrom.IsZero() && (!hasDeadline || dl < q.DeadlineFrom.String()) {
		return false
	}
	if !q.DeadlineTo.IsZero() && (!hasDeadline || dl > q.DeadlineTo.String()) {
		return false
	}
	if !q.CreatedFrom.IsZero() && p.CreatedAt.Before(q.CreatedFrom) {
		return false
	}
	if !q.CreatedTo.IsZero() && !p.CreatedAt.Before(q.CreatedTo) {
		return false
	}
	return q.BeforeID == 0 || p.ID < q.BeforeID
}

// page is the brute-force answer: the limit largest ids that pass q.
func (w *listWorld) page(q app.ProblemQuery) []int64 {
	var out []int64
	for _, p := range w.problems {
		if w.passes(p, q) {
			out = append(out, p.ID)
		}
	}
	slices.SortFunc(out, func(a, b int64) int { return int(b - a) })
	return out[:min(len(out), q.Limit)]
}

// randomText draws a text search: a Chinese word or character, an ASCII
// word or a piece of one, a code or a piece of one, a title's number, or a
// text no problem has.
func (w *listWorld) randomText(rng *rand.Rand) string {
	code := w.problems[rng.IntN(len(w.problems))].Code // WT-2026-000123
	switch rng.IntN(10) {
	case 0:
		return []string{"题", "说", "改"}[rng.IntN(3)]
	case 1:
		return listASCII[rng.IntN(len(listASCII))]
	case 2:
		return []string{"ump", "alve", "Val", "k-te", "e2", "pipe2 ", "明纪"}[rng.IntN(7)]
	case 3:
		return code
	case 4:
		return code[8:]
	case 5:
		return code[3+rng.IntN(5) : 9+rng.IntN(5)]
	case 6:
		return fmt.Sprintf("问题%d", rng.IntN(len(w.problems)))
	case 7:
		return []string{"不存在", "zzqx", "WT-1999", "整改 pump"}[rng.IntN(4)]
	}
	return listWords[rng.IntN(len(listWords))]
}

// randomQuery draws a scope and any combination of the filters.
func (w *listWorld) randomQuery(rng *rand.Rand) app.ProblemQuery {
	q := app.ProblemQuery{Today: w.today.AddDays(rng.IntN(11) - 5), YellowDays: 1 + rng.IntN(5), Limit: 1 + rng.IntN(60)}
	switch rng.IntN(4) {
	case 0, 1:
		q.Scope.All = true
	case 2:
		o := w.owners[rng.IntN(len(w.owners))]
		q.Scope = app.Scope{UserID: o.ID, UnitPath: w.unitPath[o.UnitID]}
	default:
		u := append(slices.Clone(w.owners), w.others...)[rng.IntN(len(w.owners)+len(w.others))]
		q.Scope = app.Scope{UserID: u.ID}
	}
	some := func() bool { return rng.IntN(4) == 0 }
	if some() {
		for range 1 + rng.IntN(3) {
			q.Statuses = append(q.Statuses, listStatuses[rng.IntN(len(listStatuses))])
		}
	}
	if some() {
		paths := make([]string, 0, len(w.catPath))
		for _, p := range w.catPath {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		q.CategoryPath = paths[rng.IntN(len(paths))]
	}
	if some() {
		q.Severities = append(q.Severities, listSeverities[rng.IntN(3)])
		if rng.IntN(2) == 0 {
			q.Severities = append(q.Severities, listSeverities[rng.IntN(3)])
		}
	}
	if rng.IntN(8) == 0 {
		q.Sources = append(q.Sources, listSources[rng.IntN(5)], listSources[rng.IntN(5)])
	}
	if some() {
		q.UnitPath = w.unitPath[w.units[rng.IntN(len(w.units))].ID]
	}
	if rng.IntN(8) == 0 {
		all := append(slices.Clone(w.owners), w.others...)
		q.AssigneeID = all[rng.IntN(len(all))].ID
	}
	if some() {
		levels := []domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen}
		for range 1 + rng.IntN(2) {
			q.Warnings = append(q.Warnings, levels[rng.IntN(3)])
		}
	}
	if some() {
		b := rng.IntN(2) == 0
		q.Overdue = &b
	}
	if rng.IntN(6) == 0 {
		q.Text = w.randomText(rng)
	}
	if rng.IntN(10) == 0 {
		q.DeadlineFrom = w.today.AddDays(rng.IntN(30) - 20)
	}
	if rng.IntN(10) == 0 {
		q.DeadlineTo = w.today.AddDays(rng.IntN(30) - 10)
	}
	if rng.IntN(3) == 0 {
		shanghai := time.FixedZone("CST", 8*3600)
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, shanghai).AddDate(0, 0, rng.IntN(170))
		switch rng.IntN(5) {
		case 0: // a month, as the load tool asks
			q.CreatedFrom, q.CreatedTo = from, from.AddDate(0, 1, 0)
		case 1: // a day in UTC
			d := from.UTC().Truncate(24 * time.Hour)
			q.CreatedFrom, q.CreatedTo = d, d.Add(24*time.Hour)
		case 2: // any instants, a few days apart
			q.CreatedFrom = from.Add(time.Duration(rng.IntN(86400)) * time.Second)
			q.CreatedTo = q.CreatedFrom.Add(time.Duration(rng.IntN(5*86400)) * time.Second)
		case 3: // longer than the bounded days
			q.CreatedFrom, q.CreatedTo = from.AddDate(0, -3, 0), from
		default: // one end only
			if rng.IntN(2) == 0 {
				q.CreatedFrom = from
			} else {
				q.CreatedTo = from
			}
		}
	}
	return q
}

// Every page of the list, through the cursor, is the brute-force page of
// the same rows: random data, random filters and scopes.
func TestProblemListMatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 2026))
	w := newListWorld(t, rng, 1500/listScale)
	ctx := t.Context()
	queries, pages, rows := 0, 0, 0
	for range 250 / listScale {
		q := w.randomQuery(rng)
		queries++
		for page := 0; page < 8; page++ {
			got, err := w.db.Read().Problems.List(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			gotIDs := make([]int64, len(got))
			for i, p := range got {
				gotIDs[i] = p.ID
			}
			want := w.page(q)
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("page %d of %+v:\n got  %v\n want %v", page, q, gotIDs, want)
			}
			pages++
			rows += len(got)
			if len(got) < q.Limit {
				break
			}
			q.BeforeID = got[len(got)-1].ID
		}
	}
	t.Logf("%d queries, %d pages, %d rows compared", queries, pages, rows)
}

// Every plan the list could choose is exact, not only the one its guesses
// choose on this data: the filter walked as one or as the owner's two
// sides, each side by every index its values allow.
func TestProblemListEveryPlanMatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 2026))
	w := newListWorld(t, rng, 800/listScale)
	plans := 0
	for range 300 / listScale {
		q := w.randomQuery(rng)
		if rng.IntN(2) == 0 { // a later page
			if first := w.page(q); len(first) > 0 {
				q.BeforeID = first[len(first)-1]
			}
		}
		got, err := store.ListEveryPlan(t.Context(), w.db, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		want := w.page(q)
		for name, ids := range got {
			if ids == nil {
				ids = []int64{}
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("plan %s for %+v:\n got  %v\n want %v", name, q, ids, want)
			}
		}
		plans += len(got)
	}
	t.Logf("%d plans compared", plans)
}

// The shapes the plan has special cases for, on the same random data: every
// status, the owner's scope with each filter, subtrees from the root down,
// each warning alone, created ranges of one day and of a month.
func TestProblemListShapesMatchBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 2026))
	w := newListWorld(t, rng, 1200/listScale)
	ctx := t.Context()
	var qs []app.ProblemQuery
	scopes := []app.Scope{{All: true}, {UserID: w.owners[0].ID}}
	for _, o := range w.owners[:3] {
		scopes = append(scopes, app.Scope{UserID: o.ID, UnitPath: w.unitPath[o.UnitID]})
	}
	tr, fa := true, false
	for _, s := range scopes {
		base := app.ProblemQuery{Scope: s, Today: w.today, YellowDays: 3, Limit: 7}
		for _, st := range listStatuses {
			q := base
			q.Statuses = []domain.Status{st}
			qs = append(qs, q)
		}
		for i, u := range w.units {
			if i%listScale != 0 {
				continue
			}
			q := base
			q.UnitPath = w.unitPath[u.ID]
			qs = append(qs, q)
			q.Statuses = []domain.Status{domain.StatusRectifying}
			qs = append(qs, q)
		}
		for _, c := range []string{"/1/", "/1/5/", "/2/", "/4/14/"} {
			q := base
			q.CategoryPath = c
			qs = append(qs, q)
		}
		for _, lvl := range []domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen} {
			q := base
			q.Warnings = []domain.WarningLevel{lvl}
			qs = append(qs, q)
		}
		for _, o := range []*bool{&tr, &fa} {
			q := base
			q.Overdue = o
			qs = append(qs, q)
		}
		for _, days := range [][2]int{{0, 0}, {-3, 3}, {-20, -14}, {-10, 20}, {5, 4}} { // a day, a week, weeks, an empty range
			q := base
			q.DeadlineFrom, q.DeadlineTo = w.today.AddDays(days[0]), w.today.AddDays(days[1])
			qs = append(qs, q)
			q.Statuses = []domain.Status{domain.StatusRectifying, domain.StatusClosed}
			qs = append(qs, q)
			q.Statuses, q.UnitPath = nil, w.unitPath[w.units[0].ID]
			qs = append(qs, q)
		}
		for m := 1; m <= 6; m++ {
			q := base
			q.CreatedFrom = time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
			q.CreatedTo = q.CreatedFrom.AddDate(0, 1, 0)
			qs = append(qs, q)
			q.CreatedFrom = time.Date(2026, time.Month(m), 10, 0, 0, 0, 0, time.UTC)
			q.CreatedTo = q.CreatedFrom.AddDate(0, 0, 1)
			qs = append(qs, q)
		}
	}
	for i, q := range qs {
		if i%listScale != 0 {
			continue
		}
		for page := 0; page < 5; page++ {
			got, err := w.db.Read().Problems.List(ctx, q)
			if err != nil {
				t.Fatalf("%+v: %v", q, err)
			}
			gotIDs := make([]int64, len(got))
			for i, p := range got {
				gotIDs[i] = p.ID
			}
			want := w.page(q)
			if !slices.Equal(gotIDs, want) {
				t.Fatalf("page %d of %+v:\n got  %v\n want %v", page, q, gotIDs, want)
			}
			if !q.DeadlineFrom.IsZero() { // every plan of a deadline range, the day-by-day walks among them
				every, err := store.ListEveryPlan(ctx, w.db, q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				for name, ids := range every {
					if len(ids) == 0 && len(want) == 0 {
						continue
					}
					if !slices.Equal(ids, want) {
						t.Fatalf("plan %s, page %d of %+v:\n got  %v\n want %v", name, page, q, ids, want)
					}
				}
			}
			if len(got) < q.Limit {
				break
			}
			q.BeforeID = got[len(got)-1].ID
		}
	}
}

// Moving a unit under another parent moves its problems' rows between the
// old and the new parent's subtree lists, and the owner's scope follows.
func TestProblemListFollowsUnitMoves(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 2026))
	w := newListWorld(t, rng, 600/listScale)
	ctx := t.Context()
	check := func(when string) {
		t.Helper()
		for _, u := range w.units {
			for _, s := range []app.Scope{{All: true}, {UserID: w.owners[0].ID, UnitPath: w.unitPath[w.owners[0].UnitID]}} {
				q := app.ProblemQuery{Scope: s, UnitPath: w.unitPath[u.ID], Today: w.today, YellowDays: 3, Limit: 1000}
				got, err := w.db.Read().Problems.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				gotIDs := make([]int64, len(got))
				for i, p := range got {
					gotIDs[i] = p.ID
					if p.UnitPath != w.unitPath[p.UnitID] {
						t.Fatalf("%s: problem %d has unit path %s, its unit %s", when, p.ID, p.UnitPath, w.unitPath[p.UnitID])
					}
				}
				if want := w.page(q); !slices.Equal(gotIDs, want) {
					t.Fatalf("%s: subtree %s, scope %+v:\n got  %v\n want %v", when, q.UnitPath, s, gotIDs, want)
				}
			}
		}
	}
	check("before the moves")
	for i := range 4 {
		// A unit with a subtree moves under a unit outside it.
		var mover, target *app.Unit
		for mover == nil || target == nil || strings.HasPrefix(w.unitPath[target.ID], w.unitPath[mover.ID]) || mover.ParentID == target.ID {
			mover, target = w.units[rng.IntN(len(w.units))], w.units[rng.IntN(len(w.units))]
		}
		mover.ParentID, mover.UpdatedAt = target.ID, t0.Add(time.Duration(i+1)*time.Hour)
		tx(t, w.db, func(r app.Repos) error { return r.Units.Update(ctx, mover) })
		units, err := w.db.Read().Units.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range units {
			w.unitPath[u.ID] = u.Path
		}
		for _, o := range w.owners {
			o.UnitPath = w.unitPath[o.UnitID]
		}
		check(fmt.Sprintf("after move %d", i+1))
	}
}
