package store_test

import (
	"database/sql"
	"testing"

	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// Every MySQL/MariaDB connection runs at READ COMMITTED, set once when it
// connects (the store's transactions begin at the connection's level):
// REPEATABLE READ's gap locks on the locking read of a new audit stream's head
// deadlock concurrent first actions (docs/performance.md, "Changes").
func TestMySQLConnectionsAreReadCommitted(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	if db.Dialect() != store.DialectMySQL {
		t.Skip("needs MariaDB (" + storetest.EnvMySQL + "): isolation levels are MySQL/MariaDB's, SQLite serialises writers")
	}
	ctx := t.Context()
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
		var v string
		if err := c.QueryRowContext(ctx, "SELECT @@tx_isolation").Scan(&v); err != nil { // MariaDB's name
			if err := c.QueryRowContext(ctx, "SELECT @@transaction_isolation").Scan(&v); err != nil { // MySQL 8's
				t.Fatal(err)
			}
		}
		if v != "READ-COMMITTED" {
			t.Errorf("connection %d runs at %s", i, v)
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
