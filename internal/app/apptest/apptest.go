// Package apptest builds a Service on a fresh database with a settable clock
// and a small organisation: the fixture shared by the app and API suites.
package apptest

import (
	"context"
	"github.com/rectify-team/rectify/internal/app/wire"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/blob"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Start is the fixture's initial time: 09:00 in Shanghai on 2026-03-02.
var Start = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// Env is a service on its own database with one user per role.
type Env struct {
	URL     string // the database's RECTIFY_DB URL
	Cfg     app.Config
	DB      *store.DB
	Svc     *wire.Services
	Clock   *Clock
	Keys    *audit.Keys
	Log     *audit.Log  // the checkpoint log, in a temporary directory
	Blobs   *blob.Store // attachments' contents, in a temporary directory
	Units   map[string]*app.Unit
	Users   map[string]*app.User // by username
	Callers map[string]app.Caller
}

// Password is every fixture user's password.
const Password = "correct horse battery"

// New builds the fixture: units 中心 > 部门 > 一班, 二班; users admin, inspector,
// verifier, verifier2, leader, owner1 (一班), owner2 (二班), ownerdept (部门).
func New(t testing.TB) *Env {
	t.Helper()
	return NewWithURL(t, storetest.URL(t))
}

// NewWithURL builds the fixture on the database at url.
func NewWithURL(t testing.TB, url string) *Env {
	t.Helper()
	db := storetest.OpenURL(t, url)
	keys, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"), "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4 // bcrypt.MinCost: tests log in often
	clock := NewClock(Start)
	blobs, err := blob.Open(filepath.Join(t.TempDir(), "attachments"))
	if err != nil {
		t.Fatal(err)
	}
	cplog := audit.NewLog(filepath.Join(t.TempDir(), "audit-checkpoints.log"), keys)
	svc := wire.New(db, keys, cfg, wire.WithClock(clock.Now), wire.WithBlobs(blobs), wire.WithCheckpointLog(cplog), wire.WithWorkbookReader(ledger.Parse))
	e := &Env{URL: url, Cfg: cfg, DB: db, Svc: svc, Clock: clock, Keys: keys, Log: cplog, Blobs: blobs, Units: map[string]*app.Unit{},
		Users: map[string]*app.User{}, Callers: map[string]app.Caller{}}
	ctx := context.Background()
	if _, _, err := svc.Access.Bootstrap(ctx, "中心", Password); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	admin, err := svc.Access.Authenticate(ctx, e.login(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	e.addUser("admin", admin)
	units, _ := svc.Access.Units(ctx)
	e.Units["中心"] = units[0]
	ac := e.Callers["admin"]
	mk := func(name string, parent int64) *app.Unit {
		u, err := svc.Access.CreateUnit(ctx, ac, app.UnitInput{Name: name, ParentID: parent})
		if err != nil {
			t.Fatalf("unit %s: %v", name, err)
		}
		e.Units[name] = u
		return u
	}
	dept := mk("部门", e.Units["中心"].ID)
	mk("一班", dept.ID)
	mk("二班", dept.ID)
	for _, u := range []struct {
		name, unit string
		roles      []string
	}{
		{"inspector", "部门", []string{"inspector"}},
		{"verifier", "部门", []string{"verifier"}},
		{"verifier2", "部门", []string{"verifier"}},
		{"leader", "中心", []string{"leader"}},
		{"owner1", "一班", []string{"owner"}},
		{"owner2", "二班", []string{"owner"}},
		{"ownerdept", "部门", []string{"owner"}},
		{"ownerverifier", "一班", []string{"owner", "verifier"}},
	} {
		created, err := svc.Access.CreateUser(ctx, ac, app.UserInput{Username: u.name, Name: u.name, Password: Password,
			Roles: u.roles, UnitID: e.Units[u.unit].ID})
		if err != nil {
			t.Fatalf("user %s: %v", u.name, err)
		}
		e.addUser(u.name, created)
	}
	return e
}

// Instance builds another service on the fixture's database with a
// connection pool of its own, as a second server instance would, on the
// fixture's clock. opts come after the fixture's own.
func (e *Env) Instance(t testing.TB, opts ...wire.Option) *wire.Services {
	t.Helper()
	db := storetest.OpenURL(t, e.URL)
	return wire.New(db, e.Keys, e.Cfg, append([]wire.Option{wire.WithClock(e.Clock.Now), wire.WithBlobs(e.Blobs), wire.WithWorkbookReader(ledger.Parse)}, opts...)...)
}

func (e *Env) addUser(name string, u *app.User) {
	e.Users[name] = u
	e.Callers[name] = app.Caller{Actor: u.Actor(), IP: "127.0.0.1", RequestID: "test-" + name}
}

func (e *Env) login(t testing.TB, username string) string {
	t.Helper()
	res, err := e.Svc.Access.Login(context.Background(), app.Caller{IP: "127.0.0.1"}, username, Password)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	return res.Token
}

// Login returns a fresh token for a fixture user.
func (e *Env) Login(t testing.TB, username string) string { return e.login(t, username) }

// Caller returns the caller of a fixture user.
func (e *Env) Caller(username string) app.Caller { return e.Callers[username] }

// Register registers a general problem in 一班 as the inspector.
func (e *Env) Register(t testing.TB, title string) *domain.Problem {
	t.Helper()
	p, err := e.Svc.Lifecycle.Register(context.Background(), e.Caller("inspector"), app.ProblemInput{
		Title: title, Description: "描述", CategoryID: 5, Severity: domain.SeverityGeneral,
		Source: domain.SourceInspection, UnitID: e.Units["一班"].ID})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return p
}

// Drive moves a fresh problem to the given state along the usual path:
// assigned to owner1, accepted, submitted, closed by verifier.
func (e *Env) Drive(t testing.TB, to domain.Status) *domain.Problem {
	t.Helper()
	ctx := context.Background()
	p := e.Register(t, "问题 "+string(to))
	step := func(q *domain.Problem, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("drive to %s: %v", to, err)
		}
		p = q
	}
	if to == domain.StatusRegistered {
		return p
	}
	if to == domain.StatusDismissed {
		step(e.Svc.Lifecycle.Dismiss(ctx, e.Caller("verifier"), p.ID, 0, "不予立项"))
		return p
	}
	step(e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "整改措施"}))
	if to == domain.StatusAssigned {
		return p
	}
	step(e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, 0, "签收"))
	if to == domain.StatusRectifying {
		return p
	}
	step(e.Svc.Lifecycle.Submit(ctx, e.Caller("owner1"), p.ID, 0, "已整改"))
	if to == domain.StatusSubmitted {
		return p
	}
	step(e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, 0, true, "验收通过"))
	return p
}
