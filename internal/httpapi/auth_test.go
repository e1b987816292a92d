package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app/apptest"
)

func login(username, password string) req {
	return req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": username, "password": password}}
}

func TestLoginLogoutMe(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var token string
	s.run(t, []row{
		{name: "login", req: login("Owner1", apptest.Password), status: http.StatusOK, check: func(t *testing.T, r res) {
			var out struct {
				Token     string    `json:"token"`
				ExpiresAt time.Time `json:"expires_at"`
				User      struct {
					ID       int64    `json:"id"`
					Username string   `json:"username"`
					Roles    []string `json:"roles"`
					UnitID   int64    `json:"unit_id"`
				} `json:"user"`
			}
			r.decode(t, &out)
			if out.Token == "" || out.User.Username != "owner1" || out.User.ID != s.id("owner1") ||
				out.User.UnitID != s.unit("一班") || strings.Join(out.User.Roles, ",") != "owner" {
				t.Fatalf("login answer %s", r.body)
			}
			if want := apptest.Start.Add(12 * time.Hour); !out.ExpiresAt.Equal(want) {
				t.Fatalf("expires_at %s, want %s", out.ExpiresAt, want)
			}
			if bytes.Contains(r.body, []byte("password")) {
				t.Fatalf("the answer mentions a password: %s", r.body)
			}
			token = out.Token
		}},
	})
	me := func(tok string) req { return req{method: "GET", path: "/api/v1/me", token: tok} }
	s.run(t, []row{
		{name: "me", req: me(token), status: http.StatusOK, check: func(t *testing.T, r res) {
			if u := r.obj(t); u["username"] != "owner1" || u["disabled"] != false {
				t.Fatalf("me: %s", r.body)
			}
		}},
		{name: "me without token", req: req{method: "GET", path: "/api/v1/me"}, status: http.StatusUnauthorized, code: "unauthenticated",
			check: func(t *testing.T, r res) {
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("no bearer challenge: %v", r.header)
				}
			}},
		{name: "me with a bad token", req: me("rct_not-a-token"), status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "me with a non-bearer header", req: req{method: "GET", path: "/api/v1/me", header: map[string]string{"Authorization": "Basic b3duZXIxOng="}},
			status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "logout", req: req{method: "POST", path: "/api/v1/auth/logout", token: token}, status: http.StatusNoContent,
			check: func(t *testing.T, r res) {
				if len(r.body) != 0 {
					t.Fatalf("204 with a body: %s", r.body)
				}
			}},
		{name: "me after logout", req: me(token), status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "logout again", req: req{method: "POST", path: "/api/v1/auth/logout", token: token}, status: http.StatusUnauthorized, code: "unauthenticated"},
	})
}

func TestLoginInputErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.run(t, []row{
		{name: "missing password", req: req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "owner1"}},
			status: http.StatusBadRequest, code: "invalid_input", check: func(t *testing.T, r res) {
				if !r.hasField(t, "password") {
					t.Fatalf("details do not name password: %s", r.body)
				}
			}},
		{name: "unknown field", req: req{method: "POST", path: "/api/v1/auth/login", body: `{"username":"owner1","password":"x","otp":"1"}`},
			status: http.StatusBadRequest, code: "invalid_request", check: func(t *testing.T, r res) {
				if !r.hasField(t, "otp") {
					t.Fatalf("details do not name otp: %s", r.body)
				}
			}},
		{name: "wrong type", req: req{method: "POST", path: "/api/v1/auth/login", body: `{"username":"owner1","password":12345678}`},
			status: http.StatusBadRequest, code: "invalid_request", check: func(t *testing.T, r res) {
				if !r.hasField(t, "password") {
					t.Fatalf("details do not name password: %s", r.body)
				}
			}},
		{name: "not JSON", req: req{method: "POST", path: "/api/v1/auth/login", body: `username=owner1`}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "no body", req: req{method: "POST", path: "/api/v1/auth/login"}, status: http.StatusBadRequest, code: "invalid_request"},
	})
}

// Wrong password, unknown user and disabled user must be indistinguishable.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner2")), as: "admin", body: map[string]any{"disabled": true}})
	wrong := s.must(t, http.StatusUnauthorized, login("owner1", "wrong password"))
	unknown := s.must(t, http.StatusUnauthorized, login("nobody", "wrong password"))
	disabled := s.must(t, http.StatusUnauthorized, login("owner2", apptest.Password))
	if !bytes.Equal(wrong.body, unknown.body) || !bytes.Equal(wrong.body, disabled.body) {
		t.Fatalf("login failures differ:\nwrong password: %s\nunknown user:   %s\ndisabled user:  %s", wrong.body, unknown.body, disabled.body)
	}
	if e := wrong.apiError(t); e.Error.Code != "unauthenticated" {
		t.Fatalf("code %q", e.Error.Code)
	}
	for _, r := range []res{wrong, unknown, disabled} {
		if r.header.Get("WWW-Authenticate") != wrong.header.Get("WWW-Authenticate") {
			t.Fatalf("headers differ: %v vs %v", r.header, wrong.header)
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := range 5 {
		r := s.do(t, login("owner1", "wrong password"))
		if r.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %s", i+1, r)
		}
	}
	for _, pw := range []string{"wrong password", apptest.Password} {
		r := s.must(t, http.StatusTooManyRequests, login("owner1", pw))
		if e := r.apiError(t); e.Error.Code != "too_many_attempts" {
			t.Fatalf("code %q", e.Error.Code)
		}
		if got := r.header.Get("Retry-After"); got != "900" {
			t.Fatalf("Retry-After %q, want 900 (the 15-minute window)", got)
		}
	}
	// Another user from the same address is not locked out by owner1's failures.
	s.must(t, http.StatusOK, login("owner2", apptest.Password))
	// The refused attempts are in the trail.
	r := s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=login&outcome=refused&object_id=owner1", as: "leader"})
	var l list[auditEntry]
	r.decode(t, &l)
	if len(l.Items) != 7 {
		t.Fatalf("%d refused logins of owner1 in the trail, want 7 (5 failures, 2 throttled)", len(l.Items))
	}
	// After the window the user may log in again.
	s.env.Clock.Advance(16 * time.Minute)
	s.must(t, http.StatusOK, login("owner1", apptest.Password))
}

func TestTokenRevocation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	me := func(tok string) req { return req{method: "GET", path: "/api/v1/me", token: tok} }

	t.Run("disabled user", func(t *testing.T) {
		tok := s.token(t, "owner1")
		s.must(t, http.StatusOK, me(tok))
		r := s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner1")), as: "admin", body: map[string]any{"disabled": true}})
		if r.obj(t)["disabled"] != true {
			t.Fatalf("not disabled: %s", r.body)
		}
		s.must(t, http.StatusUnauthorized, me(tok))
		s.must(t, http.StatusUnauthorized, login("owner1", apptest.Password))
		// Enabling the account does not bring the revoked token back.
		s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner1")), as: "admin", body: map[string]any{"disabled": false}})
		s.must(t, http.StatusUnauthorized, me(tok))
		s.forget("owner1")
		s.must(t, http.StatusOK, me(s.token(t, "owner1")))
	})

	t.Run("password reset", func(t *testing.T) {
		tok := s.token(t, "owner2")
		s.must(t, http.StatusOK, me(tok))
		r := s.must(t, http.StatusNoContent, req{method: "POST", path: pathf("/api/v1/users/%d/password", s.id("owner2")), as: "admin",
			body: map[string]string{"password": "a new password 新"}})
		if len(r.body) != 0 {
			t.Fatalf("204 with a body: %s", r.body)
		}
		s.must(t, http.StatusUnauthorized, me(tok))
		s.must(t, http.StatusUnauthorized, login("owner2", apptest.Password))
		s.must(t, http.StatusOK, login("owner2", "a new password 新"))
	})

	t.Run("expiry", func(t *testing.T) {
		tok := s.token(t, "leader")
		s.env.Clock.Advance(12*time.Hour + time.Second)
		s.must(t, http.StatusUnauthorized, me(tok))
	})
}
