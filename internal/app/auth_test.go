package app_test

import (
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

func TestLoginAndAuthenticate(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	res, err := e.Svc.Access.Login(ctx, app.Caller{IP: "10.0.0.1"}, "  Owner1 ", apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Token, "rct_") || len(res.Token) < 40 {
		t.Fatalf("token %q", res.Token)
	}
	if !res.ExpiresAt.Equal(e.Clock.Now().Add(e.Svc.Core.Config().TokenTTL)) || res.User.Username != "owner1" {
		t.Fatalf("login result %+v", res)
	}
	u, err := e.Svc.Access.Authenticate(ctx, res.Token)
	if err != nil || u.ID != e.Users["owner1"].ID || u.UnitPath != e.Units["一班"].Path {
		t.Fatalf("authenticate: %+v %v", u, err)
	}
	// Only the token's hash is stored.
	if n := count(t, e, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", res.Token); n != 0 {
		t.Fatal("the token is stored in clear")
	}
	for _, bad := range []string{"", "rct_unknown", res.Token + "x", strings.Repeat("a", 300)} {
		if _, err := e.Svc.Access.Authenticate(ctx, bad); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("Authenticate(%.20q): %v", bad, err)
		}
	}
	other := e.Login(t, "owner1")
	if other == res.Token {
		t.Fatal("two logins share a token")
	}
	for _, in := range [][2]string{{"", "x"}, {"owner1", ""}, {"owner1", strings.Repeat("p", 73)}} {
		var v *domain.ValidationError
		if _, err := e.Svc.Access.Login(ctx, app.Caller{}, in[0], in[1]); !errors.As(err, &v) {
			t.Errorf("login %q: %v, want a validation error", in[0], err)
		}
	}
}

func TestLoginFailuresAreIndistinguishable(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	disabled := true
	if _, err := e.Svc.Access.UpdateUser(ctx, e.Caller("admin"), e.Users["owner2"].ID, app.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, in := range [][2]string{
		{"nobody", apptest.Password},   // unknown user
		{"owner1", "not the password"}, // wrong password
		{"owner2", apptest.Password},   // disabled, right password
		{"owner2", "not the password"}, // disabled, wrong password
	} {
		_, err := e.Svc.Access.Login(ctx, app.Caller{IP: "10.0.0.2"}, in[0], in[1])
		if !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("login %s: %v, want ErrUnauthenticated", in[0], err)
		}
		if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("login %s: %v tells more than it should", in[0], err)
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("login errors differ: %q", msgs)
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	cfg := e.Svc.Core.Config()
	if cfg.MaxFailuresPerUser != 5 {
		t.Fatalf("max failures per user %d", cfg.MaxFailuresPerUser)
	}
	c := app.Caller{IP: "10.0.0.3"}
	for i := range 5 {
		if _, err := e.Svc.Access.Login(ctx, c, "owner1", fmt.Sprintf("wrong %d", i)); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("failure %d: %v", i, err)
		}
		e.Clock.Advance(time.Second)
	}
	// The sixth attempt is refused even with the right password, from any address.
	for _, ip := range []string{"10.0.0.3", "10.7.7.7"} {
		if _, err := e.Svc.Access.Login(ctx, app.Caller{IP: ip}, "owner1", apptest.Password); !errors.Is(err, domain.ErrTooManyAttempts) {
			t.Fatalf("after 5 failures, from %s: %v, want ErrTooManyAttempts", ip, err)
		}
	}
	last := lastEntry(t, e, audit.SystemStream)
	if last.Action != "login" || last.Outcome != audit.OutcomeRefused || !strings.Contains(last.Reason, "too many") {
		t.Fatalf("throttled attempt audited as %+v", last)
	}
	// Other users are not throttled.
	if _, err := e.Svc.Access.Login(ctx, c, "owner2", apptest.Password); err != nil {
		t.Fatalf("owner2 throttled with owner1: %v", err)
	}
	// Still within the window of the first failure.
	e.Clock.Advance(cfg.LoginWindow - 6*time.Second)
	if _, err := e.Svc.Access.Login(ctx, c, "owner1", apptest.Password); !errors.Is(err, domain.ErrTooManyAttempts) {
		t.Fatalf("inside the window: %v", err)
	}
	// Once the first failure leaves the window, four remain: one more attempt is allowed.
	e.Clock.Advance(time.Second + time.Microsecond)
	res, err := e.Svc.Access.Login(ctx, c, "owner1", apptest.Password)
	if err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if _, err := e.Svc.Access.Authenticate(ctx, res.Token); err != nil {
		t.Fatal(err)
	}
	// A successful login clears the failures.
	for i := range 4 {
		if _, err := e.Svc.Access.Login(ctx, c, "owner1", fmt.Sprintf("wrong %d", i)); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("failure %d after clearing: %v", i, err)
		}
	}
	if _, err := e.Svc.Access.Login(ctx, c, "owner1", apptest.Password); err != nil {
		t.Fatalf("four failures after a success throttle: %v", err)
	}
}

func TestLoginThrottlingPerIP(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	max := int(e.Svc.Core.Config().MaxFailuresPerIP)
	c := app.Caller{IP: "203.0.113.50"}
	for i := range max {
		// Spread over many usernames so that no user reaches its own limit.
		if _, err := e.Svc.Access.Login(ctx, c, fmt.Sprintf("guess%d", i%10), "wrong"); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := e.Svc.Access.Login(ctx, c, "owner1", apptest.Password); !errors.Is(err, domain.ErrTooManyAttempts) {
		t.Fatalf("after %d failures from one address: %v", max, err)
	}
	if _, err := e.Svc.Access.Login(ctx, app.Caller{IP: "203.0.113.51"}, "owner1", apptest.Password); err != nil {
		t.Fatalf("another address is throttled too: %v", err)
	}
	e.Clock.Advance(e.Svc.Core.Config().LoginWindow + time.Second)
	if _, err := e.Svc.Access.Login(ctx, c, "owner1", apptest.Password); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestTokenExpiresByClock(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	token := e.Login(t, "verifier")
	ttl := e.Svc.Core.Config().TokenTTL
	e.Clock.Advance(ttl - time.Second)
	if _, err := e.Svc.Access.Authenticate(ctx, token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.Clock.Advance(time.Second)
	if _, err := e.Svc.Access.Authenticate(ctx, token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("at expiry: %v", err)
	}
	e.Clock.Advance(time.Hour)
	if _, err := e.Svc.Access.Authenticate(ctx, token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("after expiry: %v", err)
	}
	if _, err := e.Svc.Access.Authenticate(ctx, e.Login(t, "verifier")); err != nil {
		t.Fatalf("a new login after expiry: %v", err)
	}
}

func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	admin := e.Caller("admin")

	t.Run("logout", func(t *testing.T) {
		t1, t2 := e.Login(t, "owner1"), e.Login(t, "owner1")
		if err := e.Svc.Access.Logout(ctx, e.Caller("owner1"), t1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, t1); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("after logout: %v", err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, t2); err != nil {
			t.Fatalf("logout revoked another session: %v", err)
		}
	})
	t.Run("disabling the user", func(t *testing.T) {
		tok := e.Login(t, "owner2")
		yes, no := true, false
		if _, err := e.Svc.Access.UpdateUser(ctx, admin, e.Users["owner2"].ID, app.UserPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, tok); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("disabled user's token: %v", err)
		}
		if _, err := e.Svc.Access.UpdateUser(ctx, admin, e.Users["owner2"].ID, app.UserPatch{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, tok); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("re-enabling brought an old token back: %v", err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, e.Login(t, "owner2")); err != nil {
			t.Fatalf("re-enabled user logs in: %v", err)
		}
	})
	t.Run("resetting the password", func(t *testing.T) {
		tok := e.Login(t, "ownerdept")
		if err := e.Svc.Access.ResetPassword(ctx, admin, e.Users["ownerdept"].ID, "a fresh password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, tok); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("token after reset: %v", err)
		}
		if _, err := e.Svc.Access.Login(ctx, app.Caller{}, "ownerdept", apptest.Password); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("old password after reset: %v", err)
		}
		if _, err := e.Svc.Access.Login(ctx, app.Caller{}, "ownerdept", "a fresh password"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		var v *domain.ValidationError
		if err := e.Svc.Access.ResetPassword(ctx, admin, e.Users["ownerdept"].ID, "short"); !errors.As(err, &v) {
			t.Fatalf("short password: %v", err)
		}
	})
	t.Run("disabling another user leaves mine", func(t *testing.T) {
		tok := e.Login(t, "leader")
		yes := true
		if _, err := e.Svc.Access.UpdateUser(ctx, admin, e.Users["inspector"].ID, app.UserPatch{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Svc.Access.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	})
}

// Several server instances share one database, and sessions survive a restart.
func TestTokensWorkAcrossInstancesAndRestarts(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	e := apptest.NewWithURL(t, url)
	ctx := t.Context()
	db2 := storetest.OpenURL(t, url)
	svc2 := wire.New(db2, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))

	tok1 := e.Login(t, "owner1")
	u, err := svc2.Access.Authenticate(ctx, tok1)
	if err != nil || u.Username != "owner1" {
		t.Fatalf("token of instance 1 on instance 2: %v %v", u, err)
	}
	res, err := svc2.Access.Login(ctx, app.Caller{IP: "10.0.0.9"}, "verifier", apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Access.Authenticate(ctx, res.Token); err != nil {
		t.Fatalf("token of instance 2 on instance 1: %v", err)
	}
	// Work done on one instance is seen by the other.
	p, err := svc2.Lifecycle.Register(ctx, e.Caller("inspector"), app.ProblemInput{Title: "跨实例", CategoryID: 5,
		Severity: domain.SeverityGeneral, Source: domain.SourceReport, UnitID: e.Units["一班"].ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.Svc.Lifecycle.Problem(ctx, e.Caller("leader"), p.ID); err != nil || got.Code != p.Code {
		t.Fatalf("instance 1 reads %v %v", got, err)
	}
	// Logging out on one instance logs out everywhere.
	if err := svc2.Access.Logout(ctx, e.Caller("owner1"), tok1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Access.Authenticate(ctx, tok1); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("instance 1 after logout on instance 2: %v", err)
	}

	// Restart: every pool closed, a new service on the same database URL.
	if err := e.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
	db3 := storetest.OpenURL(t, url)
	svc3 := wire.New(db3, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	if u, err := svc3.Access.Authenticate(ctx, res.Token); err != nil || u.Username != "verifier" {
		t.Fatalf("token after restart: %v %v", u, err)
	}
	if _, err := svc3.Access.Authenticate(ctx, tok1); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("revoked token after restart: %v", err)
	}
	if created, _, err := svc3.Access.Bootstrap(ctx, "中心", ""); err != nil || created {
		t.Fatalf("bootstrap after restart: %v %v", created, err)
	}
	if r, err := svc3.Trail.VerifyAudit(ctx, e.Caller("leader")); err != nil || !r.OK {
		t.Fatalf("trail after restart: %+v %v", r, err)
	}
}

func newBareService(t *testing.T, url string) *wire.Services {
	t.Helper()
	db := storetest.OpenURL(t, url)
	keys, err := audit.LoadOrCreateKeys(t.TempDir()+"/audit.key", "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.DefaultConfig()
	cfg.BcryptCost = 4
	return wire.New(db, keys, cfg, wire.WithClock(apptest.NewClock(apptest.Start).Now))
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	t.Run("generated password", func(t *testing.T) {
		t.Parallel()
		svc := newBareService(t, storetest.URL(t))
		created, generated, err := svc.Access.Bootstrap(ctx, "中心", "")
		if err != nil || !created || len(generated) < 12 {
			t.Fatalf("bootstrap: %v %q %v", created, generated, err)
		}
		res, err := svc.Access.Login(ctx, app.Caller{}, "admin", generated)
		if err != nil {
			t.Fatalf("admin logs in with the generated password: %v", err)
		}
		if len(res.User.Roles) != 1 || res.User.Roles[0] != domain.RoleAdmin {
			t.Fatalf("admin roles %v", res.User.Roles)
		}
		units, _ := svc.Access.Units(ctx)
		if len(units) != 1 || units[0].Name != "中心" || res.User.UnitID != units[0].ID {
			t.Fatalf("units %+v", units)
		}
		created, generated2, err := svc.Access.Bootstrap(ctx, "别处", "")
		if err != nil || created || generated2 != "" {
			t.Fatalf("second bootstrap: %v %q %v", created, generated2, err)
		}
		units, _ = svc.Access.Units(ctx)
		users, _ := svc.Access.Users(ctx, app.UserQuery{Limit: 10})
		if len(units) != 1 || len(users) != 1 {
			t.Fatalf("second bootstrap added %d units and %d users", len(units), len(users))
		}
		if _, err := svc.Access.Login(ctx, app.Caller{}, "admin", generated); err != nil {
			t.Fatalf("second bootstrap changed the password: %v", err)
		}
		sys, err := svc.Trail.Audit(ctx, app.Caller{Actor: res.User.Actor()}, app.AuditQuery{Action: "bootstrap", Limit: 10})
		if err != nil || len(sys) != 1 || sys[0].Stream != audit.SystemStream {
			t.Fatalf("bootstrap entries %v %v", sys, err)
		}
		if r, err := svc.Trail.VerifyAudit(ctx, app.Caller{Actor: res.User.Actor()}); err != nil || !r.OK {
			t.Fatalf("trail after bootstrap: %+v %v", r, err)
		}
	})
	t.Run("given password", func(t *testing.T) {
		t.Parallel()
		svc := newBareService(t, storetest.URL(t))
		created, generated, err := svc.Access.Bootstrap(ctx, "中心", "given password")
		if err != nil || !created || generated != "" {
			t.Fatalf("bootstrap: %v %q %v", created, generated, err)
		}
		if _, err := svc.Access.Login(ctx, app.Caller{}, "admin", "given password"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("too short a password creates nothing", func(t *testing.T) {
		t.Parallel()
		svc := newBareService(t, storetest.URL(t))
		if _, _, err := svc.Access.Bootstrap(ctx, "中心", "short"); err == nil {
			t.Fatal("short admin password accepted")
		}
		if users, _ := svc.Access.Users(ctx, app.UserQuery{Limit: 10}); len(users) != 0 {
			t.Fatalf("%d users", len(users))
		}
		if created, _, err := svc.Access.Bootstrap(ctx, "中心", "long enough now"); err != nil || !created {
			t.Fatalf("retry: %v %v", created, err)
		}
	})
	t.Run("instances starting together create one admin", func(t *testing.T) {
		t.Parallel()
		url := storetest.URL(t)
		const n = 4
		svcs := make([]*wire.Services, n)
		for i := range svcs {
			svcs[i] = newBareService(t, url)
		}
		var (
			mu      sync.Mutex
			created int
		)
		errs := race(n, func(i int) error {
			c, _, err := svcs[i].Access.Bootstrap(ctx, "中心", "instance password")
			if c {
				mu.Lock()
				created++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("instance %d: %v", i, err)
			}
		}
		users, _ := svcs[0].Access.Users(ctx, app.UserQuery{Limit: 10})
		units, _ := svcs[0].Access.Units(ctx)
		if created != 1 || len(users) != 1 || len(units) != 1 {
			t.Fatalf("%d instances created, %d users, %d units", created, len(users), len(units))
		}
	})
}
