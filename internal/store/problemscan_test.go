package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// scanWorld is a few problems with every nullable column set on some and
// NULL on others, and 0, 1 or 3 milestones (saved out of due order, two
// due the same day).
type scanWorld struct {
	db       *store.DB
	unit     *app.Unit
	owner    *app.User
	problems []*domain.Problem // in creation order
	want     map[int64][]string
}

func newScanWorld(t *testing.T) *scanWorld {
	t.Helper()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	unit := mkUnit(t, db, "一处", root.ID)
	insp := mkUser(t, db, "insp", root.ID, domain.RoleInspector)
	owner := mkUser(t, db, "owner", unit.ID, domain.RoleOwner)
	w := &scanWorld{db: db, unit: unit, owner: owner, want: map[int64][]string{}}
	at := t0.Add(987654 * time.Microsecond)
	later := at.Add(26*time.Hour + 3*time.Microsecond)
	yes, no := true, false
	plans := [][]domain.Milestone{
		nil,
		{{Due: domain.NewDate(2026, 3, 15), Title: "唯一", Done: true, DoneAt: &later, DoneBy: owner.ID}},
		{{Due: domain.NewDate(2026, 3, 20), Title: "b"}, {Due: domain.NewDate(2026, 3, 10), Title: "a", Done: true, DoneAt: &at, DoneBy: owner.ID},
			{Due: domain.NewDate(2026, 3, 20), Title: "c"}},
		nil,
		{{Due: domain.NewDate(2026, 4, 1), Title: "z"}, {Due: domain.NewDate(2026, 3, 31), Title: "y"}, {Due: domain.NewDate(2026, 1, 2), Title: "x"}},
		{{Due: domain.NewDate(2026, 3, 5), Title: "单"}},
	}
	wantTitles := [][]string{nil, {"唯一"}, {"a", "b", "c"}, nil, {"x", "y", "z"}, {"单"}}
	for i, plan := range plans {
		p := &domain.Problem{Title: "问题", Description: "多行\n描述", UnitID: unit.ID, CreatedBy: insp.ID, CreatedAt: at.Add(time.Duration(i) * time.Second),
			Severity: domain.SeveritySerious}
		if i%2 == 1 { // every nullable column set
			p.Status, p.AssigneeID, p.Deadline, p.Measures, p.Percent = domain.StatusClosed, owner.ID, domain.NewDate(2026, 4, 2), "措施", 100
			p.ClosedOnTime, p.SubmittedBy, p.AssignedAt, p.SubmittedAt, p.ClosedAt = &yes, owner.ID, &at, &later, &later
			p.ReworkCount, p.ReopenCount, p.ExtensionCount = 1, 2, 3
			if i == 3 {
				p.ClosedOnTime = &no
			}
		}
		mkProblem(t, db, p)
		if plan != nil {
			tx(t, db, func(r app.Repos) error { return r.Milestones.Save(ctx, p.ID, plan, at) })
		}
		w.problems = append(w.problems, p)
		w.want[p.ID] = wantTitles[i]
	}
	return w
}

func titles(ms []domain.Milestone) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Title)
	}
	return out
}

// Get and List read each problem with its milestones by due date (then by
// id), the same problems as gorm read them with a statement for each.
func TestProblemReadsCarryMilestonesInDueOrder(t *testing.T) {
	t.Parallel()
	w := newScanWorld(t)
	ctx := t.Context()
	var ids []int64
	for _, p := range w.problems {
		ids = append(ids, p.ID)
	}
	old, err := store.GormProblems(ctx, w.db, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != len(w.problems) {
		t.Fatalf("gorm read %d problems, want %d", len(old), len(w.problems))
	}
	for _, want := range old {
		got, err := w.db.Read().Problems.Get(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("problem %d:\n got  %+v\n want %+v (as gorm read it)", want.ID, got, want)
		}
		if !slices.Equal(titles(got.Milestones), w.want[got.ID]) {
			t.Errorf("problem %d: milestones %v, want %v", got.ID, titles(got.Milestones), w.want[got.ID])
		}
		if len(w.want[got.ID]) == 0 && got.Milestones != nil {
			t.Errorf("problem %d: milestones %#v, want nil", got.ID, got.Milestones)
		}
	}
	ms := old[len(old)-2].Milestones // the second problem's: done, with its time and who
	if len(ms) != 1 || !ms[0].Done || ms[0].DoneAt == nil || ms[0].DoneBy != w.owner.ID || ms[0].DoneAt.Location() != time.UTC {
		t.Fatalf("done milestone read as %+v", ms)
	}
	for _, q := range []app.ProblemQuery{
		{Scope: app.Scope{All: true}, Limit: 50},
		{Scope: app.Scope{All: true}, Limit: 50, UnitPath: w.unit.Path, Statuses: []domain.Status{domain.StatusClosed}},
		{Scope: app.Scope{UserID: w.owner.ID, UnitPath: w.unit.Path}, Limit: 4},
	} {
		got, err := w.db.Read().Problems.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var want []*domain.Problem
		for _, p := range old {
			if (len(q.Statuses) == 0 || p.Status == domain.StatusClosed) && len(want) < q.Limit {
				want = append(want, p)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("list %+v:\n got  %v\n want %v", q, got, want)
		}
	}
}

// The same on random problems: what List and Get read is what gorm read.
func TestProblemReadsMatchGorm(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 2026))
	w := newListWorld(t, rng, 400/listScale)
	ctx := t.Context()
	q := app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 60}
	for pages := 0; ; pages++ {
		got, err := w.db.Read().Problems.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			if pages == 0 {
				t.Fatal("no problems listed")
			}
			break
		}
		ids := make([]int64, len(got))
		for i, p := range got {
			ids[i] = p.ID
		}
		want, err := store.GormProblems(ctx, w.db, ids)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("page before %d differs from gorm's reading", q.BeforeID)
		}
		for _, i := range []int{0, len(got) / 2, len(got) - 1} {
			one, err := w.db.Read().Problems.Get(ctx, got[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one, want[i]) {
				t.Fatalf("get %d:\n got  %+v\n want %+v", got[i].ID, one, want[i])
			}
		}
		q.BeforeID = ids[len(ids)-1]
	}
}

// Get in a transaction reads through the transaction: it sees the
// transaction's own changes before they are committed, and nothing of them
// is left after a rollback.
func TestProblemGetSeesItsTransaction(t *testing.T) {
	t.Parallel()
	w := newScanWorld(t)
	ctx := t.Context()
	p := w.problems[0]
	rollback := errors.New("roll back")
	var created int64
	err := w.db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		changed := *p
		changed.Title, changed.Version = "事务中", p.Version+1
		if err := r.Problems.Update(ctx, &changed, p.Version); err != nil {
			return err
		}
		plan := []domain.Milestone{{Due: domain.NewDate(2026, 5, 2), Title: "后"}, {Due: domain.NewDate(2026, 5, 1), Title: "前"}}
		if err := r.Milestones.Save(ctx, p.ID, plan, t0); err != nil {
			return err
		}
		got, err := r.Problems.Get(ctx, p.ID)
		if err != nil {
			return err
		}
		if got.Title != "事务中" || got.Version != p.Version+1 || !slices.Equal(titles(got.Milestones), []string{"前", "后"}) {
			t.Errorf("in the transaction: %+v", got)
		}
		fresh := &domain.Problem{Title: "新", UnitID: w.unit.ID, CategoryID: 5, CreatedBy: p.CreatedBy, FoundAt: p.FoundAt,
			Severity: domain.SeverityGeneral, Source: domain.SourceInspection, Status: domain.StatusRegistered, Version: 1,
			CreatedAt: t0, UpdatedAt: t0}
		fresh.Code = "WT-2026-900001"
		if err := r.Problems.Create(ctx, fresh); err != nil {
			return err
		}
		created = fresh.ID
		if got, err := r.Problems.Get(ctx, fresh.ID); err != nil || got.Title != "新" || got.UnitPath != w.unit.Path {
			t.Errorf("a problem created in the transaction: %+v, %v", got, err)
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("transaction: %v", err)
	}
	got, err := w.db.Read().Problems.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != p.Title || got.Milestones != nil {
		t.Errorf("after the rollback: %+v", got)
	}
	if _, err := w.db.Read().Problems.Get(ctx, created); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the rolled back problem: %v, want ErrNotFound", err)
	}
}

// Get outside a transaction runs one statement prepared for the pool: it is
// prepared once, reads what committed since, and still works once every
// connection it was prepared on has been closed.
func TestProblemGetIsPreparedOnce(t *testing.T) {
	t.Parallel()
	w := newScanWorld(t)
	ctx := t.Context()
	p := w.problems[2]
	if got := store.PreparedStatements(w.db); len(got) != 0 {
		t.Fatalf("prepared before any read: %q", got)
	}
	// Many first reads at once: each may prepare, one statement is kept.
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			got, err := w.db.Read().Problems.Get(ctx, p.ID)
			if err == nil && (got.Title != p.Title || len(got.Milestones) != 3) {
				err = fmt.Errorf("read %+v", got)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := store.PreparedStatements(w.db); len(got) != 1 || !strings.Contains(got[0], "WHERE p.id = ?") {
		t.Fatalf("prepared: %q, want the one statement of Get", got)
	}
	if err := w.db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		changed := *p
		changed.Title, changed.Version = "改后", p.Version+1
		return r.Problems.Update(ctx, &changed, p.Version)
	}); err != nil {
		t.Fatal(err)
	}
	// Every idle connection closed: the statement is prepared again on new ones.
	w.db.SQL().SetMaxIdleConns(0)
	w.db.SQL().SetMaxIdleConns(4)
	if got, err := w.db.Read().Problems.Get(ctx, p.ID); err != nil || got.Title != "改后" || got.Version != p.Version+1 {
		t.Fatalf("after a change and new connections: %+v, %v", got, err)
	}
	if _, err := w.db.Read().Problems.Get(ctx, 1<<40); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a missing problem: %v, want ErrNotFound", err)
	}
	if got := store.PreparedStatements(w.db); len(got) != 1 {
		t.Errorf("prepared again: %d statements", len(got))
	}
}

// A value the domain cannot read is an error, not a zero value.
func TestProblemReadsRejectBadData(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, stmt string
	}{
		{"found_at", "UPDATE problems SET found_at = '2026-13-45' WHERE id = ?"},
		{"deadline", "UPDATE problems SET deadline = 'soon' WHERE id = ?"},
		{"milestone due", "UPDATE milestones SET due = 'later' WHERE problem_id = ?"},
	}
	if storetest.Backend() == store.DialectSQLite { // MariaDB refuses such a DATETIME
		cases = append(cases, struct{ name, stmt string }{"created_at", "UPDATE problems SET created_at = 'yesterday' WHERE id = ?"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newScanWorld(t)
			ctx := t.Context()
			bad := w.problems[2] // three milestones
			if _, err := w.db.SQL().ExecContext(ctx, c.stmt, bad.ID); err != nil {
				t.Fatal(err)
			}
			if p, err := w.db.Read().Problems.Get(ctx, bad.ID); err == nil || errors.Is(err, domain.ErrNotFound) {
				t.Errorf("get: %+v, %v; want an error", p, err)
			}
			if ps, err := w.db.Read().Problems.List(ctx, app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 50}); err == nil {
				t.Errorf("list: %d problems, no error", len(ps))
			}
			if _, err := w.db.Read().Problems.Get(ctx, w.problems[1].ID); err != nil {
				t.Errorf("a good problem: %v", err)
			}
		})
	}
}

// Outside a transaction Get and List give up after the store's timeout,
// and a database that did not answer in time is app.ErrUnavailable.
func TestProblemReadsHaveADeadline(t *testing.T) {
	t.Parallel()
	w := newScanWorld(t)
	url := storetest.URL(t)
	storetest.OpenURL(t, url) // migrated
	fast, err := store.Open(t.Context(), url, store.Options{QueryTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fast.Close() }()
	ctx := context.Background()
	if _, err := fast.Read().Problems.Get(ctx, 1); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("get: %v, want ErrUnavailable", err)
	}
	q := app.ProblemQuery{Scope: app.Scope{All: true}, UnitPath: "/1/", Limit: 50}
	if _, err := fast.Read().Problems.List(ctx, q); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("list: %v, want ErrUnavailable", err)
	}
	past, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := w.db.Read().Problems.Get(past, w.problems[0].ID); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("get past its deadline: %v, want ErrUnavailable", err)
	}
}
