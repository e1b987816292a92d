package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
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

// While the database is gone, refused requests are reported once per
// interval with their count, not a line (or two) per request.
func TestUnavailableLoggedOncePerInterval(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	const every = 300 * time.Millisecond
	s := newServerWith(t, setup{logger: slog.New(slog.NewJSONHandler(&buf, nil)), failureEvery: every})
	p := s.register(t, "数据库断开", "一班", nil)
	s.token(t, "leader")
	if err := s.env.DB.Close(); err != nil {
		t.Fatal(err)
	}
	lines := func() (reports []map[string]any, requests int) {
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				continue
			}
			switch m["msg"] {
			case "database unavailable: answering 503":
				reports = append(reports, m)
			case "request":
				if m["status"] == float64(http.StatusServiceUnavailable) {
					requests++
				}
			case "request failed":
				requests++
			}
		}
		return reports, requests
	}
	for range 40 {
		s.must(t, http.StatusServiceUnavailable, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "leader"})
	}
	s.must(t, http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
	reports, requests := lines()
	if len(reports) != 1 || requests != 0 {
		t.Fatalf("after 41 refusals: %d reports (want 1, at once) and %d per-request lines (want 0):\n%s", len(reports), requests, buf.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(reports) < 2 && time.Now().Before(deadline) {
		time.Sleep(every / 3)
		reports, _ = lines()
	}
	if len(reports) != 2 || reports[1]["count"] != float64(40) {
		t.Fatalf("after the interval: %v, want a second report counting 40", reports)
	}
	// Quiet for an interval: no more reports; the next failure is reported at once.
	time.Sleep(2 * every)
	if reports, _ = lines(); len(reports) != 2 {
		t.Fatalf("reports while nothing failed: %v", reports)
	}
	s.must(t, http.StatusServiceUnavailable, req{method: "GET", path: "/readyz"})
	if reports, _ = lines(); len(reports) != 3 || reports[2]["route"] != "readyz" {
		t.Fatalf("a failure after a quiet interval: %v", reports)
	}
}
