package store_test

import (
	"testing"
	"time"

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
