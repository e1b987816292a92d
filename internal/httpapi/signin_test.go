package httpapi_test

import (
	"github.com/rectify-team/rectify/internal/app/wire"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
)

const apiCallback = "http://rectify.test/api/v1/auth/oidc/callback"

func ldapOption(t *testing.T, cfg ldapauth.Config) wire.Option {
	t.Helper()
	return apptest.LDAPOption(t, cfg)
}

func oidcOption(t *testing.T, issuer string) wire.Option {
	t.Helper()
	return apptest.OIDCOption(t, issuer, apiCallback)
}

func TestProviders(t *testing.T) {
	t.Parallel()
	plain := newServer(t)
	plain.run(t, []row{
		{name: "local only", req: req{method: "GET", path: "/api/v1/auth/providers"}, status: http.StatusOK,
			check: func(t *testing.T, r res) {
				if string(r.body) != `{"providers":[{"id":"local","display_name":"Rectify","start_url":null}]}` {
					t.Fatalf("body %s", r.body)
				}
			}},
		{name: "unknown query", req: req{method: "GET", path: "/api/v1/auth/providers?x=1"}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "no oidc: start", req: req{method: "GET", path: "/api/v1/auth/oidc/start"}, status: http.StatusNotFound, code: "not_found"},
		{name: "no oidc: callback", req: req{method: "GET", path: "/api/v1/auth/oidc/callback?state=x&code=y"}, status: http.StatusNotFound, code: "not_found"},
	})
	op := optest.Start(t, apiCallback)
	srv := slapdtest.Start(t, slapdtest.Options{})
	both := newServerWith(t, setup{options: []wire.Option{ldapOption(t, srv.Config()), oidcOption(t, op.Issuer)}})
	r := both.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/auth/providers"})
	want := `{"providers":[{"id":"local","display_name":"Rectify","start_url":null},` +
		`{"id":"ldap","display_name":"域账号","start_url":null},` +
		`{"id":"oidc","display_name":"统一身份认证","start_url":"/api/v1/auth/oidc/start"}]}`
	if string(r.body) != want {
		t.Fatalf("providers %s", r.body)
	}
}

func TestDirectoryLoginOverHTTP(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	s := newServerWith(t, setup{options: []wire.Option{ldapOption(t, srv.Config())}})
	login := func(user, password string) req {
		return req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": user, "password": password}}
	}
	var alice loginOut
	s.must(t, http.StatusOK, login("alice", slapdtest.Password)).decode(t, &alice)
	if alice.User.AuthSource != "ldap" || alice.User.UnitID != s.unit("一班") || strings.Join(alice.User.Roles, ",") != "inspector,owner" {
		t.Fatalf("alice %+v", alice.User)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/me", token: alice.Token})
	s.run(t, []row{
		{name: "wrong password", req: login("alice", "nope"), status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "injection", req: login("*)(uid=*", slapdtest.Password), status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "disabled in the directory", req: login("carol", slapdtest.Password), status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "the local admin", req: login("admin", "correct horse battery"), status: http.StatusOK},
	})
	// Removed from the directory: refused, and the token stops.
	srv.Delete(t, slapdtest.PersonDN("alice"))
	s.must(t, http.StatusUnauthorized, login("alice", slapdtest.Password))
	s.must(t, http.StatusUnauthorized, req{method: "GET", path: "/api/v1/me", token: alice.Token})

	// The admin sees and sets the way in.
	admin := "admin"
	r := s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/users", as: admin,
		body: map[string]any{"username": "bob", "name": "Bob", "roles": []string{"owner"}, "unit_id": s.unit("中心"), "auth_source": "ldap"}})
	if r.obj(t)["auth_source"] != "ldap" {
		t.Fatalf("created %s", r.body)
	}
	s.run(t, []row{
		{name: "local without a password", req: req{method: "POST", path: "/api/v1/users", as: admin,
			body: map[string]any{"username": "zoe", "name": "Zoe", "roles": []string{"owner"}, "unit_id": s.unit("中心")}},
			status: http.StatusBadRequest, code: "invalid_input"},
		{name: "unknown source", req: req{method: "POST", path: "/api/v1/users", as: admin,
			body: map[string]any{"username": "zoe", "name": "Zoe", "roles": []string{"owner"}, "unit_id": s.unit("中心"), "auth_source": "kerberos"}},
			status: http.StatusBadRequest},
		{name: "the first admin stays local", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("admin")), as: admin,
			body: map[string]any{"auth_source": "oidc"}}, status: http.StatusBadRequest, code: "invalid_input"},
		{name: "switch owner1 to ldap", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner1")), as: admin,
			body: map[string]any{"auth_source": "ldap"}}, status: http.StatusOK, check: func(t *testing.T, r res) {
			if r.obj(t)["auth_source"] != "ldap" {
				t.Fatalf("patched %s", r.body)
			}
		}},
		{name: "owner1's local password is gone", req: login("owner1", "correct horse battery"), status: http.StatusUnauthorized},
	})

	// The directory down: 503 directory_unavailable; the local admin still signs in.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	cfg := srv.Config()
	cfg.URL, cfg.Timeout = "ldap://"+dead, time.Second
	down := newServerWith(t, setup{options: []wire.Option{ldapOption(t, cfg)}})
	r = down.must(t, http.StatusServiceUnavailable, login("alice", slapdtest.Password))
	if r.apiError(t).Error.Code != "directory_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("directory down: %s %v", r.body, r.header)
	}
	down.must(t, http.StatusOK, login("admin", "correct horse battery"))
}

type loginOut struct {
	Token string `json:"token"`
	User  struct {
		ID         int64    `json:"id"`
		Username   string   `json:"username"`
		Roles      []string `json:"roles"`
		UnitID     int64    `json:"unit_id"`
		AuthSource string   `json:"auth_source"`
	} `json:"user"`
}

// oidcStart calls /auth/oidc/start and returns the provider URL and the cookie.
func oidcStart(t *testing.T, s *apiServer) (string, *http.Cookie) {
	t.Helper()
	r := s.must(t, http.StatusFound, req{method: "GET", path: "/api/v1/auth/oidc/start"})
	cookies := (&http.Response{Header: r.header}).Cookies()
	if len(cookies) != 1 || cookies[0].Name != "rectify_oidc" || !cookies[0].HttpOnly || cookies[0].Path != "/api/v1/auth/oidc" ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].MaxAge != 600 {
		t.Fatalf("start's cookie: %v", r.header["Set-Cookie"])
	}
	return r.header.Get("Location"), cookies[0]
}

func callbackPath(back *url.URL) string { return "/api/v1/auth/oidc/callback?" + back.RawQuery }

func TestOIDCOverHTTP(t *testing.T) {
	t.Parallel()
	op := optest.Start(t, apiCallback)
	op.Add(optest.Person{Username: "erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"verifiers"}, Unit: "二班"})
	s := newServerWith(t, setup{options: []wire.Option{oidcOption(t, op.Issuer)}})

	loc, _ := oidcStart(t, s)
	if !strings.HasPrefix(loc, op.Issuer+"/") {
		t.Fatalf("start redirects to %s", loc)
	}
	back := op.SignIn(t, loc, "erin", "op-pass")
	// Without the cookie: another browser.
	r := s.must(t, http.StatusUnauthorized, req{method: "GET", path: callbackPath(back)})
	if e := r.apiError(t); e.Error.Code != "sign_in_refused" || !strings.Contains(e.Error.Message, "another browser") {
		t.Fatalf("callback without the cookie: %s", r.body)
	}

	loc, cookie := oidcStart(t, s)
	back = op.SignIn(t, loc, "erin", "op-pass")
	withCookie := map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}
	r = s.must(t, http.StatusOK, req{method: "GET", path: callbackPath(back) + "&iss=" + url.QueryEscape(op.Issuer), header: withCookie})
	var out loginOut
	r.decode(t, &out)
	if out.User.Username != "erin" || out.User.AuthSource != "oidc" || out.User.UnitID != s.unit("二班") || strings.Join(out.User.Roles, ",") != "verifier" {
		t.Fatalf("erin %s", r.body)
	}
	if c := (&http.Response{Header: r.header}).Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("the callback does not clear the cookie: %v", r.header["Set-Cookie"])
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/me", token: out.Token})

	// Replayed: the state is used.
	r = s.must(t, http.StatusUnauthorized, req{method: "GET", path: callbackPath(back), header: withCookie})
	if e := r.apiError(t); e.Error.Code != "sign_in_refused" || !strings.Contains(e.Error.Message, "already used state") {
		t.Fatalf("replay: %s", r.body)
	}
	// A badly signed ID token.
	op.Misbehave(optest.Misbehaviour{Tamper: true})
	loc, cookie = oidcStart(t, s)
	back = op.SignIn(t, loc, "erin", "op-pass")
	r = s.must(t, http.StatusUnauthorized, req{method: "GET", path: callbackPath(back), header: map[string]string{"Cookie": cookie.Name + "=" + cookie.Value}})
	if e := r.apiError(t); !strings.Contains(e.Error.Message, "signature") {
		t.Fatalf("tampered: %s", r.body)
	}
	op.Misbehave(optest.Misbehaviour{})

	// Every refusal is in the trail.
	var entries list[auditEntry]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=login&outcome=refused", as: "leader"}).decode(t, &entries)
	if len(entries.Items) != 3 {
		t.Fatalf("%d refused logins in the trail, want 3", len(entries.Items))
	}
	// The provider down: 503.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadIssuer := "http://" + ln.Addr().String()
	_ = ln.Close()
	down := newServerWith(t, setup{options: []wire.Option{oidcOption(t, deadIssuer)}})
	if r := down.must(t, http.StatusServiceUnavailable, req{method: "GET", path: "/api/v1/auth/oidc/start"}); r.apiError(t).Error.Code != "directory_unavailable" {
		t.Fatalf("provider down: %s", r.body)
	}
}
