package app_test

import (
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/oidcauth"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
)

const oidcCallback = "http://rectify.test/api/v1/auth/oidc/callback"

func oidcEnv(t *testing.T, issuer string) (*apptest.Env, *wire.Services) {
	t.Helper()
	e := apptest.New(t)
	p, err := oidcauth.New(oidcauth.Config{Issuer: issuer, ClientID: optest.ClientID, ClientSecret: optest.ClientSecret,
		UnitClaim: "department"})
	if err != nil {
		t.Fatal(err)
	}
	src := app.OIDCSource{IdentitySource: app.IdentitySource{DisplayName: "统一身份认证", Mapping: testMapping()},
		RedirectURLs: []string{oidcCallback}}
	return e, e.Instance(t, wire.WithOIDC(p, src))
}

// signIn runs the flow up to the callback and returns what the browser brings back.
func signIn(t *testing.T, svc *wire.Services, op *optest.Provider, c app.Caller, username, password string) (app.OIDCCallback, *app.OIDCStart) {
	t.Helper()
	start, err := svc.Access.StartOIDC(t.Context(), c, "")
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	au, _ := url.Parse(start.URL)
	q := au.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" ||
		q.Get("redirect_uri") != oidcCallback {
		t.Fatalf("the authorization URL lacks PKCE, nonce, state or the callback: %s", start.URL)
	}
	back := op.SignIn(t, start.URL, username, password)
	if !strings.HasPrefix(back.String(), oidcCallback+"?") {
		t.Fatalf("the provider sent the browser to %s", back)
	}
	return app.OIDCCallback{State: back.Query().Get("state"), Code: back.Query().Get("code"), Binding: start.Binding}, start
}

func TestOIDCSignInEndToEnd(t *testing.T) {
	t.Parallel()
	op := optest.Start(t, oidcCallback)
	op.Add(optest.Person{Username: "Erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"owners", "inspectors"}, Unit: "部门/二班"})
	e, svc := oidcEnv(t, op.Issuer)
	ctx := t.Context()
	c := app.Caller{IP: "10.7.7.7", RequestID: "req-oidc"}

	cb, _ := signIn(t, svc, op, c, "Erin", "op-pass")
	res, err := svc.Access.FinishOIDC(ctx, c, cb)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	u := res.User
	if u.Username != "erin" || u.Name != "鄂琳" || u.AuthSource != app.AuthOIDC || u.UnitID != e.Units["二班"].ID ||
		!slices.Equal(u.Roles, []domain.Role{domain.RoleInspector, domain.RoleOwner}) {
		t.Fatalf("erin created as %+v", u)
	}
	if got, err := svc.Access.Authenticate(ctx, res.Token); err != nil || got.ID != u.ID {
		t.Fatalf("the token: %v", err)
	}
	if got := actions(userEntries(t, e, u.ID)); !slices.Equal(got, []string{"directory_create:ok", "login:ok"}) {
		t.Fatalf("entries %v", got)
	}

	// The same callback again: the state was used.
	if _, err := svc.Access.FinishOIDC(ctx, c, cb); !refusedWith(err, "unknown or already used state") {
		t.Fatalf("replayed callback: %v", err)
	}
	// The used code with a fresh state: the provider refuses it.
	cb2, _ := signIn(t, svc, op, c, "Erin", "op-pass")
	cb2.Code = cb.Code
	if _, err := svc.Access.FinishOIDC(ctx, c, cb2); !refusedWith(err, "the provider refused the code (invalid_grant") {
		t.Fatalf("replayed code: %v", err)
	}
	x := lastSystemEntry(t, e)
	if x.Action != app.ActionLogin || x.Outcome != audit.OutcomeRefused || !strings.Contains(x.Reason, "invalid_grant") {
		t.Fatalf("the replayed code's refusal is not audited: %+v", x)
	}

	// Later sign-ins follow the provider's claims, an entry per change.
	op.Add(optest.Person{Username: "Erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"owners", "cn=verifiers,ou=groups,dc=example,dc=org"}, Unit: "一班"})
	cb3, _ := signIn(t, svc, op, c, "Erin", "op-pass")
	res, err = svc.Access.FinishOIDC(ctx, c, cb3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.User.Roles, []domain.Role{domain.RoleOwner, domain.RoleVerifier}) || res.User.UnitID != e.Units["一班"].ID {
		t.Fatalf("erin updated to %+v", res.User)
	}
	es := userEntries(t, e, u.ID)
	if got := actions(es[len(es)-4:]); !slices.Equal(got, []string{"directory_role_gained:ok", "directory_role_lost:ok", "directory_unit_moved:ok", "login:ok"}) {
		t.Fatalf("entries %v", got)
	}

	// Out of every mapped group: refused, disabled, sessions ended.
	op.Add(optest.Person{Username: "Erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"staff"}})
	cb4, _ := signIn(t, svc, op, c, "Erin", "op-pass")
	if _, err := svc.Access.FinishOIDC(ctx, c, cb4); !refusedWith(err, "in no group that maps to a role") {
		t.Fatalf("erin without groups: %v", err)
	}
	if _, err := svc.Access.Authenticate(ctx, res.Token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("erin's token after losing every group: %v", err)
	}
	mustVerifyOK(t, e)
}

// refusedWith reports a refused sign-in whose reason starts with prefix.
func refusedWith(err error, prefix string) bool {
	var r *app.SignInRefusedError
	return errors.As(err, &r) && strings.HasPrefix(r.Reason, prefix) && errors.Is(err, domain.ErrUnauthenticated)
}

func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	op := optest.Start(t, oidcCallback)
	op.Add(optest.Person{Username: "frank", Password: "op-pass", Name: "Frank", Groups: []string{"owners"}})
	op.Add(optest.Person{Username: "owner1", Password: "op-pass", Name: "Impostor", Groups: []string{"verifiers"}})
	e, svc := oidcEnv(t, op.Issuer)
	ctx := t.Context()
	c := app.Caller{IP: "10.8.8.8"}

	for _, tc := range []struct {
		name   string
		setup  func()
		change func(*app.OIDCCallback)
		user   string
		reason string
	}{
		{name: "wrong state", change: func(cb *app.OIDCCallback) { cb.State = "not-a-state-we-issued" }, reason: "unknown or already used state"},
		{name: "no state", change: func(cb *app.OIDCCallback) { cb.State = "" }, reason: "the callback carries no state"},
		{name: "another browser", change: func(cb *app.OIDCCallback) { cb.Binding = "someone else's" }, reason: "the callback came to another browser"},
		{name: "provider error", change: func(cb *app.OIDCCallback) { cb.Code, cb.Error = "", "access_denied" }, reason: "the provider refused: access_denied"},
		{name: "expired ID token", setup: func() { op.Misbehave(optest.Misbehaviour{Lifetime: -time.Minute}) }, reason: "the ID token expired at"},
		{name: "badly signed ID token", setup: func() { op.Misbehave(optest.Misbehaviour{Tamper: true}) }, reason: "the ID token's signature does not verify"},
		{name: "wrong audience", setup: func() { op.Misbehave(optest.Misbehaviour{Swap: op.IDTokenFor(t, "frank", "op-pass")}) },
			reason: "the ID token is for another client"},
		{name: "a local user's name", user: "owner1", reason: "user owner1 signs in through local, not OpenID Connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op.Misbehave(optest.Misbehaviour{})
			if tc.setup != nil {
				tc.setup()
			}
			user := "frank"
			if tc.user != "" {
				user = tc.user
			}
			cb, _ := signIn(t, svc, op, c, user, "op-pass")
			if tc.change != nil {
				tc.change(&cb)
			}
			_, err := svc.Access.FinishOIDC(ctx, c, cb)
			if !refusedWith(err, tc.reason) {
				t.Fatalf("err %v, want a refusal: %s", err, tc.reason)
			}
			x := lastSystemEntry(t, e)
			if x.Action != app.ActionLogin || x.Outcome != audit.OutcomeRefused || !strings.HasPrefix(x.Reason, tc.reason) {
				t.Fatalf("entry %+v, want a refused login: %s", x, tc.reason)
			}
		})
	}
	op.Misbehave(optest.Misbehaviour{})
	if _, err := e.DB.Read().Users.GetByUsername(ctx, "frank"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a refused sign-in created frank: %v", err)
	}
	if u, _ := e.DB.Read().Users.GetByUsername(ctx, "owner1"); u.Name != "owner1" || u.AuthSource != app.AuthLocal {
		t.Fatalf("the provider took over a local account: %+v", u)
	}
	// After all that, frank signs in fine.
	cb, _ := signIn(t, svc, op, c, "frank", "op-pass")
	if _, err := svc.Access.FinishOIDC(ctx, c, cb); err != nil {
		t.Fatal(err)
	}
	// A started sign-in expires.
	cb, _ = signIn(t, svc, op, c, "frank", "op-pass")
	e.Clock.Advance(app.OIDCSignInTTL + time.Second)
	if _, err := svc.Access.FinishOIDC(ctx, c, cb); !refusedWith(err, "the sign-in took longer than") {
		t.Fatalf("late callback: %v", err)
	}
	// Only configured callbacks.
	var v *domain.ValidationError
	if _, err := svc.Access.StartOIDC(ctx, c, "https://evil.example/cb"); !errors.As(err, &v) {
		t.Fatalf("an unconfigured redirect URL: %v", err)
	}
}

func TestOIDCProviderDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	_ = ln.Close() // only reserved a free port
	e, svc := oidcEnv(t, issuer)
	if _, err := svc.Access.StartOIDC(t.Context(), app.Caller{}, ""); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("start with the provider down: %v", err)
	}
	// Not configured at all: not found.
	if _, err := e.Svc.Access.StartOIDC(t.Context(), app.Caller{}, ""); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("start without OIDC: %v", err)
	}
	if got := e.Svc.Access.Providers(); len(got) != 1 || got[0].ID != app.AuthLocal {
		t.Fatalf("providers without a directory: %+v", got)
	}
	if got := svc.Access.Providers(); len(got) != 2 || got[1].ID != app.AuthOIDC || got[1].DisplayName != "统一身份认证" {
		t.Fatalf("providers: %+v", got)
	}
}
