package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// loginToken logs username in over HTTP and returns a fresh token (the
// harness's cache keeps one per user; this is another session).
func (s *apiServer) loginToken(t testing.TB, username, password string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	s.must(t, http.StatusOK, login(username, password)).decode(t, &out)
	return out.Token
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	create := func(username, pw string, roles ...string) req {
		if len(roles) == 0 {
			roles = []string{"owner"}
		}
		return req{method: "POST", path: "/api/v1/users", as: "admin", body: map[string]any{"username": username, "name": username,
			"password": pw, "roles": roles, "unit_id": s.unit("一班")}}
	}
	reason := func(part string) func(t *testing.T, r res) {
		return func(t *testing.T, r res) {
			fs := r.fields(t)
			if len(fs) != 1 || fs[0].Field != "password" || !strings.Contains(fs[0].Reason, part) {
				t.Fatalf("details %+v, want password: …%s…", fs, part)
			}
		}
	}
	s.run(t, []row{
		{name: "nine characters", req: create("user09", "nine-char"), status: http.StatusBadRequest, code: "invalid_input", check: reason("at least 10")},
		{name: "common", req: create("user10", "1234567890"), status: http.StatusBadRequest, code: "invalid_input", check: reason("most common")},
		{name: "common in other case", req: create("user11", "QWERTYUIOP"), status: http.StatusBadRequest, code: "invalid_input", check: reason("most common")},
		{name: "the username", req: create("zhangsan-01", "ZhangSan-01"), status: http.StatusBadRequest, code: "invalid_input", check: reason("username")},
		{name: "ten for a user", req: create("user12", "ten-chars1", "owner"), status: http.StatusCreated},
		{name: "ten is short for an admin", req: create("user13", "ten-chars1", "admin"), status: http.StatusBadRequest, code: "invalid_input",
			check: reason("14 characters for an admin")},
		{name: "fourteen for an admin", req: create("user14", "fourteen-chars", "admin"), status: http.StatusCreated},
		{name: "reset: common", req: req{method: "POST", path: pathf("/api/v1/users/%d/password", s.id("owner1")), as: "admin",
			body: map[string]any{"password": "password123"}}, status: http.StatusBadRequest, code: "invalid_input", check: reason("most common")},
		{name: "reset: an admin's needs fourteen", req: req{method: "POST", path: pathf("/api/v1/users/%d/password", s.id("admin")), as: "admin",
			body: map[string]any{"password": "thirteen-char"}}, status: http.StatusBadRequest, code: "invalid_input", check: reason("14")},
	})
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const pw = "correct horse battery" // apptest.Password
	first := s.loginToken(t, "owner1", pw)
	second := s.loginToken(t, "owner1", pw)
	change := func(tok string, body any) req {
		return req{method: "POST", path: "/api/v1/me/password", token: tok, body: body}
	}
	field := func(name string) func(t *testing.T, r res) {
		return func(t *testing.T, r res) {
			if fs := r.fields(t); len(fs) != 1 || fs[0].Field != name {
				t.Fatalf("details %+v, want one naming %s", fs, name)
			}
		}
	}
	s.run(t, []row{
		{name: "no token", req: req{method: "POST", path: "/api/v1/me/password", body: map[string]any{"old": pw, "new": "a brand new secret"}},
			status: http.StatusUnauthorized},
		{name: "wrong old", req: change(first, map[string]any{"old": "not my password", "new": "a brand new secret"}),
			status: http.StatusBadRequest, code: "invalid_input", check: field("old")},
		{name: "old missing", req: change(first, map[string]any{"new": "a brand new secret"}), status: http.StatusBadRequest, check: field("old")},
		{name: "common new", req: change(first, map[string]any{"old": pw, "new": "1qaz2wsx3edc"}), status: http.StatusBadRequest, check: field("new")},
		{name: "short new", req: change(first, map[string]any{"old": pw, "new": "short"}), status: http.StatusBadRequest, check: field("new")},
		{name: "same as old", req: change(first, map[string]any{"old": pw, "new": pw}), status: http.StatusBadRequest, check: field("new")},
		{name: "unknown field", req: change(first, map[string]any{"old": pw, "new": "a brand new secret", "user_id": 1}),
			status: http.StatusBadRequest, check: field("user_id")},
		{name: "changed", req: change(first, map[string]any{"old": pw, "new": "a brand new secret"}), status: http.StatusNoContent},
	})
	// The session that asked stays; the other one ended; the old password is gone.
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/me", token: first})
	s.must(t, http.StatusUnauthorized, req{method: "GET", path: "/api/v1/me", token: second})
	s.must(t, http.StatusUnauthorized, login("owner1", pw))
	s.loginToken(t, "owner1", "a brand new secret")
	// Other users' sessions are untouched.
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/me", as: "owner2"})

	// Audited: the change and the refused attempts, on the user.
	id := itoa(s.id("owner1"))
	entries := s.auditPages(t, "leader", url.Values{"action": {"password_change"}}, 50)
	var ok, refused int
	for _, e := range entries {
		if e.ObjectType != "user" || e.ObjectID != id {
			t.Errorf("entry on %s/%s, want user/%s", e.ObjectType, e.ObjectID, id)
		}
		switch e.Outcome {
		case "ok":
			ok++
		case "refused":
			refused++
		}
		if strings.Contains(string(e.Changes), "brand new") || strings.Contains(string(e.Changes), "horse") {
			t.Errorf("a password in the trail: %s", e.Changes)
		}
	}
	if ok != 1 || refused != 5 {
		t.Fatalf("password_change entries: %d ok, %d refused, want 1 and 5 (no token and a bad body are not attempts)", ok, refused)
	}

	// A wrong current password counts as a failed login: after five, even
	// the right one is throttled, and so is a login.
	tok := s.loginToken(t, "owner2", pw)
	for i := range 5 {
		s.must(t, http.StatusBadRequest, change(tok, map[string]any{"old": "guess " + itoa(int64(i)), "new": "a brand new secret"}))
	}
	r := s.must(t, http.StatusTooManyRequests, change(tok, map[string]any{"old": pw, "new": "a brand new secret"}))
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	s.must(t, http.StatusTooManyRequests, login("owner2", pw))

	// An admin's new password needs fourteen characters.
	admin := s.loginToken(t, "admin", pw)
	s.must(t, http.StatusBadRequest, change(admin, map[string]any{"old": pw, "new": "thirteen-char"}))
	s.must(t, http.StatusNoContent, change(admin, map[string]any{"old": pw, "new": "fourteen-chars"}))
}

// A refused admin action names what it targeted in its audit entry.
func TestRefusedAdminActionsNameTheirTarget(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	user, unit := itoa(s.id("owner1")), itoa(s.unit("一班"))
	s.must(t, http.StatusForbidden, req{method: "PATCH", path: "/api/v1/users/" + user, as: "leader", body: map[string]any{"name": "x"}})
	s.must(t, http.StatusForbidden, req{method: "POST", path: "/api/v1/users/" + user + "/password", as: "verifier",
		body: map[string]any{"password": "another password"}})
	s.must(t, http.StatusBadRequest, req{method: "PATCH", path: "/api/v1/units/" + unit, as: "admin", body: map[string]any{"name": ""}})
	s.must(t, http.StatusForbidden, req{method: "PATCH", path: "/api/v1/categories/5", as: "owner1", body: map[string]any{"name": "x"}})
	s.must(t, http.StatusForbidden, req{method: "POST", path: "/api/v1/users", as: "inspector", body: map[string]any{"username": "sneaky",
		"name": "x", "password": "another password", "roles": []string{"admin"}, "unit_id": 1}})
	want := map[string]string{"user_update": "user/" + user, "user_reset_password": "user/" + user, "unit_update": "unit/" + unit,
		"category_update": "category/5", "user_create": "user/sneaky"}
	for _, e := range s.auditPages(t, "leader", url.Values{"outcome": {"refused"}}, 50) {
		if w, ok := want[e.Action]; ok {
			if got := e.ObjectType + "/" + e.ObjectID; got != w {
				t.Errorf("refused %s names %s, want %s", e.Action, got, w)
			}
			delete(want, e.Action)
		}
	}
	if len(want) > 0 {
		t.Fatalf("refusals not audited: %v", want)
	}
}

// Every response carries the headers that keep it out of frames and stop
// sniffing; a handler's own Content-Security-Policy is kept.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a := s.upload(t, "owner1", "照片.png", samplePNG)
	for _, r := range []req{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/api/v1/me", as: "owner1"},
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/problems/999", as: "owner1"},
		{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "x", "password": "y"}},
		{method: "GET", path: pathf("/api/v1/attachments/%d", a.ID), as: "owner1"},
	} {
		got := s.do(t, r)
		h := got.header
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s %s → %d: X-Frame-Options %q, X-Content-Type-Options %q, CSP %q", r.method, r.path, got.status,
				h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
		}
	}
	// The download keeps its own, stricter policy.
	r := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/attachments/%d", a.ID), as: "owner1"})
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Errorf("the download's CSP was replaced: %q", csp)
	}
	// Even answers the router makes itself: no route, wrong method.
	for _, m := range []string{"GET", "DELETE"} {
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, httptest.NewRequest(m, "/nowhere", nil))
		if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s /nowhere: %v", m, rec.Header())
		}
	}
}
