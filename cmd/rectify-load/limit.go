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

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
)

// limiter measures the database's own limit: the rows a workload writes (or
// the rows it reads), with plain database/sql on the same database, the same
// connection settings (store.Open's DSN) and the same concurrency, without
// HTTP, authentication, JSON or the domain's checks. Each write transaction
// takes the same locks as the server's: the year's code counter for a
// registration, and the stream head of the problem's audit trail; its audit
// entries are chained with the real hash, so /audit/verify stays ok. The
// reads are the server's own statements, as the store builds them
// (store.DB.ProblemGetSQL and ListPageSQL).
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

func (l *limiter) forUpdate() string {
	if l.dialect == store.DialectMySQL {
		return " FOR UPDATE"
	}
	return ""
}

// measure runs workload w's database work with n connections for d. It
// returns nil for workloads without a database counterpart here.
func (l *limiter) measure(ctx context.Context, s *session, w string, n int, d time.Duration, maxReq int64, poolSize int) (*result, error) {
	var (
		pool  chan limitRef
		pages []limitPage
	)
	switch w {
	case "board", "mixed":
		return nil, nil
	case "list":
		var err error
		if pages, err = l.listPages(ctx, s, limitPages); err != nil {
			return nil, err
		}
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
					page := pages[rng.IntN(len(pages))]
					if err = l.run(rctx, page.stmts...); err == nil {
						m.recordKind(page.kind, time.Since(t))
					}
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
			// No TxOptions, as the server: the store's MySQL/MariaDB connections are
			// at READ COMMITTED from the start (store.Open), so BEGIN is one round trip.
			tx, err := l.sql.BeginTx(ctx, nil)
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

// get reads one problem by id as the server does: the problem, its unit's
// path and its milestones in one statement.
func (l *limiter) get(ctx context.Context, s *session, rng *rand.Rand) error {
	id := int64(1)
	if s.maxID > 1 {
		id = 1 + rng.Int64N(s.maxID)
	}
	return l.run(ctx, l.db.ProblemGetSQL(id))
}

// run sends statements one after the other, reading every row of each; a
// statement the store prepares is prepared here too.
func (l *limiter) run(ctx context.Context, stmts ...store.Statement) error {
	for _, st := range stmts {
		var (
			rows *sql.Rows
			err  error
		)
		if st.Prepared {
			var ps *sql.Stmt
			if ps, err = l.db.Prepared(ctx, st.SQL); err == nil {
				rows, err = ps.QueryContext(ctx, st.Args...)
			}
		} else {
			rows, err = l.sql.QueryContext(ctx, st.SQL, st.Args...)
		}
		if err != nil {
			return err
		}
		if err := drain(rows); err != nil {
			return err
		}
	}
	return nil
}

// limitPages is how many pages of the list the limit draws before its
// clock starts; each request sends one of them.
const limitPages = 400

// limitPage is one page of the list: its kind of filter, and the statements
// the server sends for it.
type limitPage struct {
	kind  string
	stmts []store.Statement
}

// listPages draws n pages of the list as the HTTP workload does (listPath:
// eight kinds of filter; 80% as a verifier, who sees all, 20% as a team's
// owner, whose scope is the team and what is assigned to them) and builds
// the server's statements of each: the subtrees the filter names, the
// page's ids, the rows of those ids with their milestones
// (store.DB.ListPageSQL). Building them runs the first two, so it is done
// before the clock starts; the measurement then sends all of them again.
func (l *limiter) listPages(ctx context.Context, s *session, n int) ([]limitPage, error) {
	units, err := l.paths(ctx, "units")
	if err != nil {
		return nil, err
	}
	cats, err := l.paths(ctx, "categories")
	if err != nil {
		return nil, err
	}
	// The server's default zone: its "today" and the days of a created-date filter.
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	today := domain.DateOf(time.Now(), loc)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	pages := make([]limitPage, 0, n)
	for range n {
		kind, q := listQuery(s, rng, units, cats, loc)
		q.Today, q.YellowDays, q.Limit = today, 3, 51 // the server's default yellow days; limit=50 and one more
		stmts, err := l.db.ListPageSQL(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list page %s: %w", kind, err)
		}
		pages = append(pages, limitPage{kind: kind, stmts: stmts})
	}
	return pages, nil
}

// listQuery draws one filter as listPath does and returns its kind and the
// query the server makes of it (the unit's and the category's paths from
// their ids, the dates in the server's zone, the caller's scope).
func listQuery(s *session, rng *rand.Rand, units, cats map[int64]string, loc *time.Location) (string, app.ProblemQuery) {
	q := app.ProblemQuery{Scope: app.Scope{All: true}}
	kind := ""
	if rng.IntN(5) == 0 {
		team := s.teams[rng.IntN(len(s.teams))]
		q.Scope = app.Scope{UserID: s.ownerIDs[team], UnitPath: units[team]}
		kind = "owner:"
	}
	statuses := []domain.Status{domain.StatusRegistered, domain.StatusAssigned, domain.StatusRectifying, domain.StatusSubmitted, domain.StatusClosed}
	k := rng.IntN(8)
	kind += []string{"status", "status+severity", "unit-subtree", "category", "overdue", "warning", "created-month", "status+team"}[k]
	switch k {
	case 0:
		q.Statuses = []domain.Status{statuses[rng.IntN(len(statuses))]}
	case 1:
		q.Statuses = []domain.Status{statuses[rng.IntN(len(statuses))]}
		q.Severities = []domain.Severity{[]domain.Severity{domain.SeverityGeneral, domain.SeveritySerious, domain.SeverityCritical}[rng.IntN(3)]}
	case 2:
		q.UnitPath = units[s.depts[rng.IntN(len(s.depts))]]
	case 3:
		q.CategoryPath = cats[s.cats[rng.IntN(len(s.cats))]]
	case 4:
		yes := true
		q.Overdue = &yes
	case 5:
		q.Warnings = []domain.WarningLevel{[]domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen}[rng.IntN(3)]}
	case 6:
		m := time.Now().AddDate(0, -rng.IntN(12), 0)
		first := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
		q.CreatedFrom, q.CreatedTo = first, first.AddDate(0, 1, 0)
	case 7:
		q.Statuses = []domain.Status{domain.StatusRectifying}
		q.UnitPath = units[s.teams[rng.IntN(len(s.teams))]]
	}
	return kind, q
}

// paths reads the path of every row of a tree table (units, categories).
func (l *limiter) paths(ctx context.Context, table string) (map[int64]string, error) {
	rows, err := l.sql.QueryContext(ctx, "SELECT id, path FROM "+table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var (
			id   int64
			path string
		)
		if err := rows.Scan(&id, &path); err != nil {
			return nil, err
		}
		out[id] = path
	}
	return out, rows.Err()
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
