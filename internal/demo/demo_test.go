package demo

import (
	"bytes"
	"context"
	"github.com/rectify-team/rectify/internal/app/wire"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

func TestPlanIsWellFormed(t *testing.T) {
	if err := checkPlan(); err != nil {
		t.Fatal(err)
	}
}

type fixture struct {
	db   *store.DB
	keys *audit.Keys
	cfg  app.Config
	svc  *wire.Services
}

// newFixture is a fresh, bootstrapped database, as `rectify serve` leaves it
// before it calls Load.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.OpenURL(t, storetest.URL(t))
	keys, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"), "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4
	svc := wire.New(db, keys, cfg)
	if _, _, err := svc.Access.Bootstrap(context.Background(), "营销服务中心", "admin-password-1"); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return &fixture{db: db, keys: keys, cfg: cfg, svc: svc}
}

func (f *fixture) problems(t *testing.T) []*domain.Problem {
	t.Helper()
	ps, err := f.db.Read().Problems.List(context.Background(), app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (f *fixture) auditEntries(t *testing.T) []*audit.Entry {
	t.Helper()
	es, err := f.db.Read().Audit.List(context.Background(), app.AuditQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var out bytes.Buffer
	before := time.Now()
	if err := Load(ctx, f.db, f.keys, f.cfg, &out); err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())

	ps := f.problems(t)
	if len(ps) != len(demoProblems) {
		t.Fatalf("%d problems, want %d", len(ps), len(demoProblems))
	}
	today := domain.DateOf(time.Now(), f.cfg.Location)
	statuses := map[domain.Status]int{}
	cats := map[int64]bool{}
	sources := map[domain.Source]bool{}
	severities := map[domain.Severity]bool{}
	warnings := map[domain.WarningLevel]int{}
	var reworked, reopened, onTime, late int
	for _, p := range ps {
		statuses[p.Status]++
		cats[p.CategoryID] = true
		sources[p.Source] = true
		severities[p.Severity] = true
		warnings[p.Warning(today, f.cfg.Deadlines.YellowDays)]++
		if p.ReworkCount > 0 {
			reworked++
		}
		if p.ReopenCount > 0 {
			reopened++
		}
		if p.Status == domain.StatusClosed {
			if *p.ClosedOnTime {
				onTime++
			} else {
				late++
			}
		}
		if p.CreatedAt.After(before) || p.UpdatedAt.After(before) {
			t.Errorf("%s %s: created %s, updated %s: in the future of the load", p.Code, p.Title, p.CreatedAt, p.UpdatedAt)
		}
	}
	for _, st := range domain.Statuses() {
		if statuses[st] == 0 {
			t.Errorf("no problem is %s", st)
		}
	}
	for id := int64(5); id <= 14; id++ {
		if !cats[id] {
			t.Errorf("category %d is not used", id)
		}
	}
	if len(sources) != len(domain.Sources()) || len(severities) != len(domain.Severities()) {
		t.Errorf("sources %v, severities %v: want every one", sources, severities)
	}
	if reworked == 0 || reopened == 0 {
		t.Errorf("reworked %d, reopened %d: want some of each", reworked, reopened)
	}
	if onTime == 0 || late == 0 {
		t.Errorf("closed on time %d, late %d: want some of each", onTime, late)
	}
	if warnings[domain.WarningRed] == 0 || warnings[domain.WarningYellow] == 0 || warnings[domain.WarningGreen] == 0 {
		t.Errorf("warnings %v: want red, yellow and green", warnings)
	}
	t.Logf("statuses %v, warnings %v", statuses, warnings)

	// 回头看: the closed serious problems have re-checks; one was recorded as holding.
	rcs, err := f.db.Read().Rechecks.List(context.Background(), app.RecheckQuery{Scope: app.Scope{All: true}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	held, pending := 0, 0
	for _, rc := range rcs {
		switch rc.Status {
		case app.RecheckHeld:
			held++
		case app.RecheckPending:
			pending++
		}
	}
	if held != 1 || pending == 0 {
		t.Errorf("re-checks: %d held, %d pending; want one held and some pending", held, pending)
	}

	exts := map[domain.ExtensionStatus]int{}
	for _, p := range ps {
		es, err := f.db.Read().Extensions.List(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			exts[e.Status]++
		}
	}
	if exts[domain.ExtensionPending] == 0 || exts[domain.ExtensionApproved] == 0 {
		t.Errorf("extensions %v: want a pending and an approved one", exts)
	}

	// The history spans the past weeks, never the future, and reads in time order.
	entries := f.auditEntries(t)
	earliest := before.AddDate(0, 0, -historyDays-1)
	actions := map[string]int{}
	var prev *audit.Entry
	for i := len(entries) - 1; i >= 0; i-- { // oldest first
		e := entries[i]
		if e.Outcome != audit.OutcomeOK {
			t.Errorf("entry %d: %s %s refused: %s", e.Seq, e.Action, e.ObjectID, e.Reason)
		}
		if e.ObjectType != "problem" {
			continue
		}
		actions[e.Action]++
		if e.At.After(before) || e.At.Before(earliest) {
			t.Errorf("entry %d (%s) at %s: outside the past %d days", e.Seq, e.Action, e.At, historyDays)
		}
		if prev != nil && e.At.Before(prev.At) {
			t.Errorf("entry %d at %s comes after entry %d at %s", e.Seq, e.At, prev.Seq, prev.At)
		}
		prev = e
	}
	for _, a := range domain.Actions() {
		if actions[string(a)] == 0 {
			t.Errorf("no %s in the history", a)
		}
	}

	res, err := f.svc.Trail.VerifyAudit(ctx, app.Caller{Actor: domain.Actor{Roles: []domain.Role{domain.RoleLeader}}})
	if err != nil || !res.OK {
		t.Fatalf("audit verify: %+v %v", res, err)
	}

	// Every demo account signs in with the password printed for it and holds the printed roles.
	printed := map[string][]string{} // username -> password, roles
	for _, line := range strings.Split(out.String(), "\n") {
		fs := strings.Fields(line)
		if len(fs) >= 3 && slices.ContainsFunc(demoUsers, func(u userSpec) bool { return u.username == fs[0] }) {
			printed[fs[0]] = fs[1:3]
		}
	}
	if !strings.Contains(out.String(), "DEMO-ONLY") {
		t.Error("the credentials are not marked as demo only")
	}
	roles := map[domain.Role]bool{}
	for _, us := range demoUsers {
		pr, ok := printed[us.username]
		if !ok {
			t.Errorf("%s is not in the printed table", us.username)
			continue
		}
		res, err := f.svc.Access.Login(ctx, app.Caller{IP: "127.0.0.1"}, us.username, pr[0])
		if err != nil {
			t.Errorf("login %s with the printed password %q: %v", us.username, pr[0], err)
			continue
		}
		got := domain.RoleNames(res.User.Roles)
		if strings.Join(got, ",") != pr[1] {
			t.Errorf("%s has roles %v, the table promises %s", us.username, got, pr[1])
		}
		for _, r := range res.User.Roles {
			roles[r] = true
		}
	}
	for _, r := range []domain.Role{domain.RoleInspector, domain.RoleOwner, domain.RoleVerifier, domain.RoleLeader} {
		if !roles[r] {
			t.Errorf("no demo user has the role %s", r)
		}
	}
	verifiers, err := f.svc.Access.Users(ctx, app.UserQuery{Role: domain.RoleVerifier, Limit: 100})
	if err != nil || len(verifiers) < 2 {
		t.Errorf("%d verifiers (%v): four-eyes needs two", len(verifiers), err)
	}

	// A second load adds nothing.
	nUsers, _ := f.db.Read().Users.Count(ctx)
	nEntries := len(f.auditEntries(t))
	out.Reset()
	if err := Load(ctx, f.db, f.keys, f.cfg, &out); err != nil {
		t.Fatalf("second load: %v", err)
	}
	if !strings.Contains(out.String(), "already present") {
		t.Errorf("second load said %q", out.String())
	}
	if n := len(f.problems(t)); n != len(demoProblems) {
		t.Errorf("%d problems after a second load, want %d", n, len(demoProblems))
	}
	if n, _ := f.db.Read().Users.Count(ctx); n != nUsers {
		t.Errorf("%d users after a second load, want %d", n, nUsers)
	}
	if n := len(f.auditEntries(t)); n != nEntries {
		t.Errorf("%d audit entries after a second load, want %d", n, nEntries)
	}
}

// A load interrupted after the accounts were made can be run again.
func TestLoadReusesAccounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	live := wire.New(f.db, f.keys, f.cfg)
	if _, err := setUpOrg(ctx, live, f.db); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Load(ctx, f.db, f.keys, f.cfg, &out); err != nil {
		t.Fatalf("load: %v", err)
	}
	if n := len(f.problems(t)); n != len(demoProblems) {
		t.Errorf("%d problems, want %d", n, len(demoProblems))
	}
	units, _ := f.svc.Access.Units(ctx)
	if len(units) != 1+len(demoUnits) {
		t.Errorf("%d units, want %d", len(units), 1+len(demoUnits))
	}
}
