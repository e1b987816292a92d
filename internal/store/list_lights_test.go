package store_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
)

// checkLights compares every row's light with domain.Problem.Warning on day
// with yellowDays, the problem's milestones included, and asks that the
// lights be ready for that day.
func (w *listWorld) checkLights(t *testing.T, day domain.Date, yellowDays int) {
	t.Helper()
	lights, ready, err := store.Lights(t.Context(), w.db, day.String(), yellowDays)
	if err != nil {
		t.Fatal(err)
	}
	if !ready {
		t.Fatalf("lights not ready for %s, %d yellow days", day, yellowDays)
	}
	for _, p := range w.problems {
		q := *p
		q.Milestones = w.behind[p.ID]
		if want := string(q.Warning(day, yellowDays)); lights[p.ID] != want {
			t.Fatalf("%s, %d yellow days: problem %d (%s, deadline %s, closed on time %v, milestones %+v) has light %q, want %q",
				day, yellowDays, p.ID, p.Status, p.Deadline, p.ClosedOnTime, q.Milestones, lights[p.ID], want)
		}
	}
}

// checkLightLists compares the warning and overdue pages of day, in every
// scope and through every plan, with the brute force.
func (w *listWorld) checkLightLists(t *testing.T, rng *rand.Rand, day domain.Date, yellowDays int) {
	t.Helper()
	ctx := t.Context()
	tr := true
	levels := []domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen}
	for range 12 {
		q := w.randomQuery(rng)
		q.Today, q.YellowDays, q.Text = day, yellowDays, ""
		q.Warnings, q.Overdue = nil, nil
		if rng.IntN(3) == 0 {
			q.Overdue = &tr
		} else {
			q.Warnings = []domain.WarningLevel{levels[rng.IntN(3)]}
			if rng.IntN(3) == 0 {
				q.Warnings = append(q.Warnings, levels[rng.IntN(3)])
			}
		}
		if rng.IntN(2) == 0 { // the plain shapes the load tool asks for
			q = app.ProblemQuery{Scope: q.Scope, Warnings: q.Warnings, Overdue: q.Overdue, Today: day, YellowDays: yellowDays, Limit: q.Limit}
		}
		want := w.page(q)
		got, err := w.db.Read().Problems.List(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		gotIDs := make([]int64, len(got))
		for i, p := range got {
			gotIDs[i] = p.ID
		}
		if !slices.Equal(gotIDs, want) {
			t.Fatalf("%+v:\n got  %v\n want %v", q, gotIDs, want)
		}
		every, err := store.ListEveryPlan(ctx, w.db, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		for name, ids := range every {
			if ids == nil {
				ids = []int64{}
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("plan %s for %+v:\n got  %v\n want %v", name, q, ids, want)
			}
		}
		// The column serves the page (unless no row can pass).
		stmt, _, err := store.ListStatement(ctx, w.db, q)
		if err != nil {
			t.Fatal(err)
		}
		if stmt != "" && !strings.Contains(stmt, "p.light") {
			t.Fatalf("%+v does not read the lights: %s", q, stmt)
		}
	}
}

// The lights follow the definition as the clock moves across deadlines and
// milestones and the scheduler's pass runs (KeepLights: day by day, across a
// few days, back, with other yellow days), and as writes change what a light
// depends on; the warning and overdue lists they serve match the brute force.
func TestProblemLightsFollowTheClock(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(21, 2026))
	w := newListWorld(t, rng, 700/listScale)
	ctx := t.Context()
	keep := func(day domain.Date, yellowDays int) {
		t.Helper()
		if err := w.db.KeepLights(ctx, day, yellowDays); err != nil {
			t.Fatal(err)
		}
		w.checkLights(t, day, yellowDays)
		w.checkLightLists(t, rng, day, yellowDays)
	}
	y := 3
	days := []int{-12, -11, -10, -9, -7, -6, -3, 0, 1, 2, 3, 5, 9, 4, 10, 30}
	for i, d := range days {
		day := w.today.AddDays(d)
		if i == 10 {
			y = 5 // the yellow days changed: every row again
		}
		keep(day, y)
		if i%listScale != 0 {
			continue
		}
		// Writes on this day: they compute the lights for it.
		w.churn(t, rng, day)
		w.checkLights(t, day, y)
		w.checkLightLists(t, rng, day, y)
		// A pass on the same day changes nothing.
		keep(day, y)
	}
}

// churn changes the status, deadline, closing or milestones of a few
// problems, as the actions do, through the store.
func (w *listWorld) churn(t *testing.T, rng *rand.Rand, day domain.Date) {
	t.Helper()
	ctx := t.Context()
	for range 25 {
		p := w.problems[rng.IntN(len(w.problems))]
		old := p.Version
		switch rng.IntN(5) {
		case 0: // extended, or assigned anew
			p.Status, p.Deadline = domain.StatusRectifying, day.AddDays(rng.IntN(9)-4)
		case 1: // closed
			onTime := rng.IntN(2) == 0
			p.Status, p.ClosedOnTime = domain.StatusClosed, &onTime
		case 2: // reopened or sent back
			p.Status, p.ClosedOnTime = []domain.Status{domain.StatusAssigned, domain.StatusSubmitted}[rng.IntN(2)], nil
			if p.Deadline.IsZero() {
				p.Deadline = day.AddDays(rng.IntN(9) - 2)
			}
		case 3: // dismissed
			p.Status = domain.StatusDismissed
		default: // a plan: a milestone due around today, some ticked off
			ms := []domain.Milestone{{Due: day.AddDays(rng.IntN(7) - 3), Title: "节点"}, {Due: day.AddDays(rng.IntN(5) - 1), Title: "节点", Done: rng.IntN(2) == 0}}
			tx(t, w.db, func(r app.Repos) error { return r.Milestones.Save(ctx, p.ID, ms, t0) })
			w.behind[p.ID] = ms
			continue
		}
		p.Version++
		tx(t, w.db, func(r app.Repos) error { return r.Problems.Update(ctx, p, old) })
	}
}
