package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Idempotent retries (issue 3): replay, conflict, scope, concurrency, expiry.

func withKey(r req, key string) req {
	h := map[string]string{"Idempotency-Key": key}
	for k, v := range r.header {
		h[k] = v
	}
	r.header = h
	return r
}

func (s *apiServer) auditCount(t testing.TB) int { return s.countRows(t, "audit_entries") }

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := map[string]any{"title": "重试登记", "description": "网络重试", "category_id": 5, "severity": "general",
		"source": "inspection", "unit_id": s.unit("一班")}
	register := withKey(req{method: "POST", path: "/api/v1/problems", as: "inspector", body: body}, "k-register-1")

	first := s.must(t, http.StatusCreated, register)
	if first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("a first answer marked as replayed")
	}
	problems, entries := s.countRows(t, "problems"), s.auditCount(t)
	again := s.must(t, http.StatusCreated, register)
	if !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") != first.header.Get("ETag") ||
		again.header.Get("Content-Type") != first.header.Get("Content-Type") {
		t.Fatalf("replay\n got %v %s\nwant %v %s", again.header, again.body, first.header, first.body)
	}
	if s.countRows(t, "problems") != problems || s.auditCount(t) != entries {
		t.Fatalf("a replay changed something")
	}

	// The same key with another body: 409, nothing done.
	other := body
	other["title"] = "另一个问题"
	r := s.must(t, http.StatusConflict, withKey(req{method: "POST", path: "/api/v1/problems", as: "inspector", body: other}, "k-register-1"))
	if r.apiError(t).Error.Code != "conflict" || !strings.Contains(r.apiError(t).Error.Message, "different request") {
		t.Fatalf("%s", r.body)
	}
	// ... and on another path.
	s.must(t, http.StatusConflict, withKey(req{method: "POST", path: "/api/v1/units", as: "inspector", body: map[string]any{"name": "x"}}, "k-register-1"))
	if s.countRows(t, "problems") != problems {
		t.Fatalf("a conflicting key made a problem")
	}
	// Keys are the user's: another user's same key is a new request.
	s.must(t, http.StatusCreated, withKey(req{method: "POST", path: "/api/v1/problems", as: "verifier", body: body}, "k-register-1"))
	if s.countRows(t, "problems") != problems+1 {
		t.Fatalf("another user's key was not independent")
	}

	// A lifecycle action: the problem moves once; the replay is the first answer, even after later changes.
	p := first.problem(t)
	assign := withKey(req{method: "POST", path: pathf("/api/v1/problems/%d/assign", p.ID), as: "verifier",
		body: map[string]any{"assignee_id": s.id("owner1"), "measures": "措施"}, header: map[string]string{"If-Match": `"1"`}}, "assign-7f1c")
	a1 := s.must(t, http.StatusOK, assign)
	s.act(t, "verifier", p.ID, "urge", map[string]any{"note": "抓紧"}) // version 3
	a2 := s.must(t, http.StatusOK, assign)                           // If-Match "1" would be a 412 if it ran again
	if !bytes.Equal(a1.body, a2.body) || a2.header.Get("ETag") != `"2"` || a2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("assign replay: %s %v", a2.body, a2.header)
	}

	// A failed request keeps no key: fixing the body and retrying with it works.
	accept := pathf("/api/v1/problems/%d/progress", p.ID)
	s.must(t, http.StatusOK, req{method: "POST", path: pathf("/api/v1/problems/%d/accept", p.ID), as: "owner1"})
	s.must(t, http.StatusBadRequest, withKey(req{method: "POST", path: accept, as: "owner1", body: map[string]any{"note": ""}}, "progress-1"))
	s.must(t, http.StatusOK, withKey(req{method: "POST", path: accept, as: "owner1", body: map[string]any{"note": "好了"}}, "progress-1"))

	// Extension requests replay their 201.
	ext := withKey(req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", p.ID), as: "owner1",
		body: map[string]any{"deadline": "2026-05-01", "reason": "设备"}}, "ext-1")
	e1, e2 := s.must(t, http.StatusCreated, ext), s.must(t, http.StatusCreated, ext)
	if !bytes.Equal(e1.body, e2.body) || s.countRows(t, "extensions") != 1 {
		t.Fatalf("extension replay: %s / %s", e1.body, e2.body)
	}

	// Admin creations and 204 answers replay too.
	unit := withKey(req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": "三班", "parent_id": s.unit("部门")}}, "unit-3")
	u1, u2 := s.must(t, http.StatusCreated, unit), s.must(t, http.StatusCreated, unit)
	if !bytes.Equal(u1.body, u2.body) {
		t.Fatalf("unit replay")
	}
	reset := withKey(req{method: "POST", path: pathf("/api/v1/users/%d/password", s.id("owner2")), as: "admin",
		body: map[string]any{"password": "new password 123"}}, "reset-1")
	s.must(t, http.StatusNoContent, reset)
	entries = s.auditCount(t)
	if r := s.must(t, http.StatusNoContent, reset); r.header.Get("Idempotent-Replayed") != "true" || s.auditCount(t) != entries {
		t.Fatalf("password reset replay: %v", r.header)
	}

	// Uploads: the same file under the same name is the same request.
	up := withKey(uploadReq(t, "owner1", "证据.pdf", samplePDF, nil), "upload-1")
	x1 := s.must(t, http.StatusCreated, up)
	x2 := s.must(t, http.StatusCreated, withKey(uploadReq(t, "owner1", "证据.pdf", samplePDF, nil), "upload-1")) // a new boundary
	if !bytes.Equal(x1.body, x2.body) || x2.header.Get("Idempotent-Replayed") != "true" || s.countRows(t, "attachments") != 1 {
		t.Fatalf("upload replay: %s / %s", x1.body, x2.body)
	}
	s.must(t, http.StatusConflict, withKey(uploadReq(t, "owner1", "证据.pdf", samplePNG, nil), "upload-1"))
}

func TestIdempotencyKeyFormat(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	reg := func(key string) req {
		return withKey(req{method: "POST", path: "/api/v1/problems", as: "inspector", body: map[string]any{"title": "x",
			"category_id": 5, "severity": "general", "source": "inspection", "unit_id": s.unit("一班")}}, key)
	}
	s.run(t, []row{
		{name: "too long", req: reg(strings.Repeat("k", 201)), status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("Idempotency-Key")},
		{name: "not ASCII", req: reg("重试-1"), status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("Idempotency-Key")},
		{name: "control character", req: reg("a\tb"), status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("Idempotency-Key")},
		{name: "longest", req: reg(strings.Repeat("k", 200)), status: http.StatusCreated},
	})
	if s.countRows(t, "problems") != 1 {
		t.Fatalf("refused keys made problems")
	}
	// Login ignores the key: its answer (a token) is never stored.
	login := withKey(req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "owner1", "password": "correct horse battery"}}, "login-1")
	l1, l2 := s.must(t, http.StatusOK, login), s.must(t, http.StatusOK, login)
	if bytes.Equal(l1.body, l2.body) || s.countRows(t, "idempotency_keys") != 1 {
		t.Fatalf("login was replayed")
	}
}

func TestIdempotentConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "并发重试", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	s.token(t, "owner1")
	s.token(t, "inspector")
	const n = 8
	var wg sync.WaitGroup
	results := make([]res, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			results[i] = s.do(t, withKey(req{method: "POST", path: pathf("/api/v1/problems/%d/accept", p.ID), as: "owner1",
				body: map[string]any{"note": "签收"}}, "accept-once"))
		}()
		go func() {
			defer wg.Done()
			results[n+i] = s.do(t, withKey(req{method: "POST", path: "/api/v1/problems", as: "inspector",
				body: map[string]any{"title": "并发登记", "category_id": 5, "severity": "general", "source": "inspection",
					"unit_id": s.unit("一班")}}, "register-once"))
		}()
	}
	wg.Wait()
	for i, r := range results {
		want := http.StatusOK
		if i >= n {
			want = http.StatusCreated
		}
		if r.status != want || !bytes.Equal(r.body, results[i/n*n].body) {
			t.Fatalf("duplicate %d: %s, want %d and the same body as %s", i, r, want, results[i/n*n])
		}
	}
	var accepts, registered int
	db := s.env.DB.SQL()
	if err := db.QueryRow("SELECT COUNT(*) FROM audit_entries WHERE action = 'accept'").Scan(&accepts); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM problems WHERE title = '并发登记'").Scan(&registered); err != nil {
		t.Fatal(err)
	}
	if accepts != 1 || registered != 1 {
		t.Fatalf("%d accepts and %d registrations for one key each; want one effect", accepts, registered)
	}
}

func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	unit := func(name string) req {
		return withKey(req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": name, "parent_id": s.unit("部门")}}, "unit-key")
	}
	s.must(t, http.StatusCreated, unit("三班"))
	s.advance(23 * time.Hour)
	s.must(t, http.StatusConflict, unit("四班")) // still held
	s.advance(time.Hour + time.Second)
	// Expired: the key is free for a new request, even before the purge.
	r := s.must(t, http.StatusCreated, unit("四班"))
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("an expired key was replayed")
	}
	s.must(t, http.StatusCreated, withKey(req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": "五班", "parent_id": s.unit("部门")}}, "other-key"))
	if n := s.countRows(t, "idempotency_keys"); n != 2 {
		t.Fatalf("%d keys, want 2", n)
	}
	s.advance(25 * time.Hour)
	purged, err := s.env.Svc.Core.PurgeIdempotencyKeys(t.Context())
	if err != nil || purged != 2 || s.countRows(t, "idempotency_keys") != 0 {
		t.Fatalf("purge: %d, %v; %d left", purged, err, s.countRows(t, "idempotency_keys"))
	}
}
