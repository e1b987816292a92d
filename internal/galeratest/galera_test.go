package galeratest

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One cluster for the whole suite, its phases in order: instances started
// together on an empty database, load through both, racing verifications,
// a node killed mid-load, a node cut off from the others, and the
// scheduler's hand-over.
func TestGaleraCluster(t *testing.T) {
	requireTools(t)
	began := time.Now()
	bin := buildRectify(t)
	c := startCluster(t)
	t.Logf("three nodes synced after %s", time.Since(began).Round(time.Second))
	// A's connections go to n1, B's to n2 (each with the other nodes as backups).
	fronts := startHAProxy(t, c, 1, 2)
	via := func(front int, db string) string {
		return fmt.Sprintf("mysql:root@tcp(127.0.0.1:%d)/%s", fronts[front], db)
	}

	t.Run("migrate together", func(t *testing.T) {
		for k := range 3 {
			db := fmt.Sprintf("migrate%d", k)
			c.nodes[0].exec(t, "CREATE DATABASE "+db)
			var wg sync.WaitGroup
			outs := make([]string, 2)
			errs := make([]error, 2)
			for j := range 2 {
				wg.Go(func() {
					cmd := exec.Command(bin, "migrate")
					cmd.Env = append(os.Environ(), "RECTIFY_DB="+via(j, db))
					out, err := cmd.CombinedOutput()
					outs[j], errs[j] = string(out), err
				})
			}
			wg.Wait()
			for j := range 2 {
				if errs[j] != nil {
					t.Fatalf("try %d: rectify migrate through node %d: %v\n%s", k, j+1, errs[j], outs[j])
				}
			}
		}
	})

	c.nodes[0].exec(t, "CREATE DATABASE rectify CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	data := t.TempDir()
	common := []string{"RECTIFY_DATA_DIR=" + data, "RECTIFY_SCHEDULER_INTERVAL=1s", "RECTIFY_DB_TIMEOUT=5s"}
	// Started at once on the empty database: both migrate (taking turns) and come up.
	a := startInstance(t, bin, "a", via(0, "rectify"), common...)
	b := startInstance(t, bin, "b", via(1, "rectify"), common...)
	a.waitReady(t, 90*time.Second)
	b.waitReady(t, 90*time.Second)
	for _, i := range []*instance{a, b} {
		if !strings.Contains(i.proc.out.String(), "Galera node found") {
			t.Fatalf("rectify %s did not find Galera:\n%s", i.name, i.proc.out)
		}
	}
	direct, err := sql.Open("mysql", c.nodes[2].dsn("rectify")+"&parseTime=true&wsrep_sync_wait=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = direct.Close() })

	f := setUp(t, a)

	t.Run("load through both instances", func(t *testing.T) {
		res := f.load(t, []*instance{a, b}, 6, 12*time.Second, false)
		if len(res.failures) > 0 {
			t.Fatalf("%d failed requests, e.g. %v", len(res.failures), res.failures[:min(5, len(res.failures))])
		}
		if res.registered < 20 || res.closed < 10 {
			t.Fatalf("only %d registered, %d closed", res.registered, res.closed)
		}
		codes := map[string]bool{}
		for _, code := range res.codes {
			if codes[code] {
				t.Fatalf("code %s given twice", code)
			}
			codes[code] = true
		}
		var rows, distinct int
		if err := direct.QueryRow("SELECT COUNT(*), COUNT(DISTINCT code) FROM problems").Scan(&rows, &distinct); err != nil {
			t.Fatal(err)
		}
		if rows != res.registered || distinct != rows {
			t.Fatalf("%d problems, %d distinct codes; %d registrations answered", rows, distinct, res.registered)
		}
		t.Logf("load: %d registered, %d closed, %d actions, %d reads on the other instance, in %s",
			res.registered, res.closed, res.actions, res.reads, res.took.Round(time.Millisecond))
	})

	// The rate is logged, not asserted: speed is measured, correctness is
	// what the suite proves (no 5xx, unique codes).
	t.Run("registration rate against one MariaDB", func(t *testing.T) {
		const clients, d = 16, 10 * time.Second
		onCluster := f.register([]*instance{a, b}, clients, d)
		onCluster.check(t, "cluster", direct)

		single := c.startStandalone(t)
		single.exec(t, "CREATE DATABASE rectify CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		s := startInstance(t, bin, "s", "mysql:"+single.dsn("rectify"), slices.Concat(common, []string{"RECTIFY_DATA_DIR=" + t.TempDir()})...)
		s.waitReady(t, 60*time.Second)
		sdb, err := sql.Open("mysql", single.dsn("rectify"))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = sdb.Close() }()
		alone := setUp(t, s).register([]*instance{s}, clients, d)
		alone.check(t, "single MariaDB", sdb)
		if err := s.proc.stop(30 * time.Second); err != nil {
			t.Fatalf("rectify s: %v\n%s", err, s.proc.out)
		}
		single.proc.kill()

		cr, sr := onCluster.rate(), alone.rate()
		t.Logf("rate: cluster 2 instances %.0f/s, single MariaDB 1 instance %.0f/s, ratio %.2f (budget 0.7; %d clients each, %s)",
			cr, sr, cr/sr, clients, d)
	})

	t.Run("racing verifications", func(t *testing.T) {
		ctx := context.Background()
		for k := range 8 {
			id := f.submitted(t, a, b, fmt.Sprintf("竞争验收 %d", k))
			var wg sync.WaitGroup
			var answers [2]answer
			var errs [2]error
			for j, in := range []*instance{a, b} {
				wg.Go(func() {
					answers[j], errs[j] = in.call(ctx, "POST", fmt.Sprintf("/problems/%d/verify", id), f.verifiers[j],
						map[string]any{"passed": true, "note": "同意销号"}, "")
				})
			}
			wg.Wait()
			won := 0
			for j := range 2 {
				switch {
				case errs[j] != nil:
					t.Fatalf("verify on %d: %v", id, errs[j])
				case answers[j].status == http.StatusOK:
					won++
				case answers[j].status != http.StatusConflict && answers[j].status != http.StatusPreconditionFailed:
					t.Fatalf("verify on %d: %s", id, answers[j])
				}
			}
			var verified int
			if err := direct.QueryRow("SELECT COUNT(*) FROM audit_entries WHERE stream = ? AND action = 'verify_pass' AND outcome = 'ok'",
				fmt.Sprintf("problem/%d", id)).Scan(&verified); err != nil {
				t.Fatal(err)
			}
			if won != 1 || verified != 1 {
				t.Fatalf("problem %d: %d winners, %d verify entries (%s / %s)", id, won, verified, answers[0], answers[1])
			}
		}
	})

	t.Run("a node killed and restarted mid-load", func(t *testing.T) {
		phase := time.Now()
		done := make(chan loadResult, 1)
		go func() { done <- f.load(t, []*instance{a, b}, 4, 14*time.Second, true) }()
		time.Sleep(3 * time.Second)
		n1 := c.nodes[0]
		n1.proc.kill() // SIGKILL by pid: no clean shutdown
		t.Logf("n1 killed")
		time.Sleep(4 * time.Second)
		c.restart(n1, c.address())
		c.waitSynced(n1, 120*time.Second)
		t.Logf("n1 back and synced")
		res := <-done
		if len(res.failures) > 0 {
			t.Fatalf("%d failed requests, e.g. %v", len(res.failures), res.failures[:min(5, len(res.failures))])
		}
		// Every acknowledged action is there exactly once.
		for _, ack := range res.acked {
			var n int
			if ack.action == "register" {
				err = direct.QueryRow("SELECT COUNT(*) FROM problems WHERE title = ?", ack.title).Scan(&n)
			} else {
				if ack.action == "verify" {
					ack.action = "verify_pass" // the trail names a verification by its outcome
				}
				err = direct.QueryRow("SELECT COUNT(*) FROM audit_entries WHERE stream = ? AND action = ? AND outcome = 'ok'",
					fmt.Sprintf("problem/%d", ack.id), ack.action).Scan(&n)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Fatalf("acknowledged %s of %q (problem %d) is there %d times", ack.action, ack.title, ack.id, n)
			}
		}
		for _, in := range []*instance{a, b} {
			v := in.must(t, http.StatusOK, "GET", "/audit/verify", f.verifiers[0], nil)
			if v.body["ok"] != true {
				t.Fatalf("audit verify on %s: %s", in.name, v)
			}
		}
		// Refusals while the node was down are logged once per 10 s with a count, not per request.
		for _, in := range []*instance{a, b} {
			out := in.proc.out.String()
			if strings.Contains(out, `"msg":"request failed"`) {
				t.Fatalf("rectify %s logged a refused request by itself:\n%s", in.name, out)
			}
			if n := strings.Count(out, `"msg":"database unavailable: answering 503"`); n > int(time.Since(phase)/(10*time.Second))+2 {
				t.Fatalf("rectify %s reported the unavailable database %d times:\n%s", in.name, n, out)
			}
		}
		t.Logf("kill: %d actions acknowledged (%d answered 503 first and were retried with their Idempotency-Key)",
			len(res.acked), res.retried)
	})

	t.Run("a node cut off answers 503 and is not ready", func(t *testing.T) {
		n3 := c.nodes[2]
		cut := startInstance(t, bin, "c", "mysql:"+n3.dsn("rectify"), slices.Concat(common, []string{"RECTIFY_SCHEDULER_INTERVAL=0", "RECTIFY_MIGRATE=false"})...)
		cut.waitReady(t, 30*time.Second)
		id := f.submitted(t, a, b, "隔离节点")
		cut.must(t, http.StatusOK, "GET", fmt.Sprintf("/problems/%d", id), f.verifiers[0], nil)
		n3.exec(t, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'")
		waitFor(t, 30*time.Second, "n3 out of the primary component", func() bool {
			st, err := n3.status(context.Background())
			return err == nil && st["wsrep_ready"] == "OFF"
		})
		got, err := cut.call(context.Background(), "GET", fmt.Sprintf("/problems/%d", id), f.verifiers[0], nil, "")
		if err != nil || got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
			t.Fatalf("a read on a node out of the primary component: %v %v", got, err)
		}
		ready, err := cut.call(context.Background(), "GET", "/readyz", "", nil, "")
		if err != nil || ready.status != http.StatusServiceUnavailable {
			t.Fatalf("readyz of an instance on a node out of the primary component: %v %v", ready, err)
		}
		n3.exec(t, "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'")
		cut.waitReady(t, 90*time.Second)
		cut.must(t, http.StatusOK, "GET", fmt.Sprintf("/problems/%d", id), f.verifiers[0], nil)
		if err := cut.proc.stop(30 * time.Second); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("scheduler hand-over on a graceful stop", func(t *testing.T) {
		holder := func() (string, time.Time) {
			var h string
			var until time.Time
			if err := direct.QueryRow("SELECT holder, expires_at FROM leases WHERE name = 'scheduler'").Scan(&h, &until); err != nil {
				t.Fatal(err)
			}
			return h, until
		}
		waitFor(t, 10*time.Second, "a scheduler lease holder", func() bool { h, _ := holder(); return h == "a" || h == "b" })
		h, _ := holder()
		stopping, other := a, b
		if h == "b" {
			stopping, other = b, a
		}
		if err := stopping.proc.stop(30 * time.Second); err != nil {
			t.Fatalf("rectify %s: %v\n%s", stopping.name, err, stopping.proc.out)
		}
		stopped := time.Now()
		// The lease lasts two minutes; given up, the other's next pass (every second) takes it.
		waitFor(t, 3*time.Second, "rectify "+other.name+" taking the scheduler over", func() bool {
			h, until := holder()
			return h == other.name && until.After(time.Now())
		})
		t.Logf("%s took the scheduler over %s after %s stopped", other.name, time.Since(stopped).Round(time.Millisecond), stopping.name)
	})
	t.Logf("suite took %s", time.Since(began).Round(time.Second))
}

func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fixture: the people of the lifecycle, logged in.
type fixture struct {
	unit             int64
	ownerID          int64
	inspector, owner string
	verifiers        [2]string
	seq              atomic.Int64
}

func setUp(t *testing.T, a *instance) *fixture {
	t.Helper()
	admin := a.login(t, "admin", adminPassword)
	units := a.must(t, http.StatusOK, "GET", "/units", admin, nil)
	root := units.body["items"].([]any)[0].(map[string]any)["id"]
	f := &fixture{unit: a.must(t, http.StatusCreated, "POST", "/units", admin, map[string]any{"name": "一班", "parent_id": root}).id()}
	mk := func(name string, roles ...string) int64 {
		return a.must(t, http.StatusCreated, "POST", "/users", admin, map[string]any{"username": name, "name": name,
			"password": "password-" + name, "roles": roles, "unit_id": f.unit}).id()
	}
	mk("insp", "inspector")
	f.ownerID = mk("owner", "owner")
	mk("ver1", "verifier")
	mk("ver2", "verifier")
	f.inspector, f.owner = a.login(t, "insp", "password-insp"), a.login(t, "owner", "password-owner")
	f.verifiers = [2]string{a.login(t, "ver1", "password-ver1"), a.login(t, "ver2", "password-ver2")}
	return f
}

// submitted drives a new problem to submitted, alternating instances.
func (f *fixture) submitted(t *testing.T, a, b *instance, title string) int64 {
	t.Helper()
	p := a.must(t, http.StatusCreated, "POST", "/problems", f.inspector, map[string]any{"title": title, "category_id": 5,
		"severity": "general", "source": "inspection", "unit_id": f.unit})
	path := fmt.Sprintf("/problems/%d", p.id())
	b.must(t, http.StatusOK, "POST", path+"/assign", f.verifiers[0], map[string]any{"assignee_id": f.ownerID, "measures": "整改"})
	a.must(t, http.StatusOK, "POST", path+"/accept", f.owner, map[string]any{"note": "收到"})
	b.must(t, http.StatusOK, "POST", path+"/submit", f.owner, map[string]any{"note": "已整改"})
	return p.id()
}

type acked struct {
	action string
	title  string
	id     int64
}

type loadResult struct {
	registered, closed, actions, reads, retried int
	codes                                       []string
	acked                                       []acked
	failures                                    []string
	took                                        time.Duration
}

// load runs workers per instance for d, each driving problems through the
// whole lifecycle: registered on its own instance, every next step on the
// other one, and each answer read back at once on the instance that did not
// give it (a stale read would be a 404 or an old state). With retry, a 503
// or a lost connection is retried with the same Idempotency-Key, as a client
// should; otherwise any answer but the expected one is a failure.
func (f *fixture) load(t *testing.T, ins []*instance, workers int, d time.Duration, retry bool) loadResult {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		res.failures = append(res.failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	start := time.Now()
	for w := range workers * len(ins) {
		wg.Go(func() {
			home, away := ins[w%len(ins)], ins[(w+1)%len(ins)]
			for ctx.Err() == nil {
				title := fmt.Sprintf("负载问题 %s-%d", home.name, f.seq.Add(1))
				steps := []struct {
					in     *instance
					action string
					token  string
					body   map[string]any
					want   int
					status string
				}{
					{home, "register", f.inspector, map[string]any{"title": title, "category_id": 5, "severity": "general",
						"source": "inspection", "unit_id": f.unit}, http.StatusCreated, "registered"},
					{away, "assign", f.verifiers[0], map[string]any{"assignee_id": f.ownerID, "measures": "整改"}, http.StatusOK, "assigned"},
					{home, "accept", f.owner, map[string]any{"note": "收到"}, http.StatusOK, "rectifying"},
					{away, "submit", f.owner, map[string]any{"note": "已整改"}, http.StatusOK, "submitted"},
					{home, "verify", f.verifiers[1], map[string]any{"passed": true, "note": "同意销号"}, http.StatusOK, "closed"},
				}
				var id int64
				for _, s := range steps {
					path := "/problems"
					if s.action != "register" {
						path = fmt.Sprintf("/problems/%d/%s", id, s.action)
					}
					key := newKey()
					var got answer
					var err error
					tries := 0
					for {
						tries++
						// A step begun is finished even after the load's time is up.
						got, err = s.in.call(context.WithoutCancel(ctx), "POST", path, s.token, s.body, key)
						if !retry || (err == nil && got.status != http.StatusServiceUnavailable) {
							break
						}
						if err == nil && got.header.Get("Retry-After") == "" {
							fail("%s %s on %s: 503 without Retry-After", s.action, path, s.in.name)
						}
						if tries > 300 {
							break
						}
						time.Sleep(200 * time.Millisecond)
					}
					if err != nil || got.status != s.want {
						fail("%s %s on %s: %v %v", s.action, path, s.in.name, got, err)
						return
					}
					if s.action == "register" {
						id = got.id()
					}
					mu.Lock()
					if tries > 1 {
						res.retried++
					}
					res.acked = append(res.acked, acked{action: s.action, title: title, id: id})
					if s.action == "register" {
						res.registered++
						res.codes = append(res.codes, fmt.Sprint(got.body["code"]))
					} else {
						res.actions++
					}
					if s.action == "verify" {
						res.closed++
					}
					mu.Unlock()
					// Read it back at once on the other instance.
					other := home
					if s.in == home {
						other = away
					}
					back, err := other.call(context.WithoutCancel(ctx), "GET", fmt.Sprintf("/problems/%d", id), f.verifiers[0], nil, "")
					if retry && (err != nil || back.status == http.StatusServiceUnavailable) {
						continue // the node behind it is down: nothing to compare
					}
					if err != nil || back.status != http.StatusOK || back.body["status"] != s.status ||
						back.body["version"] != got.body["version"] {
						fail("read of %s after %s on %s: %v %v, want %s version %v", title, s.action, other.name, back, err,
							s.status, got.body["version"])
						return
					}
					mu.Lock()
					res.reads++
					mu.Unlock()
					if ctx.Err() != nil && s.action != "register" {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}

type registerResult struct {
	codes    []string
	failures []string
	took     time.Duration
}

func (r registerResult) rate() float64 { return float64(len(r.codes)) / r.took.Seconds() }

// check fails on any answer but 201 and on a code given twice, in the
// answers or in the database behind them.
func (r registerResult) check(t *testing.T, where string, db *sql.DB) {
	t.Helper()
	if len(r.failures) > 0 {
		t.Fatalf("%s: %d failed registrations, e.g. %v", where, len(r.failures), r.failures[:min(5, len(r.failures))])
	}
	if len(r.codes) < 20 {
		t.Fatalf("%s: only %d registered", where, len(r.codes))
	}
	seen := map[string]bool{}
	for _, code := range r.codes {
		if seen[code] {
			t.Fatalf("%s: code %s given twice", where, code)
		}
		seen[code] = true
	}
	var rows, distinct int
	if err := db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT code) FROM problems").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != rows {
		t.Fatalf("%s: %d problems, %d distinct codes", where, rows, distinct)
	}
}

// register runs workers per instance for d, each registering problems one
// after another on its instance: anything but a 201 is a failure.
func (f *fixture) register(ins []*instance, workers int, d time.Duration) registerResult {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu  sync.Mutex
		res registerResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for w := range workers * len(ins) {
		wg.Go(func() {
			in := ins[w%len(ins)]
			for ctx.Err() == nil {
				title := fmt.Sprintf("登记速率 %s-%d", in.name, f.seq.Add(1))
				// A registration begun is finished even after the time is up.
				got, err := in.call(context.WithoutCancel(ctx), "POST", "/problems", f.inspector, map[string]any{"title": title,
					"category_id": 5, "severity": "general", "source": "inspection", "unit_id": f.unit}, newKey())
				mu.Lock()
				if err != nil || got.status != http.StatusCreated {
					res.failures = append(res.failures, fmt.Sprintf("register on %s: %v %v", in.name, got, err))
					mu.Unlock()
					return
				}
				res.codes = append(res.codes, fmt.Sprint(got.body["code"]))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}
