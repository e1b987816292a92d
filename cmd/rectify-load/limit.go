package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rectify-team/rectify/internal/store"
)

// limiter measures the bare database, the limit every write ratio is taken
// against: one transaction of one 10-column row with two secondary indexes
// plus one audit row, by prepared statements, with the server's pool size
// and the store's connection settings (store.Open's DSN), in tables of the
// tool's own, created in the target schema and dropped afterwards. None of
// the server's statements, counters or locks are in it: it is what this
// database commits at this concurrency when nothing else is asked of it.
type limiter struct {
	db               *store.DB
	sql              *sql.DB
	dialect          string
	table, audit     string
	insRow, insAudit *sql.Stmt
}

func openLimiter(ctx context.Context, url string, conns int) (*limiter, error) {
	db, err := store.Open(ctx, url, store.Options{MaxOpenConns: conns})
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	suffix := fmt.Sprint(os.Getpid())
	l := &limiter{db: db, sql: db.SQL(), dialect: db.Dialect(), table: "rectify_load_bare_" + suffix, audit: "rectify_load_bare_audit_" + suffix}
	if err := l.create(ctx); err != nil {
		l.close()
		return nil, fmt.Errorf("bare tables: %w", err)
	}
	return l, nil
}

func (l *limiter) create(ctx context.Context) error {
	stmts := []string{
		"CREATE TABLE " + l.table + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(32) NOT NULL, title VARCHAR(200) NOT NULL, " +
			"status VARCHAR(16) NOT NULL, unit_id BIGINT NOT NULL, category_id BIGINT NOT NULL, severity VARCHAR(16) NOT NULL, " +
			"version BIGINT NOT NULL, created_at DATETIME(6) NOT NULL, updated_at DATETIME(6) NOT NULL, " +
			"KEY idx_status (status, id), KEY idx_unit (unit_id, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		"CREATE TABLE " + l.audit + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, row_id BIGINT NOT NULL, at DATETIME(6) NOT NULL, " +
			"actor VARCHAR(64) NOT NULL, action VARCHAR(32) NOT NULL, changes TEXT NOT NULL, hash CHAR(64) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	}
	if l.dialect == store.DialectSQLite {
		stmts = []string{
			"CREATE TABLE " + l.table + " (id INTEGER PRIMARY KEY, code TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL, " +
				"unit_id INTEGER NOT NULL, category_id INTEGER NOT NULL, severity TEXT NOT NULL, version INTEGER NOT NULL, " +
				"created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)",
			"CREATE INDEX " + l.table + "_status ON " + l.table + " (status, id)",
			"CREATE INDEX " + l.table + "_unit ON " + l.table + " (unit_id, id)",
			"CREATE TABLE " + l.audit + " (id INTEGER PRIMARY KEY, row_id INTEGER NOT NULL, at DATETIME NOT NULL, actor TEXT NOT NULL, " +
				"action TEXT NOT NULL, changes TEXT NOT NULL, hash TEXT NOT NULL)",
		}
	}
	for _, s := range stmts {
		if _, err := l.sql.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	var err error
	if l.insRow, err = l.sql.PrepareContext(ctx, "INSERT INTO "+l.table+
		" (code, title, status, unit_id, category_id, severity, version, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)"); err != nil {
		return err
	}
	l.insAudit, err = l.sql.PrepareContext(ctx, "INSERT INTO "+l.audit+" (row_id, at, actor, action, changes, hash) VALUES (?,?,?,?,?,?)")
	return err
}

// close drops the tool's tables and closes the pool.
func (l *limiter) close() {
	for _, s := range []*sql.Stmt{l.insRow, l.insAudit} {
		if s != nil {
			_ = s.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = l.sql.ExecContext(ctx, "DROP TABLE IF EXISTS "+l.table)
	_, _ = l.sql.ExecContext(ctx, "DROP TABLE IF EXISTS "+l.audit)
	_ = l.db.Close()
}

// bareWorkload says whether workload w writes, so that its rate is set
// against the bare limit; reads have absolute budgets instead.
func bareWorkload(w string) bool { return w == "register" || w == "lifecycle" || w == "action" }

// measure commits bare transactions from n goroutines for d.
func (l *limiter) measure(ctx context.Context, n int, d time.Duration, maxReq int64) result {
	m := newMeasurement()
	load0 := loadAvg()
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)+1000))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rctx.Err() == nil && m.requests.Load() < maxReq {
				t := time.Now()
				err := l.bare(rctx, rng)
				if rctx.Err() != nil {
					return
				}
				m.requests.Add(1)
				status := 200
				if err != nil {
					status = 500
					m.fail(err)
				} else {
					m.ops.Add(1)
				}
				m.record(status, nil, time.Since(t))
			}
		}()
	}
	wg.Wait()
	r := summarize("db_bare", "bare", n, time.Since(start), m)
	r.Note = "one transaction: one 10-column row (two secondary indexes) and one audit row, prepared"
	if m.firstErr != nil {
		r.Note += "; first failure: " + m.firstErr.Error()
	}
	r.LoadAvg = [2]float64{load0, loadAvg()}
	return r
}

// bare commits one row and its audit row, retrying deadlocks and busy
// errors as the server's transaction runner does.
func (l *limiter) bare(ctx context.Context, rng *rand.Rand) error {
	var err error
	for i := range 8 {
		if err = l.bareOnce(ctx, rng); err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		time.Sleep(time.Duration(1<<i) * time.Millisecond)
	}
	return err
}

func (l *limiter) bareOnce(ctx context.Context, rng *rand.Rand) error {
	// No TxOptions, as the server: the store's MySQL/MariaDB connections are
	// at READ COMMITTED from the start (store.Open), so BEGIN is one round trip.
	tx, err := l.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	now := time.Now().UTC().Truncate(time.Microsecond)
	code := fmt.Sprintf("B-%d-%08d", now.Year(), rng.IntN(1e8))
	res, err := tx.StmtContext(ctx, l.insRow).ExecContext(ctx, code, "负载基准 bare row", "registered", 1+rng.IntN(30),
		1+rng.IntN(40), "general", 1, now, now)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	changes := `{"code":"` + code + `"}`
	sum := sha256.Sum256([]byte(fmt.Sprint(id, now.UnixNano(), changes)))
	if _, err := tx.StmtContext(ctx, l.insAudit).ExecContext(ctx, id, now, "load-bare", "register", changes, hex.EncodeToString(sum[:])); err != nil {
		return err
	}
	return tx.Commit()
}

func transient(err error) bool {
	s := err.Error()
	return strings.Contains(s, "1213") || strings.Contains(s, "1205") || strings.Contains(s, "SQLITE_BUSY") ||
		strings.Contains(s, "database is locked")
}
