// Package faulttest puts a TCP proxy (toxiproxy, in process) between a real
// Rectify API and MariaDB, drives concurrent lifecycles through it over HTTP,
// and breaks the database in three ways: a cut, a slow link and connections
// reset mid-query. It needs MariaDB (RECTIFY_TEST_MYSQL_DSN).
package faulttest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/collectors"
	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/ledger"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// dbTimeout is the server's RECTIFY_DB_TIMEOUT in this test.
const dbTimeout = time.Second

// outcome is what one client saw of one request.
type outcome struct {
	phase     string
	action    string
	requestID string
	problemID int64
	status    int // 0: no HTTP answer at all
	retry     string
	started   time.Time
	took      time.Duration
	err       string
}

type recorder struct {
	mu  sync.Mutex
	all []outcome
}

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	r.all = append(r.all, o)
	r.mu.Unlock()
}

type rig struct {
	t      *testing.T
	base   string
	client *http.Client
	tokens map[string]string
	rec    *recorder
	phase  atomic.Value // string
	seq    atomic.Int64
	unitID int64
	owner  int64
}

func TestDatabaseFaults(t *testing.T) {
	if os.Getenv(storetest.EnvMySQL) == "" {
		t.Skip("the fault test needs MariaDB: set " + storetest.EnvMySQL)
	}
	direct := storetest.URL(t)
	env := apptest.NewWithURL(t, direct) // migrated, with the fixture's units and users

	cfg, err := mysql.ParseDSN(strings.TrimPrefix(direct, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv.Metrics.ProxyMetrics = collectors.NewProxyMetricCollectors()
	proxy := toxiproxy.NewProxy(srv, "mariadb", "127.0.0.1:0", cfg.Addr)
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	viaProxy := *cfg
	viaProxy.Addr = proxy.Listen

	ctx := context.Background()
	db, err := store.Open(ctx, "mysql:"+viaProxy.FormatDSN(), store.Options{MaxOpenConns: 16, QueryTimeout: dbTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc := wire.New(db, env.Keys, env.Svc.Core.Config(), wire.WithWorkbookReader(ledger.Parse))
	h, err := httpapi.New(httpapi.ServicesOf(svc), httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)

	r := &rig{t: t, base: ts.URL + "/api/v1", rec: &recorder{}, tokens: map[string]string{},
		client: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		unitID: env.Units["一班"].ID, owner: env.Users["owner1"].ID}
	for _, u := range []string{"inspector", "verifier", "verifier2", "owner1"} {
		r.tokens[u] = r.login(u)
	}
	r.phase.Store("warm")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(stop)
		}()
	}
	step := func(phase string, d time.Duration, do func()) {
		r.phase.Store(phase) // requests from here on are this phase's
		if do != nil {
			do()
		}
		time.Sleep(d)
	}
	step("warm", 1500*time.Millisecond, nil)
	step("cut", 3*time.Second, proxy.Stop)
	step("restored", 3*time.Second, func() {
		if err := proxy.Start(); err != nil {
			t.Errorf("restart proxy: %v", err)
		}
	})
	step("slow", 2*time.Second, func() {
		addToxic(t, proxy, `{"name":"slow","type":"latency","stream":"downstream","attributes":{"latency":30}}`)
	})
	step("stalled", 3*time.Second, func() {
		removeToxic(t, proxy, "slow")
		addToxic(t, proxy, `{"name":"stall","type":"latency","stream":"downstream","attributes":{"latency":2500}}`)
	})
	step("unstalled", 4*time.Second, func() { removeToxic(t, proxy, "stall") })
	step("reset", 3*time.Second, func() {
		addToxic(t, proxy, `{"name":"reset","type":"reset_peer","stream":"downstream","attributes":{"timeout":200}}`)
	})
	step("recovered", 3*time.Second, func() { removeToxic(t, proxy, "reset") })
	close(stop)
	wg.Wait()

	r.checkAnswers()
	r.checkDatabase(direct)
	r.checkAuditVerify()
}

func addToxic(t *testing.T, p *toxiproxy.Proxy, spec string) {
	t.Helper()
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		t.Fatalf("add toxic %s: %v", spec, err)
	}
}

func removeToxic(t *testing.T, p *toxiproxy.Proxy, name string) {
	t.Helper()
	if err := p.Toxics.RemoveToxic(context.Background(), name); err != nil {
		t.Fatalf("remove toxic %s: %v", name, err)
	}
}

func (r *rig) login(user string) string {
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, user, apptest.Password)
	res, err := r.client.Post(r.base+"/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		r.t.Fatalf("login %s: %d %v", user, res.StatusCode, err)
	}
	return out.Token
}

type problemJSON struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
}

// call sends one request with a fresh request id and records what came back.
func (r *rig) call(as, method, path, action string, problemID int64, body any) (int, *problemJSON) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.tokens[as])
	req.Header.Set("Content-Type", "application/json")
	id := fmt.Sprintf("fault-%d", r.seq.Add(1))
	req.Header.Set("X-Request-ID", id)
	o := outcome{phase: r.phase.Load().(string), action: action, requestID: id, problemID: problemID, started: time.Now()}
	res, err := r.client.Do(req)
	o.took = time.Since(o.started)
	if err != nil {
		o.err = err.Error()
		r.rec.add(o)
		return 0, nil
	}
	defer func() { _ = res.Body.Close() }()
	o.status, o.retry = res.StatusCode, res.Header.Get("Retry-After")
	raw, _ := io.ReadAll(res.Body)
	var p *problemJSON
	if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated {
		p = &problemJSON{}
		if err := json.Unmarshal(raw, p); err != nil {
			o.err = "bad body: " + err.Error()
			p = nil
		} else if o.problemID == 0 {
			o.problemID = p.ID
		}
	} else if res.StatusCode >= 500 {
		o.err = string(raw)
	}
	r.rec.add(o)
	return res.StatusCode, p
}

// worker runs lifecycles: register → assign → accept → submit → verify. When
// an answer is lost it re-reads the problem and goes on from where it is.
func (r *rig) worker(stop <-chan struct{}) {
	var cur *problemJSON
	for {
		select {
		case <-stop:
			return
		default:
		}
		if cur == nil || cur.Status == "closed" {
			_, cur = r.call("inspector", "POST", "/problems", "register", 0, map[string]any{
				"title": "故障注入", "description": "faults", "category_id": 5, "severity": "general",
				"source": "inspection", "unit_id": r.unitID})
			if cur == nil {
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		var (
			as, action string
			body       any
		)
		switch cur.Status {
		case "registered":
			as, action, body = "verifier", "assign", map[string]any{"assignee_id": r.owner, "measures": "整改措施"}
		case "assigned":
			as, action, body = "owner1", "accept", map[string]any{"note": "签收"}
		case "rectifying":
			as, action, body = "owner1", "submit", map[string]any{"note": "已整改"}
		case "submitted":
			as, action, body = "verifier2", "verify", map[string]any{"passed": true, "note": "通过"}
		default:
			r.t.Errorf("problem %d in unexpected status %s", cur.ID, cur.Status)
			return
		}
		id := cur.ID
		status, p := r.call(as, "POST", fmt.Sprintf("/problems/%d/%s", id, action), action, id, body)
		if status == http.StatusOK && p != nil {
			cur = p
			continue
		}
		// Lost or refused: read the problem back (as the verifier, who sees all).
		for {
			select {
			case <-stop:
				return
			default:
			}
			status, p := r.call("verifier", "GET", fmt.Sprintf("/problems/%d", id), "get", id, nil)
			if status == http.StatusOK && p != nil {
				cur = p
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// checkAnswers: only 503 among 5xx, always with Retry-After, never slower than
// the configured timeout allows; errors where the database was broken and
// successes again after each repair.
func (r *rig) checkAnswers() {
	t := r.t
	byPhase := map[string]map[int]int{}
	maxTook := map[string]time.Duration{}
	for _, o := range r.rec.all {
		if byPhase[o.phase] == nil {
			byPhase[o.phase] = map[int]int{}
		}
		byPhase[o.phase][o.status]++
		if o.took > maxTook[o.phase] {
			maxTook[o.phase] = o.took
		}
		switch {
		case o.status == 0:
			t.Errorf("%s %s (%s): no HTTP answer: %s", o.action, o.requestID, o.phase, o.err)
		case o.status >= 500 && o.status != http.StatusServiceUnavailable:
			t.Errorf("%s %s (%s): %d %s", o.action, o.requestID, o.phase, o.status, o.err)
		case o.status == http.StatusServiceUnavailable && o.retry == "":
			t.Errorf("%s %s (%s): 503 without Retry-After", o.action, o.requestID, o.phase)
		}
		// One request reads at most twice (the token, then the data) and runs
		// one transaction, each bounded by the timeout.
		if limit := 3*dbTimeout + time.Second; o.took > limit {
			t.Errorf("%s %s (%s) took %s, more than %s", o.action, o.requestID, o.phase, o.took, limit)
		}
	}
	for _, ph := range []string{"warm", "cut", "restored", "slow", "stalled", "unstalled", "reset", "recovered"} {
		t.Logf("%-9s answers %v, slowest %s", ph, byPhase[ph], maxTook[ph].Round(time.Millisecond))
	}
	for _, ph := range []string{"cut", "stalled"} {
		if byPhase[ph][http.StatusServiceUnavailable] == 0 {
			t.Errorf("%s: no 503 while the database was unreachable", ph)
		}
	}
	if maxTook["cut"] > dbTimeout+500*time.Millisecond {
		t.Errorf("during the cut an answer took %s; a refused connection should fail at once", maxTook["cut"])
	}
	for _, ph := range []string{"warm", "restored", "slow", "unstalled", "recovered"} {
		if byPhase[ph][http.StatusOK]+byPhase[ph][http.StatusCreated] == 0 {
			t.Errorf("%s: no success; the server did not recover without a restart", ph)
		}
	}
	if byPhase["reset"][http.StatusServiceUnavailable] == 0 {
		t.Logf("reset: no request happened to hit a reset connection")
	}
}

// checkDatabase reads the database directly: every success is there exactly
// once; a failure is there at most once and whole; every problem's version,
// status and trail agree.
func (r *rig) checkDatabase(url string) {
	t := r.t
	db, err := sql.Open("mysql", strings.TrimPrefix(url, "mysql:"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	counts := map[string]int{}
	rows, err := db.Query("SELECT request_id, COUNT(*) FROM audit_entries WHERE outcome = 'ok' AND request_id LIKE 'fault-%' GROUP BY request_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		counts[id] = n
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var ok, failed, appliedAnyway int
	for _, o := range r.rec.all {
		if o.action == "get" {
			continue
		}
		n := counts[o.requestID]
		switch o.status {
		case http.StatusOK, http.StatusCreated:
			ok++
			if n != 1 {
				t.Errorf("%s %s on problem %d succeeded for the client but is in the trail %d times", o.action, o.requestID, o.problemID, n)
			}
		default:
			failed++
			if n > 1 {
				t.Errorf("%s %s failed for the client but is in the trail %d times", o.action, o.requestID, n)
			}
			appliedAnyway += n
		}
	}
	t.Logf("actions: %d succeeded, %d failed for the client (%d of those committed before the answer was lost)", ok, failed, appliedAnyway)
	if ok < 50 {
		t.Errorf("only %d actions succeeded; the test did not exercise the server", ok)
	}
	// Whole, never half: a problem's version is its count of applied actions,
	// its status is where the last one led, and its head is its last entry.
	var bad int
	err = db.QueryRow(`
SELECT COUNT(*) FROM problems p
LEFT JOIN (SELECT object_id, COUNT(*) AS n, MAX(stream_seq) AS last FROM audit_entries
           WHERE object_type = 'problem' AND outcome = 'ok' GROUP BY object_id) a ON a.object_id = CAST(p.id AS CHAR)
LEFT JOIN audit_entries e ON e.stream = CONCAT('problem/', p.id) AND e.stream_seq = a.last
WHERE a.n IS NULL OR a.n <> p.version OR e.to_state <> p.status`).Scan(&bad)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d problems whose version, status and audit trail disagree", bad)
	}
}

func (r *rig) checkAuditVerify() {
	req, _ := http.NewRequest("GET", r.base+"/audit/verify", nil)
	req.Header.Set("Authorization", "Bearer "+r.tokens["verifier"])
	res, err := r.client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	var v struct {
		OK       bool   `json:"ok"`
		Checked  int64  `json:"checked"`
		FirstBad *int64 `json:"first_bad"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || res.StatusCode != http.StatusOK {
		r.t.Fatalf("audit verify: %d %v", res.StatusCode, err)
	}
	if !v.OK {
		r.t.Errorf("audit verify after the faults: %+v", v)
	}
	r.t.Logf("audit verify: ok, %d entries checked", v.Checked)
}
