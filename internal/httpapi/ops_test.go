package httpapi_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestProbes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	status := func(want string) func(t *testing.T, r res) {
		return func(t *testing.T, r res) {
			if got := r.obj(t)["status"]; got != want {
				t.Fatalf("status %v, want %s", got, want)
			}
		}
	}
	noStore := func(t *testing.T, r res) {
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q under /api/v1", r.header.Get("Cache-Control"))
		}
	}
	s.run(t, []row{
		{name: "healthz", req: req{method: "GET", path: "/healthz"}, status: http.StatusOK, check: status("ok")},
		{name: "readyz", req: req{method: "GET", path: "/readyz"}, status: http.StatusOK, check: status("ready")},
		{name: "v1 healthz", req: req{method: "GET", path: "/api/v1/healthz"}, status: http.StatusOK, check: func(t *testing.T, r res) {
			status("ok")(t, r)
			noStore(t, r)
		}},
		{name: "v1 readyz", req: req{method: "GET", path: "/api/v1/readyz"}, status: http.StatusOK, check: status("ready")},
		{name: "request id echoed", req: req{method: "GET", path: "/api/v1/me", as: "owner1", header: map[string]string{"X-Request-ID": "trace-42.a_b"}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				noStore(t, r)
				if r.header.Get("X-Request-ID") != "trace-42.a_b" {
					t.Fatalf("X-Request-ID %q", r.header.Get("X-Request-ID"))
				}
			}},
		{name: "insane request id replaced", req: req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "<script>"}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				if id := r.header.Get("X-Request-ID"); id == "<script>" || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
					t.Fatalf("X-Request-ID %q", id)
				}
			}},
	})

	// The request id reaches the audit trail.
	s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/problems", as: "inspector", header: map[string]string{"X-Request-ID": "req-audit-1"},
		body: map[string]any{"title": "追踪", "category_id": 5, "severity": "general", "source": "report", "unit_id": s.unit("一班")}})
	var l list[auditEntry]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=register", as: "leader"}).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].RequestID != "req-audit-1" {
		t.Fatalf("register entries %+v", l.Items)
	}

	// When the database does not answer, readiness fails with Retry-After.
	if err := s.env.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/readyz", "/api/v1/readyz"} {
		r := s.must(t, http.StatusServiceUnavailable, req{method: "GET", path: path})
		if r.apiError(t).Error.Code != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("%s: %s %v", path, r.body, r.header)
		}
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/healthz"})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, setup{metrics: true, metricsToken: metricsToken})
	p := s.register(t, "指标", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	s.must(t, http.StatusForbidden, req{method: "POST", path: pathf("/api/v1/problems/%d/assign", p.ID), as: "inspector", body: map[string]any{"assignee_id": s.id("owner1")}})
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "owner1"})
	s.must(t, http.StatusNotFound, req{method: "GET", path: "/api/v1/problems/424242", as: "owner1"})

	r := s.must(t, http.StatusOK, req{method: "GET", path: "/metrics", token: metricsToken})
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	text := string(r.body)
	for _, want := range []string{
		`rectify_http_requests_total{method="POST",route="/api/v1/problems",status="201"} 1`,
		`rectify_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"} 3`,
		`rectify_http_requests_total{method="GET",route="/api/v1/problems/:id",status="200"} 1`,
		`rectify_http_requests_total{method="GET",route="/api/v1/problems/:id",status="404"} 1`,
		`rectify_http_requests_total{method="POST",route="/api/v1/problems/:id/assign",status="403"} 1`,
		`rectify_lifecycle_actions_total{action="register",outcome="ok"} 1`,
		`rectify_lifecycle_actions_total{action="assign",outcome="ok"} 1`,
		`rectify_lifecycle_actions_total{action="assign",outcome="refused"} 1`,
		`rectify_http_request_duration_seconds_bucket{method="GET",route="/api/v1/problems/:id",le="+Inf"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, "424242") || strings.Contains(text, pathf(`route="/api/v1/problems/%d"`, p.ID)) {
		t.Errorf("raw ids in route labels")
	}
}

const metricsToken = "metrics-token-0123456789"

// /metrics is for those who hold its token: without one configured it is
// absent from the public listener, with one it asks for it.
func TestMetricsNeedTheToken(t *testing.T) {
	t.Parallel()
	open := newServerWith(t, setup{metrics: true})
	open.must(t, http.StatusNotFound, req{method: "GET", path: "/metrics"})
	open.must(t, http.StatusNotFound, req{method: "GET", path: "/metrics", token: metricsToken})

	s := newServerWith(t, setup{metrics: true, metricsToken: metricsToken})
	s.run(t, []row{
		{name: "no token", req: req{method: "GET", path: "/metrics", header: map[string]string{}},
			status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "wrong token", req: req{method: "GET", path: "/metrics", token: metricsToken + "x"},
			status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "a user's token", req: req{method: "GET", path: "/metrics", as: "leader"},
			status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "the token", req: req{method: "GET", path: "/metrics", token: metricsToken}, status: http.StatusOK},
	})
}

// Strangers cannot grow the series: unknown methods collapse into OTHER and
// unknown paths into unmatched, so a thousand requests with made-up method
// names on made-up paths add at most a handful of series, all of them once.
func TestMetricsLabelsAreAFixedSet(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, setup{metrics: true, metricsToken: metricsToken})
	series := func() map[string]bool {
		r := s.must(t, http.StatusOK, req{method: "GET", path: "/metrics", token: metricsToken})
		out := map[string]bool{}
		for _, line := range strings.Split(string(r.body), "\n") {
			if strings.HasPrefix(line, "rectify_http_request") {
				name, _, _ := strings.Cut(line, " ")
				out[name] = true
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(13, 3))
	send := func(n int) {
		for range n {
			method := make([]byte, 3+rng.IntN(12))
			for i := range method {
				method[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rng.IntN(26)]
			}
			paths := []string{"/api/v1/problems", "/api/v1/problems/" + strconv.Itoa(rng.IntN(1e6)), "/x" + strconv.Itoa(rng.IntN(1e6)), "/metrics"}
			hr := httptest.NewRequest(string(method), paths[rng.IntN(len(paths))], nil)
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, hr)
			if rec.Code >= 500 {
				t.Fatalf("%s %s: %d", method, hr.URL.Path, rec.Code)
			}
		}
	}
	series() // the scrape's own series
	send(50)
	before := series()
	send(1000)
	after := series()
	if len(after) != len(before) {
		var added []string
		for k := range after {
			if !before[k] {
				added = append(added, k)
			}
		}
		t.Fatalf("series %d → %d after 1000 made-up methods: %v", len(before), len(after), added)
	}
	for k := range after {
		if !strings.Contains(k, `method="OTHER"`) && !strings.Contains(k, `method="GET"`) {
			t.Errorf("a method label outside the fixed set: %s", k)
		}
		if strings.Contains(k, "/x") || regexp.MustCompile(`problems/\d`).MatchString(k) {
			t.Errorf("a raw path in a route label: %s", k)
		}
	}
}
