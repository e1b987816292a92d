package store

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements. A statement sent as text is parsed and planned again
// every time: on SQLite, parsing the problem's read was a third of the
// server's CPU under the get workload. The few fixed statements run on
// nearly every request are prepared once for the pool instead, and
// database/sql prepares each again on the connections it runs on (on
// MySQL/MariaDB, one server-side prepared statement per connection and
// statement, then one round trip an execution, as with interpolated text).
// Only statements whose text never varies are prepared, so the set is small
// and fixed: nothing is evicted, and no statement is closed while another
// request may be running it. Statements in a transaction are sent as text
// on the transaction's connection.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns query prepared for the pool, preparing it on first use. The
// preparation runs outside the lock, bounded by the caller's ctx alone, so
// that callers do not queue behind a database that does not answer; of two
// that prepare at once, one statement is kept and the other closed. A
// failed preparation is not kept: the next call tries again.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	s, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.m[query]; ok {
		_ = s.Close()
		return kept, nil
	}
	c.m[query] = s
	return s, nil
}

// close closes every prepared statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		_ = s.Close()
		delete(c.m, q)
	}
}

// queryFixed runs query, a statement whose text never varies and whose
// arguments are plain values, prepared when outside a transaction.
func (b base) queryFixed(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if b.tx != nil || b.stmts == nil {
		return b.db(ctx).Raw(query, args...).Rows()
	}
	s, err := b.stmts.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}
