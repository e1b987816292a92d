package httpapi_test

import (
	"net/http"
	"testing"
)

// With the database gone, authenticated reads and writes answer 503 with
// Retry-After (validated against the document like every other answer).
func TestDatabaseGoneIs503(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "数据库断开", "一班", nil)
	for _, u := range []string{"verifier", "leader"} {
		s.token(t, u)
	}
	if err := s.env.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []req{
		{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "leader"},
		{method: "GET", path: "/api/v1/problems?status=registered", as: "leader"},
		{method: "POST", path: pathf("/api/v1/problems/%d/assign", p.ID), as: "verifier",
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "整改"}},
	} {
		got := s.must(t, http.StatusServiceUnavailable, r)
		if got.apiError(t).Error.Code != "unavailable" || got.header.Get("Retry-After") != "2" {
			t.Fatalf("%s %s: %s %v", r.method, r.path, got.body, got.header)
		}
	}
}
