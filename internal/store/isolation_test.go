package store_test

import (
	"database/sql"
	"testing"

	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// Every connection runs at the isolation the store relies on, set once when
// it connects (the store's transactions begin at the connection's level):
// READ COMMITTED on MySQL/MariaDB, whose REPEATABLE READ takes gap locks on
// the locking read of a new audit stream's head and deadlocks concurrent
// first actions (docs/performance.md, "Changes"); on SQLite, no reads of
// uncommitted data (its writers are serialised by BEGIN IMMEDIATE).
func TestConnectionsRunAtTheStoresIsolation(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	level := func(c *sql.Conn) string {
		t.Helper()
		var v string
		if db.Dialect() == store.DialectSQLite {
			if err := c.QueryRowContext(ctx, "PRAGMA read_uncommitted").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return "read_uncommitted=" + v
		}
		if err := c.QueryRowContext(ctx, "SELECT @@tx_isolation").Scan(&v); err != nil { // MariaDB's name
			if err := c.QueryRowContext(ctx, "SELECT @@transaction_isolation").Scan(&v); err != nil { // MySQL 8's
				t.Fatal(err)
			}
		}
		return v
	}
	want := map[string]string{store.DialectMySQL: "READ-COMMITTED", store.DialectSQLite: "read_uncommitted=0"}[db.Dialect()]
	// Several connections at once, so that several were opened.
	var conns []*sql.Conn
	for range 4 {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		if v := level(c); v != want {
			t.Errorf("%s connection %d runs at %s, want %s", db.Dialect(), i, v, want)
		}
		_ = c.Close()
	}
}

// Without a pool size, a SQLite file gets 4 connections (one writer at a
// time, and the pure-Go driver's page cache per connection is memory outside
// the Go heap's limit), a MySQL/MariaDB server 32; a size given is kept.
func TestDefaultPoolSizeByDatabase(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	want := map[string]int{store.DialectSQLite: 4, store.DialectMySQL: 32}[db.Dialect()]
	if got := db.SQL().Stats().MaxOpenConnections; got != want || store.DefaultMaxConns(db.Dialect()) != want {
		t.Fatalf("%s pool: %d connections, want %d", db.Dialect(), got, want)
	}
	sized, err := store.Open(t.Context(), storetest.URL(t), store.Options{MaxOpenConns: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sized.Close() }()
	if got := sized.SQL().Stats().MaxOpenConnections; got != 7 {
		t.Fatalf("a pool of 7 asked for has %d", got)
	}
}
