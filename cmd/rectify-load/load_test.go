package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
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
}

// Prepare a small data set, serve it with the real API, drive every workload
// briefly with the database limit beside it, and check that nothing failed
// and that the trail the limit mode wrote still verifies.
func TestPrepareAndRun(t *testing.T) {
	url := storetest.URL(t)
	dir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	o := prepareOpts{db: url, problems: 600, units: 2, perRole: 2, months: 6, batch: 100, seed: 7,
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
	keys, err := audit.LoadOrCreateKeys(o.auditKeyFile, "rectify-audit")
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(db, keys, app.DefaultConfig())
	h, err := httpapi.New(svc, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	out.Reset()
	ro := runOpts{url: srv.URL + "/api/v1", db: url, workloads: workloads, clients: []int{2}, duration: 800 * time.Millisecond,
		maxRequests: 400, limit: true, pool: 40, boardShare: 5, warmup: 100 * time.Millisecond, interval: 150 * time.Millisecond}
	if err := drive(ctx, ro, &out); err != nil {
		t.Fatalf("drive: %v\n%s", err, out.String())
	}
	text := out.String()
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if r.Kind == "interval" {
			seen["interval"] = true
			continue
		}
		seen[r.Kind+"/"+r.Workload] = true
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
		if r.Kind == "http" && r.Workload != "board" && r.Workload != "mixed" && (r.LimitRPS <= 0 || r.Ratio <= 0) {
			t.Errorf("%s: no ratio to the database limit: %+v", r.Workload, r)
		}
	}
	for _, w := range workloads {
		if !seen["http/"+w] {
			t.Errorf("no http result for %s", w)
		}
	}
	for _, w := range []string{"register", "lifecycle", "action", "get", "list"} {
		if !seen["db_limit/"+w] {
			t.Errorf("no database limit for %s", w)
		}
	}
	if !seen["interval"] {
		t.Error("no interval lines with --interval")
	}
	if !strings.Contains(text, "ratio") {
		t.Errorf("no table:\n%s", text)
	}

	// The limit's rows are chained like the server's: the trail verifies.
	admin, err := db.Read().Users.GetByUsername(ctx, "load-verifier-1")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.VerifyAudit(ctx, app.Caller{Actor: admin.Actor()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("audit verify after the load: %+v", rep)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v", err)
	}
	_ = resp.Body.Close()
}
