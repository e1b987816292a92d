package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// On MySQL/MariaDB an instant with nanoseconds, as time.Now() gives, is sent
// with six fractional digits, the precision the columns keep: with nine,
// MariaDB cannot compare by the index ("Truncated incorrect datetime value")
// and reads the whole of it — the board's probe took 190 ms on a million
// problems instead of a range of a few entries. So "at or after" such an
// instant includes its microsecond there; SQLite, comparing text, does not.
func TestInstantsAreSentToTheMicrosecond(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 24, 9, 4, 33, 819375313, time.UTC)
	if db.Dialect() == store.DialectMySQL {
		var sent string
		if err := db.SQL().QueryRowContext(ctx, "SELECT CAST(? AS CHAR(40))", at).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if want := "2026-11-24 09:04:33.819375"; sent != want {
			t.Fatalf("MariaDB received %q, want %q", sent, want)
		}
	}
	if _, err := db.SQL().ExecContext(ctx, "CREATE TABLE instants_probe (id INTEGER PRIMARY KEY, at "+
		map[string]string{store.DialectMySQL: "DATETIME(6)", store.DialectSQLite: "DATETIME"}[db.Dialect()]+" NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = db.SQL().ExecContext(ctx, "DROP TABLE instants_probe") })
	for i, d := range []time.Duration{-time.Microsecond, 0, time.Microsecond} {
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO instants_probe (id, at) VALUES (?, ?)", i+1,
			at.Truncate(time.Microsecond).Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM instants_probe WHERE at >= ?", at).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{store.DialectMySQL: 2, store.DialectSQLite: 1}[db.Dialect()]; n != want {
		t.Fatalf("%d rows at or after %v on %s, want %d", n, at, db.Dialect(), want)
	}
}

// The board's probe returns the id and version of exactly the problems
// updated at or after an instant.
func TestBoardVersionsSince(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	unit := mkUnit(t, db, "一处", 0)
	insp := mkUser(t, db, "insp", unit.ID, domain.RoleInspector)
	var ps []*domain.Problem
	for i := range 5 {
		ps = append(ps, mkProblem(t, db, &domain.Problem{Title: "问题", UnitID: unit.ID, CreatedBy: insp.ID,
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)}))
	}
	// The third changes: version 2, updated a day later.
	if err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		changed := *ps[2]
		changed.Title, changed.Version, changed.UpdatedAt = "改", 2, t0.Add(24*time.Hour)
		return r.Problems.Update(ctx, &changed, 1)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Read().Stats.BoardVersions(ctx, t0.Add(3*time.Minute-time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b app.BoardVersion) int { return int(a.ID - b.ID) })
	want := []app.BoardVersion{{ID: ps[2].ID, Version: 2}, {ID: ps[3].ID, Version: 1}, {ID: ps[4].ID, Version: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("since the fourth's creation: %+v, want %+v", got, want)
	}
	if got, err := db.Read().Stats.BoardVersions(ctx, t0.Add(48*time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("since after every change: %+v, %v", got, err)
	}
}
