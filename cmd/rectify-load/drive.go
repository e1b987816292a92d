package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rectify-team/rectify/internal/store"
)

// Bounds that no flag can lift: the tool is for this machine's loopback.
const (
	maxClients     = 256
	maxDuration    = 30 * time.Minute
	maxRequestsCap = 10_000_000
)

var workloads = []string{"register", "lifecycle", "action", "get", "list", "board", "pages", "mixed"}

type runOpts struct {
	url         string
	db          string
	workloads   []string
	clients     []int
	duration    time.Duration
	maxRequests int64
	limit       bool
	conns       int // the bare limit's pool size; 0: the server's default
	retry       bool
	loseAnswers int
	listKinds   []string
	serverPID   int
	jsonPath    string
	label       string
	pool        int
	interval    time.Duration
	warmup      time.Duration
	boardShare  int // percent of mixed operations that read the board
}

func runCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rectify-load run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o              runOpts
		wl, clientList string
	)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the server (loopback only)")
	fs.StringVar(&o.db, "db", getenv("RECTIFY_DB"), "the server's database, for --limit (RECTIFY_DB)")
	fs.StringVar(&wl, "workload", "register", "comma-separated: "+strings.Join(workloads, ", ")+", or all (all but mixed)")
	fs.StringVar(&clientList, "clients", "16", "comma-separated numbers of concurrent clients, e.g. 1,16,64")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per workload and client count (at most 30m)")
	fs.Int64Var(&o.maxRequests, "max-requests", 2_000_000, "stop a measurement after this many requests (at most 10,000,000)")
	fs.BoolVar(&o.limit, "limit", false, "also measure the bare database beside each write workload and report the ratio (needs --db)")
	fs.BoolVar(&o.retry, "retry", false, "fault mode: writes carry an Idempotency-Key and are retried with it after a 503 or a lost answer; "+
		"afterwards the audit trail proves each landed exactly once (needs --db)")
	fs.IntVar(&o.loseAnswers, "lose-answers", 0, "with --retry: percent of write answers the tool drops after they arrived, as a network would")
	fs.Func("list-kinds", "the list's kinds of filter, comma-separated (default: all): "+strings.Join(listKinds, ", "), func(v string) error {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); !contains(listKinds, k) {
				return fmt.Errorf("%q: want some of %s", k, strings.Join(listKinds, ", "))
			}
			o.listKinds = append(o.listKinds, k)
		}
		return nil
	})
	fs.IntVar(&o.conns, "conns", 0, "the bare limit's connection pool: the server's (RECTIFY_DB_MAX_CONNS); 0: the server's default")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server's process id for its memory; default: found by the port of --url")
	fs.StringVar(&o.jsonPath, "json", "", "append JSON lines to this file as well as printing them")
	fs.StringVar(&o.label, "label", "", "a label carried into every JSON line, e.g. mariadb-1m")
	fs.IntVar(&o.pool, "pool", 20000, "registered problems fetched before an action measurement (each is acted on once)")
	fs.DurationVar(&o.interval, "interval", 0, "also report every interval (soak runs): rate, p99, server RSS and goroutines")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each measurement")
	fs.IntVar(&o.boardShare, "board-share", 5, "mixed: percent of operations that read the board (the rest: 25 lifecycle steps, then get and list alike)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if wl == "all" {
		wl = "register,lifecycle,action,get,list,board,pages"
	}
	for _, w := range strings.Split(wl, ",") {
		w = strings.TrimSpace(w)
		if !contains(workloads, w) {
			return fmt.Errorf("--workload %q: want one of %s", w, strings.Join(workloads, ", "))
		}
		o.workloads = append(o.workloads, w)
	}
	for _, c := range strings.Split(clientList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > maxClients {
			return fmt.Errorf("--clients %q: whole numbers from 1 to %d", c, maxClients)
		}
		o.clients = append(o.clients, n)
	}
	switch {
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("--duration: more than 0, at most %s", maxDuration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return errors.New("--warmup: 0 to 1m")
	case o.maxRequests < 1 || o.maxRequests > maxRequestsCap:
		return fmt.Errorf("--max-requests: 1 to %d", maxRequestsCap)
	case o.limit && o.db == "":
		return errors.New("--limit needs --db (the server's database)")
	case o.retry && o.db == "":
		return errors.New("--retry needs --db (the server's database), to count the audit entries")
	case o.loseAnswers < 0 || o.loseAnswers > 90 || (o.loseAnswers > 0 && !o.retry):
		return errors.New("--lose-answers: 0 to 90, with --retry")
	case o.boardShare < 0 || o.boardShare > 75:
		return errors.New("--board-share: 0 to 75")
	case o.pool < 1 || o.pool > 1_000_000:
		return errors.New("--pool: 1 to 1,000,000")
	}
	base, err := loopbackBase(o.url)
	if err != nil {
		return err
	}
	o.url = base
	return drive(ctx, o, stdout)
}

// loopbackBase checks that u points at this machine's loopback and returns
// its API base. Any other address is refused: load goes nowhere else.
func loopbackBase(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("--url %q: want http://127.0.0.1:PORT", u)
	}
	host := p.Hostname()
	var ips []net.IP
	if strings.EqualFold(host, "localhost") {
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return "", fmt.Errorf("--url: resolve localhost: %w", err)
		}
		ips = addrs
	} else if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("--url %q: refused: the target must be a loopback address (127.0.0.0/8, ::1 or localhost)", u)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return "", fmt.Errorf("--url %q: refused: %s is not a loopback address; load runs only against this machine", u, ip)
		}
	}
	return strings.TrimSuffix(p.Scheme+"://"+p.Host, "/") + "/api/v1", nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// session is what the clients share: tokens, the organisation, ids.
type session struct {
	base     string
	client   *http.Client
	tokens   map[string]string // by username
	teams    []int64
	depts    []int64
	cats     []int64
	maxID    int64
	owners   []string
	ownerOf  map[int64]string // team id → owner username
	ownerIDs map[int64]int64  // team id → owner user id
	userIDs  map[string]int64
	seq      atomic.Int64
}

func newSession(ctx context.Context, base string, clients int) (*session, error) {
	s := &session{base: base, tokens: map[string]string{}, ownerOf: map[int64]string{}, ownerIDs: map[int64]int64{},
		userIDs: map[string]int64{},
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 2 * maxClients, MaxIdleConnsPerHost: clients + 8, IdleConnTimeout: time.Minute, DisableCompression: true}}}
	for _, u := range []string{"inspector-1", "verifier-1", "verifier-2", "leader-1"} {
		if err := s.login(ctx, loadPrefix+u); err != nil {
			return nil, fmt.Errorf("%w (did you run rectify-load prepare on the server's database?)", err)
		}
	}
	var units struct {
		Items []struct {
			ID       int64  `json:"id"`
			Name     string `json:"name"`
			ParentID *int64 `json:"parent_id"`
		} `json:"items"`
	}
	if err := s.getJSON(ctx, "leader-1", "/units", &units); err != nil {
		return nil, err
	}
	depts := map[int64]bool{}
	for _, u := range units.Items {
		if strings.HasPrefix(u.Name, "负载") && strings.HasSuffix(u.Name, "处") {
			depts[u.ID] = true
			s.depts = append(s.depts, u.ID)
		}
	}
	for _, u := range units.Items {
		if u.ParentID != nil && depts[*u.ParentID] && contains(teamNames, u.Name) {
			s.teams = append(s.teams, u.ID)
		}
	}
	if len(s.teams) == 0 {
		return nil, errors.New("no load teams on the server: run rectify-load prepare first")
	}
	for _, team := range s.teams {
		name := fmt.Sprintf("%sowner-%d", loadPrefix, team)
		if err := s.login(ctx, name); err != nil {
			return nil, err
		}
		s.ownerOf[team] = name
		s.ownerIDs[team] = s.userIDs[name]
		s.owners = append(s.owners, name)
	}
	var cats struct {
		Items []struct {
			ID       int64  `json:"id"`
			ParentID *int64 `json:"parent_id"`
		} `json:"items"`
	}
	if err := s.getJSON(ctx, "leader-1", "/categories", &cats); err != nil {
		return nil, err
	}
	parents := map[int64]bool{}
	for _, c := range cats.Items {
		if c.ParentID != nil {
			parents[*c.ParentID] = true
		}
	}
	for _, c := range cats.Items {
		if !parents[c.ID] {
			s.cats = append(s.cats, c.ID)
		}
	}
	var newest struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := s.getJSON(ctx, "leader-1", "/problems?limit=1", &newest); err != nil {
		return nil, err
	}
	if len(newest.Items) > 0 {
		s.maxID = newest.Items[0].ID
	}
	return s, nil
}

func (s *session) login(ctx context.Context, username string) error {
	body, _ := json.Marshal(map[string]string{"username": username, "password": loadPassword})
	req, _ := http.NewRequestWithContext(ctx, "POST", s.base+"/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("login %s: %w", username, err)
	}
	defer func() { _ = res.Body.Close() }()
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("login %s: %d %s", username, res.StatusCode, b)
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return fmt.Errorf("login %s: %w", username, err)
	}
	s.tokens[username] = out.Token
	s.userIDs[username] = out.User.ID
	return nil
}

func (s *session) getJSON(ctx context.Context, as, path string, v any) error {
	status, body, err := s.request(ctx, as, "GET", path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, status, body)
	}
	return json.Unmarshal(body, v)
}

// request sends one API request as a load user.
func (s *session) request(ctx context.Context, as, method, path string, body any) (int, []byte, error) {
	status, b, _, err := s.send(ctx, as, method, path, body, "", false)
	return status, b, err
}

// page asks for a page of the console (mounted at "/" beside the API) as a
// load user, with the session cookie that a sign-in sets.
func (s *session) page(ctx context.Context, as, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(s.base, "/api/v1")+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.AddCookie(&http.Cookie{Name: "rectify_session", Value: s.tokens[loadPrefix+strings.TrimPrefix(as, loadPrefix)]})
	req.Header.Set("X-Request-ID", "load-"+strconv.FormatInt(s.seq.Add(1), 36))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = res.Body.Close() }() // read to the end: nothing to lose
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// send sends one API request as a load user. A key, when given, is the
// request's X-Request-ID and, when idempotent, its Idempotency-Key, the same
// on every attempt of one logical action; the answer's Retry-After comes back
// as a wait.
func (s *session) send(ctx context.Context, as, method, path string, body any, key string, idempotent bool) (int, []byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	if as != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[loadPrefix+strings.TrimPrefix(as, loadPrefix)])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		if idempotent {
			req.Header.Set("Idempotency-Key", key)
		}
		req.Header.Set("X-Request-ID", key)
	} else {
		req.Header.Set("X-Request-ID", "load-"+strconv.FormatInt(s.seq.Add(1), 36))
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	var wait time.Duration
	if secs, e := strconv.Atoi(res.Header.Get("Retry-After")); e == nil && secs >= 0 {
		wait = time.Duration(secs) * time.Second
	}
	return res.StatusCode, b, wait, err
}

type problemRef struct {
	ID     int64  `json:"id"`
	UnitID int64  `json:"unit_id"`
	Status string `json:"status"`
}

// registeredPool pages through registered problems (newest first) that
// belong to load teams, up to n, before the measurement starts.
func (s *session) registeredPool(ctx context.Context, n int) ([]problemRef, error) {
	var out []problemRef
	cursor := ""
	for len(out) < n {
		path := "/problems?status=registered&limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []problemRef `json:"items"`
			NextCursor *string      `json:"next_cursor"`
		}
		if err := s.getJSON(ctx, "verifier-1", path, &page); err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if _, ok := s.ownerOf[p.UnitID]; ok && len(out) < n {
				out = append(out, p)
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			break
		}
		cursor = *page.NextCursor
	}
	return out, nil
}

// measurement collects one run's latencies and statuses across clients.
type measurement struct {
	mu        sync.Mutex
	latencies []time.Duration
	statuses  map[string]int64
	ops       atomic.Int64
	requests  atomic.Int64
	// interval sampling (soak)
	window []time.Duration
	kinds  map[string][]time.Duration // list latencies by filter kind
	// firstErr is the first failure of the database-limit mode, for its note.
	firstErr error
}

// fail keeps the first error of a database-limit transaction.
func (m *measurement) fail(err error) {
	m.mu.Lock()
	if m.firstErr == nil {
		m.firstErr = err
	}
	m.mu.Unlock()
}

func (m *measurement) recordKind(kind string, took time.Duration) {
	m.mu.Lock()
	if m.kinds == nil {
		m.kinds = map[string][]time.Duration{}
	}
	m.kinds[kind] = append(m.kinds[kind], took)
	m.mu.Unlock()
}

func newMeasurement() *measurement { return &measurement{statuses: map[string]int64{}} }

func (m *measurement) record(status int, err error, took time.Duration) {
	key := strconv.Itoa(status)
	if err != nil {
		key = "net_error"
	}
	m.recordAs(key, took)
}

// recordAs records one answer under key: a status, "net_error", or
// "dropped" for an answer the fault mode threw away on purpose.
func (m *measurement) recordAs(key string, took time.Duration) {
	m.mu.Lock()
	m.latencies = append(m.latencies, took)
	m.window = append(m.window, took)
	m.statuses[key]++
	m.mu.Unlock()
}

// client is one closed-loop client: it sends its next request when the
// previous one has been answered.
type client struct {
	s     *session
	m     *measurement
	rng   *rand.Rand
	pool  <-chan problemRef
	cur   *problemRef // mixed: the problem this client is moving along
	stats bool
	board int      // mixed: percent of board reads
	retry *retrier // fault mode: writes are logical actions, retried
	kinds []string // the list's kinds of filter; nil: all
}

// write sends one write; in the fault mode as a logical action, retried.
func (c *client) write(ctx context.Context, as, path string, body any) (int, []byte) {
	if c.retry != nil {
		return c.retry.write(ctx, c, as, path, body)
	}
	return c.do(ctx, as, "POST", path, body)
}

func (c *client) do(ctx context.Context, as, method, path string, body any) (int, []byte) {
	start := time.Now()
	status, b, err := c.s.request(ctx, as, method, path, body)
	if ctx.Err() != nil { // cut off by the end of the measurement: not an answer
		return 0, nil
	}
	c.m.requests.Add(1)
	if c.stats {
		c.m.record(status, err, time.Since(start))
	}
	if err != nil {
		return 0, nil
	}
	return status, b
}

func ok(status int) bool { return status == http.StatusOK || status == http.StatusCreated }

func (c *client) register(ctx context.Context) *problemRef {
	team := c.s.teams[c.rng.IntN(len(c.s.teams))]
	status, b := c.write(ctx, "inspector-1", "/problems", map[string]any{
		"title": "负载登记", "description": "rectify-load", "category_id": c.s.cats[c.rng.IntN(len(c.s.cats))],
		// General: its fix needs no evidence attached (by default only serious and critical ones do).
		"severity": "general", "source": "inspection", "unit_id": team})
	if !ok(status) {
		return nil
	}
	var p problemRef
	if json.Unmarshal(b, &p) != nil {
		return nil
	}
	return &p
}

// step moves p one step along register → assign → accept → submit → verify.
func (c *client) step(ctx context.Context, p *problemRef) *problemRef {
	var (
		as, action string
		body       any
	)
	switch p.Status {
	case "registered":
		as, action, body = "verifier-1", "assign", map[string]any{"assignee_id": c.s.ownerIDs[p.UnitID], "measures": "整改措施"}
	case "assigned":
		as, action, body = c.s.ownerOf[p.UnitID], "accept", map[string]any{"note": "签收"}
	case "rectifying":
		as, action, body = c.s.ownerOf[p.UnitID], "submit", map[string]any{"note": "已整改"}
	case "submitted":
		as, action, body = "verifier-2", "verify", map[string]any{"passed": true, "note": "验收通过"}
	default:
		return nil
	}
	status, b := c.write(ctx, as, fmt.Sprintf("/problems/%d/%s", p.ID, action), body)
	if !ok(status) {
		return nil
	}
	var q problemRef
	if json.Unmarshal(b, &q) != nil {
		return nil
	}
	return &q
}

// listKinds are the kinds of filter the list workload draws from: every
// filter a user can set, alone or as a console combines them, and the text
// searches for a title's word, a description's phrase, a problem's code and a
// word no problem has.
var listKinds = []string{"status", "status+severity", "source", "unit-subtree", "category", "assignee", "overdue",
	"warning", "deadline-week", "created-month", "status+team", "q-title", "q-description", "q-code", "q-code-part", "q-none"}

func (c *client) listPath() (as, path, kind string) {
	as = "verifier-1"
	owner := c.rng.IntN(5) == 0
	if owner {
		as = c.s.owners[c.rng.IntN(len(c.s.owners))]
	}
	statuses := []string{"registered", "assigned", "rectifying", "submitted", "closed"}
	v := url.Values{}
	kinds := c.kinds
	if len(kinds) == 0 {
		kinds = listKinds
	}
	k := kinds[c.rng.IntN(len(kinds))]
	switch k {
	case "status":
		v.Set("status", statuses[c.rng.IntN(len(statuses))])
	case "status+severity":
		v.Set("status", statuses[c.rng.IntN(len(statuses))])
		v.Set("severity", []string{"general", "serious", "critical"}[c.rng.IntN(3)])
	case "source":
		v.Set("source", []string{"self_check", "spot_check", "inspection", "supervision", "report"}[c.rng.IntN(5)])
	case "unit-subtree":
		v.Set("unit_id", strconv.FormatInt(c.s.depts[c.rng.IntN(len(c.s.depts))], 10))
	case "category":
		v.Set("category_id", strconv.FormatInt(c.s.cats[c.rng.IntN(len(c.s.cats))], 10))
	case "assignee":
		v.Set("assignee_id", strconv.FormatInt(c.s.ownerIDs[c.s.teams[c.rng.IntN(len(c.s.teams))]], 10))
	case "overdue":
		v.Set("overdue", "true")
	case "warning":
		v.Set("warning", []string{"red", "yellow", "green"}[c.rng.IntN(3)])
	case "deadline-week":
		from := time.Now().AddDate(0, 0, c.rng.IntN(120)-90)
		v.Set("deadline_from", from.Format(time.DateOnly))
		v.Set("deadline_to", from.AddDate(0, 0, 6).Format(time.DateOnly))
	case "created-month":
		m := time.Now().AddDate(0, -c.rng.IntN(12), 0)
		first := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)
		v.Set("created_from", first.Format(time.DateOnly))
		v.Set("created_to", first.AddDate(0, 1, -1).Format(time.DateOnly))
	case "status+team":
		team := c.s.teams[c.rng.IntN(len(c.s.teams))]
		v.Set("status", "rectifying")
		v.Set("unit_id", strconv.FormatInt(team, 10))
	case "q-title":
		v.Set("q", titles[c.rng.IntN(len(titles))])
	case "q-description":
		v.Set("q", "测试数据："+titles[c.rng.IntN(len(titles))][:6])
	case "q-code":
		id := int64(1)
		if c.s.maxID > 1 {
			id = 1 + c.rng.Int64N(c.s.maxID)
		}
		v.Set("q", fmt.Sprintf("%06d", id%1000000))
	case "q-code-part": // a year and four digits: a piece of about a hundred codes
		v.Set("q", fmt.Sprintf("%d-%04d", time.Now().Year()-c.rng.IntN(2), c.rng.IntN(10000)))
	case "q-none":
		v.Set("q", "无此问题"+strconv.Itoa(c.rng.IntN(1000)))
	}
	if owner {
		k = "owner:" + k
	}
	v.Set("limit", "50")
	return as, "/problems?" + v.Encode(), k
}

// op runs one iteration of a workload; it reports whether there is more to do.
func (c *client) op(ctx context.Context, workload string) bool {
	switch workload {
	case "register":
		c.register(ctx)
		c.m.ops.Add(1)
	case "lifecycle":
		p := c.register(ctx)
		for p != nil && p.Status != "closed" {
			p = c.step(ctx, p)
		}
		if p != nil {
			c.m.ops.Add(1)
		}
	case "action":
		p, more := <-c.pool
		if !more {
			return false
		}
		if c.step(ctx, &p) != nil {
			c.m.ops.Add(1)
		}
	case "get":
		id := int64(1)
		if c.s.maxID > 1 {
			id = 1 + c.rng.Int64N(c.s.maxID)
		}
		c.do(ctx, "leader-1", "GET", fmt.Sprintf("/problems/%d", id), nil)
		c.m.ops.Add(1)
	case "list":
		as, path, kind := c.listPath()
		start := time.Now()
		if status, _ := c.do(ctx, as, "GET", path, nil); status != 0 && c.stats {
			c.m.recordKind(kind, time.Since(start))
		}
		c.m.ops.Add(1)
	case "board":
		c.do(ctx, "leader-1", "GET", "/stats/overview", nil)
		c.m.ops.Add(1)
	case "pages":
		// The console's HTML: half problem pages, half list pages with the
		// list workload's filters, each as a signed-in browser asks for it.
		as, path, kind := c.listPath()
		if c.rng.IntN(2) == 0 {
			id := int64(1)
			if c.s.maxID > 1 {
				id = 1 + c.rng.Int64N(c.s.maxID)
			}
			as, path, kind = "leader-1", fmt.Sprintf("/problems/%d", id), "problem-page"
		}
		start := time.Now()
		status, _, err := c.s.page(ctx, as, path)
		if ctx.Err() == nil {
			c.m.requests.Add(1)
			if c.stats {
				c.m.record(status, err, time.Since(start))
				if err == nil {
					c.m.recordKind("page:"+kind, time.Since(start))
				}
			}
		}
		c.m.ops.Add(1)
	case "mixed":
		reads := (100 - 25 - c.board) / 2
		switch r := c.rng.IntN(100); {
		case r < 25:
			if c.cur == nil || c.cur.Status == "closed" {
				c.cur = c.register(ctx)
			} else {
				c.cur = c.step(ctx, c.cur)
			}
		case r < 25+reads:
			return c.op(ctx, "get")
		case r < 100-c.board:
			return c.op(ctx, "list")
		default:
			return c.op(ctx, "board")
		}
		c.m.ops.Add(1)
	}
	return true
}

// result is one line of the report.
type result struct {
	Kind      string           `json:"kind"` // http or db_limit
	Label     string           `json:"label,omitempty"`
	Workload  string           `json:"workload"`
	DB        string           `json:"db"`
	Clients   int              `json:"clients"`
	Seconds   float64          `json:"seconds"`
	Requests  int64            `json:"requests"`
	Ops       int64            `json:"ops"`
	RPS       float64          `json:"rps"`
	OpsPerS   float64          `json:"ops_per_s"`
	P50ms     float64          `json:"p50_ms"`
	P95ms     float64          `json:"p95_ms"`
	P99ms     float64          `json:"p99_ms"`
	MaxMs     float64          `json:"max_ms"`
	Statuses  map[string]int64 `json:"statuses"`
	Errors    int64            `json:"errors"`
	RSSPeakMB float64          `json:"rss_peak_mb,omitempty"`
	RSSHWMMB  float64          `json:"rss_hwm_mb,omitempty"`
	LimitRPS  float64          `json:"limit_rps,omitempty"`
	Ratio     float64          `json:"ratio,omitempty"`
	Note      string           `json:"note,omitempty"`
	// Kinds: for the list, p50/p99 in ms and count by kind of filter.
	Kinds map[string][3]float64 `json:"kinds,omitempty"`
	// LoadAvg is the machine's 1-minute load average before and after: other
	// work on the machine shows here, and the figures mean less when it is high.
	LoadAvg [2]float64 `json:"loadavg"`
}

func drive(ctx context.Context, o runOpts, stdout io.Writer) (err error) {
	maxC := 0
	for _, c := range o.clients {
		maxC = max(maxC, c)
	}
	s, err := newSession(ctx, o.url, maxC)
	if err != nil {
		return err
	}
	pid := o.serverPID
	if pid == 0 {
		if u, err := url.Parse(strings.TrimSuffix(o.url, "/api/v1")); err == nil {
			pid, _ = pidByPort(u.Port())
		}
	}
	var jsonOut io.Writer
	if o.jsonPath != "" {
		f, err := os.OpenFile(o.jsonPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		// The results are appended: a failed close may have lost the last of them.
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("--json %s: %w", o.jsonPath, cerr)
			}
		}()
		jsonOut = f
	}
	dbName := serverDialect(o.db)
	var rt *retrier
	if o.retry {
		rt = newRetrier(o.loseAnswers)
	}
	var lim *limiter
	if o.limit {
		conns := o.conns
		if conns <= 0 {
			conns = store.DefaultMaxConns(dbName)
		}
		if lim, err = openLimiter(ctx, o.db, conns); err != nil {
			return err
		}
		defer lim.close()
	}
	var results []result
	emit := func(r result) {
		r.Label = r.Label + o.label
		b, _ := json.Marshal(r)
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintln(stdout, string(b))
		if jsonOut != nil {
			// console output; nothing to do if it fails
			_, _ = fmt.Fprintln(jsonOut, string(b))
		}
		results = append(results, r)
	}
	for _, w := range o.workloads {
		for _, n := range o.clients {
			r, err := measure(ctx, s, o, w, n, pid, rt, stdout, jsonOut)
			if err != nil {
				return err
			}
			r.DB = dbName
			if lim != nil && bareWorkload(w) {
				// Measured right after the server's run, with as many clients and
				// the server's pool size: the two share the machine's state.
				b := lim.measure(ctx, n, o.duration, o.maxRequests)
				b.DB = dbName
				r.LimitRPS = b.RPS
				if b.RPS > 0 {
					r.Ratio = round(r.RPS/b.RPS, 3)
				}
				emit(b)
			}
			emit(r)
		}
	}
	printTable(stdout, results)
	if rt == nil {
		return nil
	}
	e, err := rt.verify(ctx, o.db)
	if err != nil {
		return err
	}
	e.Label = o.label
	e.print(stdout)
	if jsonOut != nil {
		b, _ := json.Marshal(e)
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintln(jsonOut, string(b))
	}
	if !e.OK {
		return errors.New("a retried action was applied twice, or an acknowledged one is missing: see the exactly_once line")
	}
	return nil
}

func serverDialect(db string) string {
	switch {
	case strings.HasPrefix(db, "mysql:"):
		return "mysql"
	case strings.HasPrefix(db, "sqlite:"):
		return "sqlite"
	}
	return "unknown"
}

// measure runs one workload at one concurrency against the server.
func measure(ctx context.Context, s *session, o runOpts, w string, n, pid int, rt *retrier, stdout, jsonOut io.Writer) (result, error) {
	m := newMeasurement()
	var pool chan problemRef
	if w == "action" {
		refs, err := s.registeredPool(ctx, o.pool)
		if err != nil {
			return result{}, err
		}
		if len(refs) == 0 {
			return result{}, errors.New("action: no registered problems in load teams; prepare more, or run register first")
		}
		pool = make(chan problemRef, len(refs))
		for _, p := range refs {
			pool <- p
		}
		close(pool)
	}
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = &client{s: s, m: m, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))), pool: pool,
			board: o.boardShare, retry: rt, kinds: o.listKinds}
	}
	runFor := func(d time.Duration, stats bool) time.Duration {
		rctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		start := time.Now()
		for _, c := range clients {
			c.stats = stats
			wg.Add(1)
			go func() {
				defer wg.Done()
				for rctx.Err() == nil && m.requests.Load() < o.maxRequests {
					if !c.op(rctx, w) {
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	if o.warmup > 0 && w != "action" {
		runFor(o.warmup, false)
		m.requests.Store(0)
		m.ops.Store(0)
	}
	var rss rssSampler
	stopRSS := rss.start(pid, 100*time.Millisecond)
	stopSoak := func() {}
	if o.interval > 0 {
		stopSoak = soakReporter(s, m, w, n, o, &rss, stdout, jsonOut)
	}
	load0 := loadAvg()
	took := runFor(o.duration, true)
	stopSoak()
	stopRSS()
	r := summarize("http", w, n, took, m)
	r.LoadAvg = [2]float64{load0, loadAvg()}
	r.RSSPeakMB = round(float64(rss.peak.Load())/1024, 1)
	if hwm, err := procStatusKB(pid, "VmHWM"); err == nil {
		r.RSSHWMMB = round(float64(hwm)/1024, 1)
	}
	if w == "board" && r.Statuses["404"] > 0 && r.Statuses["200"] == 0 {
		r.Note = "GET /stats/overview answered 404: the board is not on this server"
	}
	if w == "action" && r.Ops < r.Requests/2 {
		r.Note = "pool of registered problems ran out or actions failed; see statuses"
	}
	if w == "lifecycle" {
		r.Note = "ops = whole lifecycles (5 requests each)"
	}
	return r, nil
}

func summarize(kind, w string, n int, took time.Duration, m *measurement) result {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := result{Kind: kind, Workload: w, Clients: n, Seconds: round(took.Seconds(), 2), Requests: int64(len(m.latencies)),
		Ops: m.ops.Load(), Statuses: m.statuses}
	if took > 0 {
		r.RPS = round(float64(r.Requests)/took.Seconds(), 1)
		r.OpsPerS = round(float64(r.Ops)/took.Seconds(), 1)
	}
	ps := percentiles(m.latencies, 0.50, 0.95, 0.99, 1)
	r.P50ms, r.P95ms, r.P99ms, r.MaxMs = ms(ps[0]), ms(ps[1]), ms(ps[2]), ms(ps[3])
	for kind, ds := range m.kinds {
		if r.Kinds == nil {
			r.Kinds = map[string][3]float64{}
		}
		kp := percentiles(ds, 0.5, 0.99)
		r.Kinds[kind] = [3]float64{ms(kp[0]), ms(kp[1]), float64(len(ds))}
	}
	for k, v := range m.statuses {
		if code, err := strconv.Atoi(k); err != nil || code >= 400 {
			r.Errors += v
		}
	}
	return r
}

func ms(d time.Duration) float64 { return round(float64(d.Microseconds())/1000, 2) }

func round(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	if x >= 0 {
		return float64(int64(x*p+0.5)) / p
	}
	return -float64(int64(-x*p+0.5)) / p
}
