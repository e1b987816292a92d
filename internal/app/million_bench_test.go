package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// BenchmarkMillion loads 1,000,000 problems (and their assign and accept
// entries) into MariaDB with batched inserts, then times what must stay fast
// on a campaign of that size: the board, the trend, the evaluation and
// filtered list pages. It prints the EXPLAIN plan of every statement each
// operation runs. See docs/performance-board.md for the numbers.
//
//	RECTIFY_BENCH_MILLION=1 RECTIFY_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/' \
//	  go test -run '^$' -bench Million -benchtime 20x -timeout 2h ./internal/app/
//
// RECTIFY_BENCH_PROBLEMS changes the count; RECTIFY_BENCH_DB=name keeps the
// loaded schema under that name for the next run (otherwise a fresh schema is
// made and dropped).
func BenchmarkMillion(b *testing.B) {
	if os.Getenv("RECTIFY_BENCH_MILLION") == "" || storetest.Backend() != store.DialectMySQL {
		b.Skip("set RECTIFY_BENCH_MILLION=1 and RECTIFY_TEST_MYSQL_DSN to load a million problems into MariaDB")
	}
	n := 1_000_000
	if v := os.Getenv("RECTIFY_BENCH_PROBLEMS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("RECTIFY_BENCH_PROBLEMS %q: %v", v, err)
		}
	}
	w := openMillion(b, n)
	ctx := context.Background()
	march := stats.Month{Year: 2026, Month: time.March}
	dept := w.depts[3]
	running := []domain.Status{domain.StatusRectifying}
	ops := []struct {
		name string
		fn   func(svc *wire.Services) error
	}{
		{"overview/all", func(svc *wire.Services) error {
			_, err := svc.Board.Overview(ctx, w.leader, app.BoardInput{})
			return err
		}},
		{"overview/department", func(svc *wire.Services) error {
			_, err := svc.Board.Overview(ctx, w.leader, app.BoardInput{UnitID: dept})
			return err
		}},
		{"overview/owner-scope", func(svc *wire.Services) error {
			_, err := svc.Board.Overview(ctx, w.owner, app.BoardInput{})
			return err
		}},
		{"overview/last-90-days", func(svc *wire.Services) error {
			_, err := svc.Board.Overview(ctx, w.leader, app.BoardInput{From: w.now.AddDate(0, 0, -90)})
			return err
		}},
		{"trend/12-months", func(svc *wire.Services) error {
			_, err := svc.Board.Trend(ctx, w.leader, app.TrendInput{By: stats.ByMonth})
			return err
		}},
		{"evaluation/person", func(svc *wire.Services) error {
			_, err := svc.Board.Evaluation(ctx, w.leader, march, app.LevelPerson)
			return err
		}},
		{"list/first-page", func(svc *wire.Services) error {
			_, _, err := svc.Lifecycle.Problems(ctx, w.leader, app.ProblemFilter{Limit: 50})
			return err
		}},
		{"list/department-rectifying", func(svc *wire.Services) error {
			_, _, err := svc.Lifecycle.Problems(ctx, w.leader, app.ProblemFilter{UnitID: dept, Statuses: running, Limit: 50})
			return err
		}},
		{"list/overdue-red", func(svc *wire.Services) error {
			_, _, err := svc.Lifecycle.Problems(ctx, w.leader, app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningRed},
				Statuses: []domain.Status{domain.StatusRectifying, domain.StatusAssigned}, Limit: 50})
			return err
		}},
		{"list/owner-scope", func(svc *wire.Services) error {
			_, _, err := svc.Lifecycle.Problems(ctx, w.owner, app.ProblemFilter{Limit: 50})
			return err
		}},
		{"report/overdue", func(svc *wire.Services) error {
			_, err := svc.Board.Report(ctx, w.leader, app.ReportInput{Kind: app.ReportOverdue, From: march.First(), To: march.Last()})
			return err
		}},
	}
	// The board's in-memory index: loading it on a fresh service (once per
	// process), and what it holds.
	b.Run("board-index/load", func(b *testing.B) {
		for b.Loop() {
			svc := wire.New(w.db, w.keys, w.cfg, wire.WithClock(func() time.Time { return w.now }))
			if err := svc.Board.WarmBoard(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fresh := wire.New(w.db, w.keys, w.cfg, wire.WithClock(func() time.Time { return w.now }))
	if err := fresh.Board.WarmBoard(ctx); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Logf("board index: %.1f MiB of heap for %d problems", float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), n)
	runtime.KeepAlive(fresh)
	if err := w.svc.Board.WarmBoard(ctx); err != nil {
		b.Fatal(err)
	}
	explain := os.Getenv("RECTIFY_BENCH_EXPLAIN") != ""
	for _, op := range ops {
		if explain {
			w.explain(b, op.name, func(svc *wire.Services) error { return op.fn(svc) })
		}
		b.Run(op.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := op.fn(w.svc); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			at := func(p float64) float64 {
				return float64(took[int(stats.NearestRank(int64(len(took)), p))-1].Microseconds()) / 1000
			}
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
		})
	}
}

// millionWorld is the loaded database and the callers the benchmark acts as.
type millionWorld struct {
	db     *store.DB
	svc    *wire.Services
	keys   *audit.Keys
	cfg    app.Config
	now    time.Time
	leader app.Caller
	owner  app.Caller
	depts  []int64
}

const (
	benchDepts        = 10 // departments under the root
	benchTeams        = 10 // teams in each department
	benchOwnersInTeam = 10
	benchUnitBase     = 1000
	benchUserBase     = 10000
)

func openMillion(b *testing.B, n int) *millionWorld {
	b.Helper()
	url := storetest.URL(b)
	if name := os.Getenv("RECTIFY_BENCH_DB"); name != "" {
		cfg, err := mysql.ParseDSN(os.Getenv(storetest.EnvMySQL))
		if err != nil {
			b.Fatal(err)
		}
		cfg.DBName = ""
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := admin.Exec("CREATE DATABASE IF NOT EXISTS " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			b.Fatal(err)
		}
		_ = admin.Close()
		cfg.DBName = name
		url = "mysql:" + cfg.FormatDSN()
	}
	db := storetest.OpenURL(b, url)
	keys, err := audit.LoadOrCreateKeys(filepath.Join(b.TempDir(), "audit.key"), "rectify-bench")
	if err != nil {
		b.Fatal(err)
	}
	cfg := app.DefaultConfig()
	now := time.Date(2026, 4, 2, 1, 0, 0, 0, time.UTC) // 09:00 in Shanghai, 2 April 2026
	w := &millionWorld{db: db, keys: keys, cfg: cfg, now: now}
	w.svc = wire.New(db, keys, cfg, wire.WithClock(func() time.Time { return now }))
	var have int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM problems").Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have < n {
		start := time.Now()
		loadMillion(b, db.SQL(), n, now)
		b.Logf("loaded %d problems in %s", n, time.Since(start).Round(time.Second))
	}
	for d := 1; d <= benchDepts; d++ {
		w.depts = append(w.depts, int64(benchUnitBase+d))
	}
	w.leader = app.Caller{Actor: domain.Actor{UserID: benchUserBase - 1, Username: "leader", Roles: []domain.Role{domain.RoleLeader},
		UnitID: 1, UnitPath: "/1/"}, IP: "127.0.0.1", RequestID: "bench"}
	team := teamID(2, 3)
	w.owner = app.Caller{Actor: domain.Actor{UserID: ownerID(team, 0), Username: "owner", Roles: []domain.Role{domain.RoleOwner},
		UnitID: team, UnitPath: fmt.Sprintf("/1/%d/%d/", benchUnitBase+2, team)}, IP: "127.0.0.1", RequestID: "bench"}
	return w
}

func teamID(dept, team int) int64 { return int64(benchUnitBase*2 + dept*100 + team) }

func ownerID(team int64, k int) int64 {
	return benchUserBase + (team-benchUnitBase*2)*benchOwnersInTeam + int64(k)
}

// loadMillion inserts the organisation, n problems spread over three years
// and their audit entries, in batches of 1000 rows, with unique and foreign
// key checks off for the loading session.
func loadMillion(b *testing.B, db *sql.DB, n int, now time.Time) {
	b.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = conn.Close() }() // returns the connection to the pool
	exec := func(q string, args ...any) {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%.200s: %v", q, err)
		}
	}
	exec("SET SESSION unique_checks = 0, foreign_key_checks = 0")
	defer exec("SET SESSION unique_checks = 1, foreign_key_checks = 1")
	at := now.Add(-3 * 365 * 24 * time.Hour)
	exec("INSERT IGNORE INTO units (id, name, parent_id, path, created_at, updated_at) VALUES (1, '中心', NULL, '/1/', ?, ?)", at, at)
	var teams []int64
	for d := 1; d <= benchDepts; d++ {
		dept := int64(benchUnitBase + d)
		exec("INSERT INTO units (id, name, parent_id, path, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?)",
			dept, fmt.Sprintf("第%d部门", d), fmt.Sprintf("/1/%d/", dept), at, at)
		for t := 1; t <= benchTeams; t++ {
			team := teamID(d, t)
			teams = append(teams, team)
			exec("INSERT INTO units (id, name, parent_id, path, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
				team, fmt.Sprintf("%d部%d班", d, t), dept, fmt.Sprintf("/1/%d/%d/", dept, team), at, at)
		}
	}
	const hash = "$2a$04$benchbenchbenchbenchbeuQ8l1bUeFh9oUqz1XvJq0q2m0Yk8n2K" // never logged in
	exec("INSERT INTO users (id, username, name, password_hash, roles, unit_id, disabled, created_at, updated_at) VALUES (?, 'bench_leader', '领导', ?, 'leader', 1, 0, ?, ?)",
		benchUserBase-1, hash, at, at)
	exec("INSERT INTO users (id, username, name, password_hash, roles, unit_id, disabled, created_at, updated_at) VALUES (?, 'bench_verifier', '工作小组', ?, 'verifier', 1, 0, ?, ?)",
		benchUserBase-2, hash, at, at)
	var users []string
	var uargs []any
	for _, team := range teams {
		for k := range benchOwnersInTeam {
			id := ownerID(team, k)
			users = append(users, "(?, ?, ?, ?, 'owner', ?, 0, ?, ?)")
			uargs = append(uargs, id, fmt.Sprintf("owner%d", id), fmt.Sprintf("责任人%d", id), hash, team, at, at)
		}
	}
	exec("INSERT INTO users (id, username, name, password_hash, roles, unit_id, disabled, created_at, updated_at) VALUES "+
		strings.Join(users, ", "), uargs...)

	rng := rand.New(rand.NewPCG(2026, 4))
	span := now.Sub(at)
	severities := []domain.Severity{domain.SeverityGeneral, domain.SeverityGeneral, domain.SeverityGeneral,
		domain.SeveritySerious, domain.SeveritySerious, domain.SeverityCritical}
	days := map[domain.Severity]int{domain.SeverityGeneral: 30, domain.SeveritySerious: 15, domain.SeverityCritical: 7}
	loc := app.DefaultConfig().Location
	const batch = 1000
	pcols := "(id, code, title, description, category_id, severity, source, unit_id, found_at, status, version, assignee_id, " +
		"deadline, measures, percent, rework_count, reopen_count, extension_count, closed_on_time, submitted_by, created_by, " +
		"created_at, updated_at, assigned_at, submitted_at, closed_at)"
	acols := "(stream, stream_seq, at, actor_id, actor_name, actor_roles, ip, request_id, action, object_type, object_id, " +
		"from_state, to_state, changes, outcome, reason, prev_hash, hash)"
	zero := strings.Repeat("0", 64)
	var prow, arow []string
	var pargs, aargs []any
	flush := func() {
		if len(prow) > 0 {
			exec("INSERT INTO problems "+pcols+" VALUES "+strings.Join(prow, ", "), pargs...)
		}
		if len(arow) > 0 {
			exec("INSERT INTO audit_entries "+acols+" VALUES "+strings.Join(arow, ", "), aargs...)
		}
		prow, arow, pargs, aargs = prow[:0], arow[:0], pargs[:0], aargs[:0]
	}
	entry := func(id int64, seq int, at time.Time, actor int64, action, from, to string) {
		arow = append(arow, "(?, ?, ?, ?, 'bench', 'owner', '127.0.0.1', 'bench', ?, 'problem', ?, ?, ?, '{}', 'ok', '', ?, ?)")
		aargs = append(aargs, audit.ProblemStream(id), seq, at.UTC().Truncate(time.Microsecond), actor, action,
			fmt.Sprint(id), from, to, zero, zero)
	}
	for i := 1; i <= n; i++ {
		id := int64(i)
		created := at.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
		team := teams[rng.IntN(len(teams))]
		owner := ownerID(team, rng.IntN(benchOwnersInTeam))
		sev := severities[rng.IntN(len(severities))]
		src := domain.Sources()[rng.IntN(5)]
		cat := 5 + rng.IntN(10)
		recent := now.Sub(created) < 60*24*time.Hour
		r := rng.Float64()
		var status domain.Status
		switch {
		case recent && r < 0.10, !recent && r < 0.02:
			status = domain.StatusRegistered
		case recent && r < 0.15, !recent && r < 0.07:
			status = domain.StatusDismissed
		case recent && r < 0.30, !recent && r < 0.08:
			status = domain.StatusAssigned
		case recent && r < 0.60, !recent && r < 0.10:
			status = domain.StatusRectifying
		case recent && r < 0.70, !recent && r < 0.11:
			status = domain.StatusSubmitted
		default:
			status = domain.StatusClosed
		}
		var (
			assigneeID, submittedBy             any
			deadline                            any
			assignedAt, submittedAt, closedAt   any
			closedOnTime                        any
			rework, reopen, extension, percent  int
			assigned, accepted, submitted, done time.Time
		)
		updated := created
		if status != domain.StatusRegistered && status != domain.StatusDismissed {
			assigned = created.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))
			dl := domain.DateOf(assigned, loc).AddDays(days[sev])
			if rng.IntN(20) == 0 {
				extension = 1
				dl = dl.AddDays(10)
			}
			assigneeID, deadline, assignedAt, updated = owner, dl.String(), assigned, assigned
			entry(id, 1, assigned, benchUserBase-2, "assign", "registered", "assigned")
			if status != domain.StatusAssigned {
				accepted = assigned.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
				if accepted.After(now) {
					accepted = now.Add(-time.Minute)
				}
				entry(id, 2, accepted, owner, "accept", "assigned", "rectifying")
				updated, percent = accepted, rng.IntN(100)
			}
			if status == domain.StatusSubmitted || status == domain.StatusClosed {
				submitted = accepted.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
				if submitted.After(now) {
					submitted = now.Add(-time.Minute)
				}
				submittedBy, submittedAt, updated, percent = owner, submitted, submitted, 100
				if rng.IntN(8) == 0 {
					rework = 1 + rng.IntN(2)
				}
			}
			if status == domain.StatusClosed {
				done = submitted.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
				if done.After(now) {
					done = now.Add(-time.Second)
				}
				closedAt, updated = done, done
				closedOnTime = !domain.DateOf(done, loc).After(dl)
			}
			if status == domain.StatusRectifying && rng.IntN(30) == 0 {
				reopen = 1
			}
		} else if status == domain.StatusDismissed {
			updated = created.Add(time.Hour)
		}
		prow = append(prow, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		pargs = append(pargs, id, fmt.Sprintf("WT-%d-%07d", created.Year(), id), fmt.Sprintf("问题%d：作风建设检查发现的问题", id),
			"部分同志存在学习意识不强、等靠思想等情况，需限期整改。", cat, sev, src, team,
			domain.DateOf(created, loc).String(), status, assigneeID, deadline, "制定整改措施并落实", percent, rework, reopen,
			extension, closedOnTime, submittedBy, benchUserBase-2, created, updated, assignedAt, submittedAt, closedAt)
		if len(prow) == batch {
			flush()
		}
		if i%100_000 == 0 {
			b.Logf("loaded %d problems", i)
		}
	}
	flush()
	exec("ANALYZE TABLE problems, audit_entries, units, users")
}

// explain runs op once on a handle that records its statements and prints
// the plan of each SELECT.
func (w *millionWorld) explain(b *testing.B, name string, op func(*wire.Services) error) {
	b.Helper()
	var (
		stmts     []string
		recording bool
	)
	logged := w.db.WithStatementLog(func(sql string) {
		if recording && !slices.Contains(stmts, sql) {
			stmts = append(stmts, sql)
		}
	})
	svc := wire.New(logged, w.keys, w.cfg, wire.WithClock(func() time.Time { return w.now }))
	if err := svc.Board.WarmBoard(context.Background()); err != nil { // the plans of a warm service, as requests see them
		b.Fatal(err)
	}
	recording = true
	start := time.Now()
	if err := op(svc); err != nil {
		b.Fatal(err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "### %s (%d statements, %s)\n", name, len(stmts), time.Since(start).Round(time.Millisecond))
	for _, s := range stmts {
		if !strings.HasPrefix(strings.TrimSpace(strings.ToUpper(s)), "SELECT") {
			continue
		}
		fmt.Fprintf(&out, "\n```sql\n%s\n```\n", s)
		rows, err := w.db.SQL().Query("EXPLAIN " + s)
		if err != nil {
			fmt.Fprintf(&out, "EXPLAIN failed: %v\n", err)
			continue
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&out, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat(" --- |", len(cols)))
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			cells := make([]string, len(cols))
			for i, v := range vals {
				cells[i] = strings.ReplaceAll(v.String, "|", "\\|")
			}
			fmt.Fprintf(&out, "| %s |\n", strings.Join(cells, " | "))
		}
		_ = rows.Close() // read to the end
	}
	if path := os.Getenv("RECTIFY_BENCH_EXPLAIN"); path != "" && path != "1" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = f.WriteString(out.String() + "\n")
			_ = f.Close()
		}
	} else {
		b.Log("\n" + out.String())
	}
}
