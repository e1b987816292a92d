package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/rectify-team/rectify/internal/app/wire"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
	"github.com/rectify-team/rectify/internal/web"
)

func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://127.3.4.5:1/", "http://[::1]:8080", "http://localhost:8080"} {
		if _, err := loopbackBase(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.168.1.2", "http://8.8.8.8:80", "http://example.com",
		"http://0.0.0.0:8080", "ftp://127.0.0.1", "127.0.0.1:8080", ""} {
		if _, err := loopbackBase(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"run", "--url", "http://10.1.2.3:8080"}, func(string) string { return "" }, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("run against 10.1.2.3: %v", err)
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(ds, 0.5, 0.95, 0.99, 1)
	want := []time.Duration{50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("percentile %d: %s, want %s", i, got[i], want[i])
		}
	}
	if p := percentiles(nil, 0.5); p[0] != 0 {
		t.Errorf("empty: %v", p)
	}
}

func TestBoundsAreEnforced(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--clients", "1000"},
		{"run", "--duration", "2h"},
		{"run", "--max-requests", "100000000"},
		{"run", "--workload", "everything"},
		{"run", "--limit"},
		{"prepare", "--db", "sqlite:x.db", "--problems", "6000000"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), args, func(string) string { return "" }, &out, &out); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	// Refused for what they say, before any request.
	for flag, args := range map[string][]string{
		"--retry":        {"run", "--retry"},
		"--lose-answers": {"run", "--db", "sqlite:x.db", "--lose-answers", "10"},
		"-lose-answers":  {"run", "--db", "sqlite:x.db", "--retry", "--lose-answers", "95"},
		"list-kinds":     {"run", "--list-kinds", "status,everything"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, &out, &out)
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%v: %v, want a refusal naming %s", args, err, flag)
		}
	}
}

// loadWorld is a small prepared data set served by the real API.
type loadWorld struct {
	url string // the database
	db  *store.DB
	svc *wire.Services
	h   http.Handler
}

func newLoadWorld(t *testing.T) *loadWorld {
	t.Helper()
	url := storetest.URL(t)
	dir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	o := prepareOpts{db: url, problems: 600, units: 2, perRole: 2, months: 6, seed: 7,
		adminPass: "load-admin-password", auditKeyFile: filepath.Join(dir, "audit.key")}
	if err := prepare(ctx, o, &out); err != nil {
		t.Fatalf("prepare: %v\n%s", err, out.String())
	}
	// Preparing again adds problems and reuses the organisation.
	o.problems = 100
	if err := prepare(ctx, o, &out); err != nil {
		t.Fatalf("prepare again: %v", err)
	}
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var n int64
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM problems").Scan(&n); err != nil || n != 700 {
		t.Fatalf("problems: %d %v", n, err)
	}
	// The store gave them codes, and moved the counters past them: the
	// registrations of the runs get new ones.
	var codes, seqs int64
	if err := db.SQL().QueryRow("SELECT COUNT(DISTINCT code), (SELECT SUM(last_seq) FROM problem_counters) FROM problems").Scan(&codes, &seqs); err != nil ||
		codes != 700 || seqs != 700 {
		t.Fatalf("codes: %d distinct, counters at %d in all (%v)", codes, seqs, err)
	}
	keys, err := audit.LoadOrCreateKeys(o.auditKeyFile, "rectify-audit")
	if err != nil {
		t.Fatal(err)
	}
	svc := wire.New(db, keys, app.DefaultConfig())
	api, err := httpapi.New(httpapi.ServicesOf(svc), httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	console, err := web.New(web.ServicesOf(svc), web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.NewServeMux() // as cmd/rectify mounts them: the API under /api/, the console at /
	h.Handle("/api/", api)
	h.Handle("/readyz", api)
	h.Handle("/healthz", api)
	h.Handle("/", console)
	return &loadWorld{url: url, db: db, svc: svc, h: h}
}

// lines parses the report's JSON lines.
func lines(t *testing.T, text string) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "{") {
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			out = append(out, m)
		}
	}
	return out
}

func (w *loadWorld) verifyAudit(t *testing.T) {
	t.Helper()
	admin, err := w.db.Read().Users.GetByUsername(context.Background(), "load-verifier-1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Trail.VerifyAudit(context.Background(), app.Caller{Actor: admin.Actor()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("audit verify after the load: %+v", rep)
	}
}

// Prepare a small data set, serve it with the real API, drive every workload
// briefly with the bare limit beside the writes, and check that nothing
// failed, that every write has its ratio to a bare limit measured beside it,
// and that the bare tables are gone afterwards.
func TestPrepareAndRun(t *testing.T) {
	w := newLoadWorld(t)
	ctx := context.Background()
	srv := httptest.NewServer(w.h)
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	// Each workload runs until 400 requests or 2 s: long enough that a request
	// completes inside it on a machine busy with -race and other suites (the
	// test asserts what was measured, not how fast).
	ro := runOpts{url: srv.URL + "/api/v1", db: w.url, workloads: workloads, clients: []int{2}, duration: 2 * time.Second,
		maxRequests: 400, limit: true, pool: 40, boardShare: 5, warmup: 100 * time.Millisecond, interval: 150 * time.Millisecond}
	if err := drive(ctx, ro, &out); err != nil {
		t.Fatalf("drive: %v\n%s", err, out.String())
	}
	text := out.String()
	seen := map[string]int{}
	for _, line := range lines(t, text) {
		var r result
		b, _ := json.Marshal(line)
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Kind == "interval" {
			seen["interval"]++
			continue
		}
		seen[r.Kind+"/"+r.Workload]++
		if r.Requests == 0 {
			t.Errorf("%s %s: no requests", r.Kind, r.Workload)
		}
		for status, count := range r.Statuses {
			if status == "404" && (r.Workload == "board" || r.Workload == "mixed") { // the board may not be on this server
				continue
			}
			if status != "200" && status != "201" {
				t.Errorf("%s %s: %d answers %s (%s)", r.Kind, r.Workload, count, status, r.Note)
			}
		}
		switch {
		case r.Kind == "db_bare" && (r.Clients != 2 || r.RPS <= 0 || r.Ops != r.Requests):
			t.Errorf("bare limit: %+v", r)
		case r.Kind == "http" && bareWorkload(r.Workload) && (r.LimitRPS <= 0 || r.Ratio <= 0 || r.Ratio != round(r.RPS/r.LimitRPS, 3)):
			t.Errorf("%s: no ratio to the bare limit: %+v", r.Workload, r)
		case r.Kind == "http" && !bareWorkload(r.Workload) && r.Ratio != 0:
			t.Errorf("%s: a read has a ratio: %+v", r.Workload, r)
		}
	}
	for _, w := range workloads {
		if seen["http/"+w] != 1 {
			t.Errorf("http results for %s: %d", w, seen["http/"+w])
		}
	}
	if seen["db_bare/bare"] != 3 { // register, lifecycle, action
		t.Errorf("bare limits: %d, want one beside each write workload", seen["db_bare/bare"])
	}
	if seen["interval"] == 0 {
		t.Error("no interval lines with --interval")
	}
	if !strings.Contains(text, "ratio") {
		t.Errorf("no table:\n%s", text)
	}
	// The bare tables were the tool's own, and are gone.
	var tables int
	q := "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'rectify_load_bare%'"
	if w.db.Dialect() == store.DialectSQLite {
		q = "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'rectify_load_bare%'"
	}
	if err := w.db.SQL().QueryRow(q).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("bare tables left: %d (%v)", tables, err)
	}
	w.verifyAudit(t)
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v", err)
	}
	_ = resp.Body.Close()
}

// faulty answers some writes with a 503 before the server sees them (a
// database that refused) and some after the server has done them (an answer
// lost in flight): the two faults a retrying client must survive.
type faulty struct {
	h                http.Handler
	n                atomic.Int64
	refused, dropped atomic.Int64
}

func (f *faulty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || strings.HasSuffix(r.URL.Path, "/auth/login") {
		f.h.ServeHTTP(w, r)
		return
	}
	switch f.n.Add(1) % 5 {
	case 1:
		f.refused.Add(1)
	case 3:
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, r)
		if rec.Code < 300 {
			f.dropped.Add(1)
		}
	default:
		f.h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "0")
	w.WriteHeader(http.StatusServiceUnavailable)
}

// The fault mode retries 503s and lost answers with the same key, and its
// report proves that every acknowledged action was applied exactly once.
// Without the key, the same faults apply actions twice, and the report says
// so: the proof is not blind.
func TestRetryProvesExactlyOnce(t *testing.T) {
	w := newLoadWorld(t)
	ctx := context.Background()
	f := &faulty{h: w.h}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	var out bytes.Buffer
	ro := runOpts{url: srv.URL + "/api/v1", db: w.url, workloads: []string{"register", "lifecycle", "action"}, clients: []int{3},
		duration: 600 * time.Millisecond, maxRequests: 300, pool: 30, boardShare: 5, retry: true, loseAnswers: 20}
	if err := drive(ctx, ro, &out); err != nil {
		t.Fatalf("drive: %v\n%s", err, out.String())
	}
	var e exactlyOnce
	for _, line := range lines(t, out.String()) {
		if string(line["kind"]) == `"exactly_once"` {
			b, _ := json.Marshal(line)
			_ = json.Unmarshal(b, &e)
		}
	}
	if !e.OK || e.Acked == 0 || e.Once != e.Acked || e.Twice != 0 || e.Missing != 0 || e.GaveUp != 0 {
		t.Fatalf("exactly once: %+v\n%s", e, out.String())
	}
	if f.refused.Load() == 0 || f.dropped.Load() == 0 || e.Lost == 0 || e.Retried == 0 || e.Resent < f.refused.Load()+f.dropped.Load() {
		t.Fatalf("faults: %d refused, %d dropped after the commit; report %+v", f.refused.Load(), f.dropped.Load(), e)
	}
	if !strings.Contains(out.String(), "exactly once: every acknowledged action applied exactly once") {
		t.Errorf("no verdict:\n%s", out.String())
	}
	w.verifyAudit(t)

	// The same faults without the key: some actions land twice, and the check finds them.
	rt := newRetrier(30)
	rt.withoutKey = true
	s, err := newSession(ctx, srv.URL+"/api/v1", 2)
	if err != nil {
		t.Fatal(err)
	}
	m := newMeasurement()
	c := &client{s: s, m: m, rng: rand.New(rand.NewPCG(1, 2)), retry: rt}
	for range 20 {
		c.register(ctx)
	}
	bad, err := rt.verify(ctx, w.url)
	if err != nil {
		t.Fatal(err)
	}
	if bad.OK || bad.Twice == 0 {
		t.Fatalf("retries without a key: %+v, want actions applied twice", bad)
	}
}
