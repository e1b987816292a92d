package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
)

// The data set's people all share one password, and their usernames say
// their role, so that "run" can log in as any of them.
const (
	loadPassword = "load-password"
	loadPrefix   = "load-"
)

var teamNames = []string{"一组", "二组", "三组"}

type prepareOpts struct {
	db           string
	problems     int
	units        int
	perRole      int
	months       int
	seed         uint64
	adminPass    string
	auditKeyFile string
}

func prepareCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rectify-load prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o prepareOpts
	fs.StringVar(&o.db, "db", getenv("RECTIFY_DB"), "the server's database: sqlite:PATH or mysql:DSN (RECTIFY_DB)")
	fs.IntVar(&o.problems, "problems", 10000, "problems to add (at most 5,000,000)")
	fs.IntVar(&o.units, "units", 10, "departments under the root; each gets three teams")
	fs.IntVar(&o.perRole, "per-role", 2, "users per role (inspector, verifier, leader); at least 2 for four-eyes")
	fs.IntVar(&o.months, "months", 12, "problems' creation dates spread over this many months before now")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed")
	fs.StringVar(&o.adminPass, "admin-password", "load-admin-password", "first admin's password if the database is empty")
	fs.StringVar(&o.auditKeyFile, "audit-key", filepath.Join("data", "audit.key"), "audit key file (only read or created, as the server does)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.db == "":
		return errors.New("--db (or RECTIFY_DB) is required")
	case o.problems < 0 || o.problems > 5_000_000:
		return errors.New("--problems: 0 to 5,000,000")
	case o.units < 1 || o.units > 200:
		return errors.New("--units: 1 to 200")
	case o.perRole < 2 || o.perRole > 50:
		return errors.New("--per-role: 2 to 50")
	case o.months < 1 || o.months > 120:
		return errors.New("--months: 1 to 120")
	}
	return prepare(ctx, o, stdout)
}

// loadOrg is what prepare made and run uses.
type loadOrg struct {
	teams      []*app.Unit // leaves, each with one owner
	owners     map[int64]*app.User
	categories []int64 // leaf categories
	admin      *app.User
}

func prepare(ctx context.Context, o prepareOpts, stdout io.Writer) error {
	start := time.Now()
	db, err := store.Open(ctx, o.db, store.Options{MaxOpenConns: 4, QueryTimeout: 5 * time.Minute})
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	keys, err := audit.LoadOrCreateKeys(o.auditKeyFile, "rectify-audit")
	if err != nil {
		return err
	}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4 // the load users' passwords are not secrets; logins stay cheap
	svc := wire.New(db, keys, cfg)
	if _, _, err := svc.Access.Bootstrap(ctx, "负载测试单位", o.adminPass); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	org, err := ensureOrg(ctx, db, svc, o)
	if err != nil {
		return err
	}
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintf(stdout, "organisation: %d teams, %d owners, %d leaf categories (%s)\n", len(org.teams), len(org.owners),
		len(org.categories), time.Since(start).Round(time.Millisecond))
	// The lights as the scheduler's pass keeps them, first, so that the rows
	// inserted get theirs for today (a server started without a scheduler, as
	// the runs start it, keeps them no further: run within the day).
	if err := db.KeepLights(ctx, svc.Core.Today(), cfg.Deadlines.YellowDays); err != nil {
		return err
	}
	t := time.Now()
	if err := insertProblems(ctx, db, org, o); err != nil {
		return err
	}
	took := time.Since(t)
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintf(stdout, "problems: %d inserted in %s (%.0f rows/s)\n", o.problems, took.Round(time.Millisecond),
		float64(o.problems)/took.Seconds())
	if db.Dialect() == store.DialectMySQL {
		_, _ = db.SQL().ExecContext(ctx, "ANALYZE TABLE problems")
	} else {
		_, _ = db.SQL().ExecContext(ctx, "ANALYZE")
	}
	return nil
}

// ensureOrg creates, through the service (so that every change is audited),
// the departments, teams and users the data set needs, unless they exist.
func ensureOrg(ctx context.Context, db *store.DB, svc *wire.Services, o prepareOpts) (*loadOrg, error) {
	r := db.Read()
	admin, err := r.Users.GetByUsername(ctx, "admin")
	if err != nil {
		return nil, fmt.Errorf("the first admin: %w", err)
	}
	ac := app.Caller{Actor: admin.Actor(), IP: "127.0.0.1", RequestID: "rectify-load-prepare"}
	units, err := svc.Access.Units(ctx)
	if err != nil {
		return nil, err
	}
	byParentName := map[string]*app.Unit{}
	var root *app.Unit
	for _, u := range units {
		byParentName[fmt.Sprintf("%d/%s", u.ParentID, u.Name)] = u
		if u.ParentID == 0 && root == nil {
			root = u
		}
	}
	unit := func(parent int64, name string) (*app.Unit, error) {
		if u, ok := byParentName[fmt.Sprintf("%d/%s", parent, name)]; ok {
			return u, nil
		}
		return svc.Access.CreateUnit(ctx, ac, app.UnitInput{Name: name, ParentID: parent})
	}
	user := func(username string, role domain.Role, unitID int64) (*app.User, error) {
		u, err := r.Users.GetByUsername(ctx, username)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		return svc.Access.CreateUser(ctx, ac, app.UserInput{Username: username, Name: username, Password: loadPassword,
			Roles: []string{string(role)}, UnitID: unitID})
	}
	org := &loadOrg{owners: map[int64]*app.User{}, admin: admin}
	for d := 1; d <= o.units; d++ {
		dept, err := unit(root.ID, fmt.Sprintf("负载%d处", d))
		if err != nil {
			return nil, fmt.Errorf("unit: %w", err)
		}
		for _, name := range teamNames {
			team, err := unit(dept.ID, name)
			if err != nil {
				return nil, fmt.Errorf("unit: %w", err)
			}
			owner, err := user(fmt.Sprintf("%sowner-%d", loadPrefix, team.ID), domain.RoleOwner, team.ID)
			if err != nil {
				return nil, fmt.Errorf("user: %w", err)
			}
			org.teams = append(org.teams, team)
			org.owners[team.ID] = owner
		}
	}
	for _, role := range []domain.Role{domain.RoleInspector, domain.RoleVerifier, domain.RoleLeader} {
		for i := 1; i <= o.perRole; i++ {
			if _, err := user(fmt.Sprintf("%s%s-%d", loadPrefix, role, i), role, root.ID); err != nil {
				return nil, fmt.Errorf("user: %w", err)
			}
		}
	}
	if org.categories, err = leafCategories(ctx, db.SQL()); err != nil {
		return nil, err
	}
	return org, nil
}

func leafCategories(ctx context.Context, db *sql.DB) ([]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT c.id FROM categories c WHERE NOT EXISTS (SELECT 1 FROM categories k WHERE k.parent_id = c.id) ORDER BY c.id")
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	defer func() { _ = rows.Close() }() // read-only: Err below reports a failed scan
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, errors.New("no categories: is the database migrated?")
	}
	return out, rows.Err()
}

// statusMix is how the data set's problems are spread over the states.
var statusMix = []struct {
	status domain.Status
	weight int
}{
	{domain.StatusRegistered, 15}, {domain.StatusAssigned, 15}, {domain.StatusRectifying, 20},
	{domain.StatusSubmitted, 10}, {domain.StatusClosed, 35}, {domain.StatusDismissed, 5},
}

var (
	severities = []domain.Severity{domain.SeverityGeneral, domain.SeverityGeneral, domain.SeveritySerious, domain.SeverityCritical}
	sources    = []domain.Source{domain.SourceSelfCheck, domain.SourceSpotCheck, domain.SourceInspection, domain.SourceSupervision, domain.SourceReport}
	titles     = []string{"学习意识不强", "大局意识欠缺", "等靠思想", "守摊思想", "本位主义", "争先劲头不足", "廉洁风险点", "规矩意识淡薄", "眼界思路不宽", "争先能力不足"}
)

// insertProblems adds o.problems rows in created order (so that ids grow with
// time, as they do in use) through the store's own bulk path, the one the
// ledger's import takes: codes reserved from each year's counter, rows
// inserted many at a time. The rows have no audit entries: they stand for
// history that is not replayed; actions on them later start their trail.
func insertProblems(ctx context.Context, db *store.DB, org *loadOrg, o prepareOpts) error {
	if o.problems == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(o.seed, uint64(o.problems)))
	loc, _ := time.LoadLocation("Asia/Shanghai")
	if loc == nil {
		loc = time.UTC
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	span := now.Sub(now.AddDate(0, -o.months, 0))
	step := span / time.Duration(o.problems)
	first := now.Add(-span)
	inspector, err := userByName(ctx, db.SQL(), loadPrefix+"inspector-1")
	if err != nil {
		return err
	}
	verifier, err := userByName(ctx, db.SQL(), loadPrefix+"verifier-1")
	if err != nil {
		return err
	}
	total := 0
	for _, s := range statusMix {
		total += s.weight
	}
	// About 20,000 rows a transaction: one commit (and one fsync) each.
	const perTx = 20000
	chunk := make([]*domain.Problem, 0, perTx)
	for i := range o.problems {
		created := first.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step)+1)))
		if created.After(now) {
			created = now
		}
		day := domain.DateOf(created, loc)
		pick := rng.IntN(total)
		status := statusMix[0].status
		for _, s := range statusMix {
			if pick < s.weight {
				status = s.status
				break
			}
			pick -= s.weight
		}
		team := org.teams[rng.IntN(len(org.teams))]
		sev := severities[rng.IntN(len(severities))]
		days := map[domain.Severity]int{domain.SeverityGeneral: 30, domain.SeveritySerious: 15, domain.SeverityCritical: 7}[sev]
		title := titles[rng.IntN(len(titles))]
		p := &domain.Problem{Title: fmt.Sprintf("%s（负载 %d）", title, i), Description: "负载测试数据：" + title,
			CategoryID: org.categories[rng.IntN(len(org.categories))], Severity: sev, Source: sources[rng.IntN(len(sources))],
			UnitID: team.ID, FoundAt: day, Status: status, Version: 1, CreatedAt: created, UpdatedAt: created}
		if status != domain.StatusRegistered && status != domain.StatusDismissed {
			a := created.Add(time.Duration(rng.IntN(48)) * time.Hour)
			p.AssigneeID, p.AssignedAt, p.Measures = org.owners[team.ID].ID, &a, "按期整改，举一反三"
			p.Deadline = day.AddDays(days)
			p.Version, p.UpdatedAt = 2, a
			switch status {
			case domain.StatusRectifying:
				p.Version, p.Percent = 3, rng.IntN(100)
			case domain.StatusSubmitted, domain.StatusClosed:
				s := a.Add(time.Duration(1+rng.IntN(24*days)) * time.Hour)
				p.SubmittedAt, p.SubmittedBy, p.Version, p.Percent, p.UpdatedAt = &s, org.owners[team.ID].ID, 4, 100, s
				if status == domain.StatusClosed {
					c := s.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
					onTime := !domain.DateOf(c, loc).After(day.AddDays(days))
					p.ClosedAt, p.Version, p.UpdatedAt, p.ClosedOnTime = &c, 5, c, &onTime
				}
				if rng.IntN(10) == 0 {
					p.ReworkCount = 1
				}
			}
			if rng.IntN(20) == 0 {
				p.ExtensionCount = 1
			}
		}
		if status == domain.StatusDismissed {
			p.Version, p.UpdatedAt = 2, created.Add(time.Hour)
		}
		if status == domain.StatusClosed && rng.IntN(50) == 0 {
			p.ReopenCount = 1
		}
		if p.UpdatedAt.After(now) {
			// A step that would lie in the future has not happened yet on a live system, but the problem
			// was touched at some time since it was created: spread those times rather than giving every
			// recent problem the same updated_at (the board's refresh reads what changed recently).
			p.UpdatedAt = created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1)))
		}
		p.CreatedBy = pickCreator(rng, inspector, verifier)
		if chunk = append(chunk, p); len(chunk) == perTx {
			if err := loadProblems(ctx, db, chunk); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
	return loadProblems(ctx, db, chunk)
}

// loadProblems gives ps the next codes of their found dates' years and
// inserts them, in one transaction.
func loadProblems(ctx context.Context, db *store.DB, ps []*domain.Problem) error {
	if len(ps) == 0 {
		return nil
	}
	return db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		var years []int
		count := map[int]int64{}
		for _, p := range ps {
			if count[p.FoundAt.Year()]++; count[p.FoundAt.Year()] == 1 {
				years = append(years, p.FoundAt.Year())
			}
		}
		next := map[int]int64{}
		for _, y := range years {
			first, err := r.Ledger.ReserveCodes(ctx, y, count[y])
			if err != nil {
				return err
			}
			next[y] = first
		}
		for _, p := range ps {
			y := p.FoundAt.Year()
			p.Code = fmt.Sprintf("WT-%d-%06d", y, next[y])
			next[y]++
		}
		return r.Ledger.InsertProblems(ctx, ps)
	})
}

func pickCreator(rng *rand.Rand, inspector, verifier *app.User) int64 {
	if rng.IntN(4) == 0 {
		return verifier.ID
	}
	return inspector.ID
}

func userByName(ctx context.Context, db *sql.DB, username string) (*app.User, error) {
	u := &app.User{Username: username}
	if err := db.QueryRowContext(ctx, "SELECT id, unit_id FROM users WHERE username = ?", username).Scan(&u.ID, &u.UnitID); err != nil {
		return nil, fmt.Errorf("user %s: %w", username, err)
	}
	return u, nil
}
