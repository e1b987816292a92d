package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/store"
)

// limiter measures the database's own limit: the rows a workload writes (or
// the rows it reads), with plain database/sql on the same database, the same
// connection settings (store.Open's DSN) and the same concurrency, without
// HTTP, authentication, JSON or the domain's checks. Each write transaction
// takes the same locks as the server's: the year's code counter for a
// registration, and the stream head of the problem's audit trail; its audit
// entries are chained with the real hash, so /audit/verify stays ok.
type limiter struct {
	db      *store.DB
	sql     *sql.DB
	dialect string
}

func openLimiter(ctx context.Context, url string, conns int) (*limiter, error) {
	db, err := store.Open(ctx, url, store.Options{MaxOpenConns: conns})
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	return &limiter{db: db, sql: db.SQL(), dialect: db.Dialect()}, nil
}

func (l *limiter) close() { _ = l.db.Close() }

// txOptions are the server's: READ COMMITTED on MySQL/MariaDB.
func (l *limiter) txOptions() *sql.TxOptions {
	if l.dialect == store.DialectMySQL {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

func (l *limiter) forUpdate() string {
	if l.dialect == store.DialectMySQL {
		return " FOR UPDATE"
	}
	return ""
}

// measure runs workload w's database work with n connections for d. It
// returns nil for workloads without a database counterpart here.
func (l *limiter) measure(ctx context.Context, s *session, w string, n int, d time.Duration, maxReq int64, poolSize int) (*result, error) {
	var pool chan limitRef
	switch w {
	case "board", "mixed":
		return nil, nil
	case "action":
		refs, err := l.registered(ctx, s, poolSize)
		if err != nil {
			return nil, err
		}
		pool = make(chan limitRef, len(refs))
		for _, r := range refs {
			pool <- r
		}
		close(pool)
	}
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
				var err error
				switch w {
				case "register":
					_, err = l.register(rctx, s, rng)
				case "action":
					ref, more := <-pool
					if !more {
						return
					}
					err = l.assign(rctx, ref, s)
				case "lifecycle":
					err = l.lifecycle(rctx, s, rng, m)
					if rctx.Err() != nil {
						return
					}
					if err == nil {
						m.ops.Add(1)
					} else {
						l.rec(m, err, t)
					}
					continue
				case "get":
					err = l.get(rctx, s, rng)
				case "list":
					err = l.list(rctx, s, rng)
				}
				if rctx.Err() != nil {
					return
				}
				l.rec(m, err, t)
				if w != "lifecycle" && err == nil {
					m.ops.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	r := summarize("db_limit", w, n, time.Since(start), m)
	if m.firstErr != nil {
		r.Note = strings.TrimSpace(r.Note + " first failure: " + m.firstErr.Error())
	}
	r.LoadAvg = [2]float64{load0, loadAvg()}
	if w == "lifecycle" {
		r.Note = "requests = transactions (5 per lifecycle)"
	}
	return &r, nil
}

// lifecycle runs the five transactions of one problem's life, recording each.
func (l *limiter) lifecycle(ctx context.Context, s *session, rng *rand.Rand, m *measurement) error {
	t := time.Now()
	ref, err := l.register(ctx, s, rng)
	if err != nil {
		return err
	}
	l.rec(m, nil, t)
	for _, step := range []func(context.Context, limitRef, *session) error{l.assign, l.accept, l.submit, l.verify} {
		t = time.Now()
		if err := step(ctx, ref, s); err != nil {
			return err
		}
		ref.version++
		l.rec(m, nil, t)
	}
	return nil
}

func (l *limiter) rec(m *measurement, err error, t time.Time) {
	m.requests.Add(1)
	status := 200
	if err != nil {
		status = 500
		m.fail(err)
	}
	m.record(status, nil, time.Since(t))
}

type limitRef struct {
	id, unitID, version int64
}

func (l *limiter) registered(ctx context.Context, s *session, n int) ([]limitRef, error) {
	teams := make([]string, len(s.teams))
	for i, t := range s.teams {
		teams[i] = fmt.Sprint(t)
	}
	rows, err := l.sql.QueryContext(ctx, "SELECT id, unit_id, version FROM problems WHERE status = 'registered' AND unit_id IN ("+
		strings.Join(teams, ",")+") ORDER BY id DESC LIMIT ?", n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []limitRef
	for rows.Next() {
		var r limitRef
		if err := rows.Scan(&r.id, &r.unitID, &r.version); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("no registered problems left for the limit's action run")
	}
	return out, rows.Err()
}

// tx runs fn in one transaction, retrying deadlocks and busy errors as the
// server's runner does, so that the two are compared like for like.
func (l *limiter) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for i := range 8 {
		err = func() error {
			tx, err := l.sql.BeginTx(ctx, l.txOptions())
			if err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		time.Sleep(time.Duration(1<<i) * time.Millisecond)
	}
	return err
}

func transient(err error) bool {
	s := err.Error()
	return strings.Contains(s, "1213") || strings.Contains(s, "1205") || strings.Contains(s, "SQLITE_BUSY") ||
		strings.Contains(s, "database is locked")
}

// appendAudit chains one entry after its stream's head, as the store does.
func (l *limiter) appendAudit(ctx context.Context, tx *sql.Tx, e *audit.Entry) error {
	var (
		seq  int64
		hash string
	)
	err := tx.QueryRowContext(ctx, "SELECT seq, head_hash FROM audit_streams WHERE stream = ?"+l.forUpdate(), e.Stream).Scan(&seq, &hash)
	fresh := errors.Is(err, sql.ErrNoRows)
	if err != nil && !fresh {
		return err
	}
	e.Chain(seq, hash)
	res, err := tx.ExecContext(ctx, "INSERT INTO audit_entries (stream, stream_seq, at, actor_id, actor_name, actor_roles, ip, request_id, "+
		"action, object_type, object_id, from_state, to_state, changes, outcome, reason, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		e.Stream, e.StreamSeq, e.At, e.ActorID, e.ActorName, strings.Join(e.ActorRoles, ","), e.IP, e.RequestID, e.Action,
		e.ObjectType, e.ObjectID, e.FromState, e.ToState, e.Changes, e.Outcome, e.Reason, e.PrevHash, e.Hash)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if fresh {
		_, err = tx.ExecContext(ctx, "INSERT INTO audit_streams (stream, seq, head_hash, last_entry_id, pending) VALUES (?,?,?,?,?)",
			e.Stream, e.StreamSeq, e.Hash, id, true)
	} else {
		_, err = tx.ExecContext(ctx, "UPDATE audit_streams SET seq = ?, head_hash = ?, last_entry_id = ?, pending = ? WHERE stream = ? AND seq = ?",
			e.StreamSeq, e.Hash, id, true, e.Stream, seq)
	}
	return err
}

func entry(id int64, actorID int64, actor, role, action, from, to, changes string, at time.Time) *audit.Entry {
	return &audit.Entry{Stream: audit.ProblemStream(id), At: at, ActorID: actorID, ActorName: actor, ActorRoles: []string{role},
		IP: "127.0.0.1", RequestID: "limit", Action: action, ObjectType: "problem", ObjectID: fmt.Sprint(id),
		FromState: from, ToState: to, Changes: changes, Outcome: audit.OutcomeOK}
}

func (l *limiter) register(ctx context.Context, s *session, rng *rand.Rand) (limitRef, error) {
	team := s.teams[rng.IntN(len(s.teams))]
	var ref limitRef
	err := l.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		year := now.Year()
		upsert := "INSERT INTO problem_counters (year, last_seq) VALUES (?, 1) ON CONFLICT(year) DO UPDATE SET last_seq = last_seq + 1"
		if l.dialect == store.DialectMySQL {
			upsert = "INSERT INTO problem_counters (year, last_seq) VALUES (?, 1) ON DUPLICATE KEY UPDATE last_seq = last_seq + 1"
		}
		if _, err := tx.ExecContext(ctx, upsert, year); err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, "SELECT last_seq FROM problem_counters WHERE year = ?", year).Scan(&seq); err != nil {
			return err
		}
		code := fmt.Sprintf("WT-%d-%06d", year, seq)
		day := now.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		res, err := tx.ExecContext(ctx, "INSERT INTO problems (code, title, description, category_id, severity, source, unit_id, found_at, "+
			"status, version, measures, created_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			code, "负载登记", "rectify-load limit", s.cats[rng.IntN(len(s.cats))], "general", "inspection", team, day,
			"registered", 1, "", s.userIDs[loadPrefix+"inspector-1"], now, now)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		ref = limitRef{id: id, unitID: team, version: 1}
		return l.appendAudit(ctx, tx, entry(id, s.userIDs[loadPrefix+"inspector-1"], loadPrefix+"inspector-1", "inspector",
			"register", "", "registered", `{"code":"`+code+`"}`, now))
	})
	return ref, err
}

// verifiers returns the working group's ids, whom a submit tells: the server
// reads them in the submit's transaction, so the limit does too.
func (l *limiter) verifiers(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM users WHERE disabled = ? AND roles LIKE ? ORDER BY id", false, "%verifier%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// notify writes the inbox entries of an action, as the server does in the
// action's transaction (internal/app/notify.go): one row per recipient but the actor.
func (l *limiter) notify(ctx context.Context, tx *sql.Tx, problemID, actorID int64, kind string, to []int64, at time.Time) error {
	var (
		values []string
		args   []any
	)
	for _, id := range to {
		if id == actorID || id == 0 {
			continue
		}
		values = append(values, "(?,?,?,?,?,?,?)")
		args = append(args, id, fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(problemID), uint64(at.UnixNano())&(1<<48-1)), kind, problemID,
			"【"+kind+"】负载登记", "rectify-load limit", at)
	}
	if len(values) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO notifications (user_id, event_id, kind, problem_id, title, body, created_at) VALUES "+
		strings.Join(values, ","), args...)
	return err
}

// move updates a problem conditionally on its version, as the server does,
// and appends the action's entry and, for the actions that tell someone,
// the inbox entries (tell returns their recipients).
func (l *limiter) move(ctx context.Context, ref limitRef, actorID int64, actor, role, action, from, to string,
	tell func(*sql.Tx) ([]int64, error), set string, args ...any) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		now := time.Now().UTC().Truncate(time.Microsecond)
		a := append([]any{to, ref.version + 1, now}, args...)
		a = append(a, ref.id, ref.version)
		res, err := tx.ExecContext(ctx, "UPDATE problems SET status = ?, version = ?, updated_at = ?"+set+" WHERE id = ? AND version = ?", a...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("problem %d: version %d is stale (%v)", ref.id, ref.version, err)
		}
		if err := l.appendAudit(ctx, tx, entry(ref.id, actorID, actor, role, action, from, to, `{"note":"limit"}`, now)); err != nil {
			return err
		}
		if tell == nil {
			return nil
		}
		recipients, err := tell(tx)
		if err != nil {
			return err
		}
		return l.notify(ctx, tx, ref.id, actorID, "problem."+action, recipients, now)
	})
}

func (l *limiter) assign(ctx context.Context, ref limitRef, s *session) error {
	deadline := time.Now().AddDate(0, 0, 30).Format(time.DateOnly)
	owner := s.ownerIDs[ref.unitID]
	tell := func(*sql.Tx) ([]int64, error) { return []int64{owner}, nil }
	return l.move(ctx, ref, s.userIDs[loadPrefix+"verifier-1"], loadPrefix+"verifier-1", "verifier", "assign", "registered", "assigned",
		tell, ", assignee_id = ?, deadline = ?, measures = ?, assigned_at = ?", s.ownerIDs[ref.unitID], deadline, "整改措施", time.Now().UTC())
}

func (l *limiter) accept(ctx context.Context, ref limitRef, s *session) error {
	return l.move(ctx, ref, s.ownerIDs[ref.unitID], s.ownerOf[ref.unitID], "owner", "accept", "assigned", "rectifying", nil, "")
}

func (l *limiter) submit(ctx context.Context, ref limitRef, s *session) error {
	tell := func(tx *sql.Tx) ([]int64, error) { return l.verifiers(ctx, tx) }
	return l.move(ctx, ref, s.ownerIDs[ref.unitID], s.ownerOf[ref.unitID], "owner", "submit", "rectifying", "submitted",
		tell, ", percent = 100, submitted_by = ?, submitted_at = ?", s.ownerIDs[ref.unitID], time.Now().UTC())
}

func (l *limiter) verify(ctx context.Context, ref limitRef, s *session) error {
	tell := func(*sql.Tx) ([]int64, error) {
		return []int64{s.ownerIDs[ref.unitID], s.userIDs[loadPrefix+"inspector-1"]}, nil
	}
	return l.move(ctx, ref, s.userIDs[loadPrefix+"verifier-2"], loadPrefix+"verifier-2", "verifier", "verify_pass", "submitted", "closed",
		tell, ", closed_at = ?, closed_on_time = ?", time.Now().UTC(), true)
}

// get reads one problem by id with its unit's path, the server's query.
func (l *limiter) get(ctx context.Context, s *session, rng *rand.Rand) error {
	id := int64(1)
	if s.maxID > 1 {
		id = 1 + rng.Int64N(s.maxID)
	}
	rows, err := l.sql.QueryContext(ctx, "SELECT p.*, u.path AS unit_path FROM problems p JOIN units u ON u.id = p.unit_id WHERE p.id = ? LIMIT 1", id)
	if err != nil {
		return err
	}
	return drain(rows)
}

// list runs a page of the list with some of the server's filters, in the
// server's form: the page's ids by the filters (subtrees as path prefixes,
// newest first, limit+1), then those rows with their unit's path.
func (l *limiter) list(ctx context.Context, s *session, rng *rand.Rand) error {
	q := "SELECT p.id FROM problems p WHERE "
	var args []any
	statuses := []string{"registered", "assigned", "rectifying", "submitted", "closed"}
	switch rng.IntN(4) {
	case 0:
		q += "p.status IN (?)"
		args = append(args, statuses[rng.IntN(len(statuses))])
	case 1:
		q += "p.status IN (?) AND p.severity IN (?)"
		args = append(args, statuses[rng.IntN(len(statuses))], []string{"general", "serious", "critical"}[rng.IntN(3)])
	case 2:
		q += "p.unit_id IN (SELECT id FROM units WHERE path LIKE ? ESCAPE '!')"
		var path string
		if err := l.sql.QueryRowContext(ctx, "SELECT path FROM units WHERE id = ?", s.depts[rng.IntN(len(s.depts))]).Scan(&path); err != nil {
			return err
		}
		args = append(args, path+"%")
	case 3:
		q += "p.status IN ('assigned','rectifying','submitted') AND p.deadline < ?"
		args = append(args, time.Now().Format(time.DateOnly))
	}
	rows, err := l.sql.QueryContext(ctx, q+" ORDER BY p.id DESC LIMIT 51", args...)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return err
		}
		ids = append(ids, fmt.Sprint(id))
	}
	if err := rows.Close(); err != nil || len(ids) == 0 {
		return err
	}
	page, err := l.sql.QueryContext(ctx, "SELECT p.*, u.path AS unit_path FROM problems p JOIN units u ON u.id = p.unit_id WHERE p.id IN ("+
		strings.Join(ids, ",")+") ORDER BY p.id DESC")
	if err != nil {
		return err
	}
	return drain(page)
}

func drain(rows *sql.Rows) error {
	cols, err := rows.Columns()
	if err != nil {
		_ = rows.Close()
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			_ = rows.Close()
			return err
		}
	}
	if err := rows.Err(); err != nil {
		_ = rows.Close()
		return err
	}
	return rows.Close()
}
