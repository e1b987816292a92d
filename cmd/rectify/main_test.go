package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rectify-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rectify")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running rectify process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	out  *lockedBuffer
	done chan error
}

// lockedBuffer collects the process's output, written by exec's copying
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }() // only reserved a free port
	return ln.Addr().String()
}

func start(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	return startAt(t, freeAddr(t), env, args...)
}

// startAt starts the binary on addr, for a test that must name its address
// beforehand (a callback registered with an OpenID provider).
func startAt(t *testing.T, addr string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	s := &server{t: t, cmd: cmd, base: "http://" + addr, out: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.base + "/readyz"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not become ready:\n%s", s.out)
	return nil
}

// loopsStoppedBeforeClose checks in a stopped server's log that each named
// background loop returned before the database was closed. The log is text
// or JSON.
func loopsStoppedBeforeClose(t *testing.T, out string, loops ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	closed := slices.IndexFunc(lines, func(l string) bool {
		return strings.Contains(l, `msg="database closed"`) || strings.Contains(l, `"msg":"database closed"`)
	})
	if closed < 0 {
		t.Fatalf("the database's closing is not in the log:\n%s", out)
	}
	for _, name := range loops {
		i := slices.IndexFunc(lines, func(l string) bool {
			return strings.Contains(l, "background loop stopped") &&
				(strings.HasSuffix(l, " loop="+name) || strings.Contains(l, `"loop":"`+name+`"`))
		})
		if i < 0 || i > closed {
			t.Errorf("the %s loop did not stop before the database closed:\n%s", name, out)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("server exited with %v:\n%s", err, s.out)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatalf("server did not stop:\n%s", s.out)
	}
}

func (s *server) call(method, path, token string, body any, wantStatus int) map[string]any {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+"/api/v1"+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, wantStatus, raw)
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return out
}

func (s *server) login(user, password string) string {
	s.t.Helper()
	return s.call("POST", "/auth/login", "", map[string]any{"username": user, "password": password}, 200)["token"].(string)
}

// TestBinaryClosedLoop starts the real binary, drives a problem through the
// whole loop over HTTP, restarts the server and checks that tokens and the
// audit trail survive, and that SIGTERM stops it cleanly.
func TestBinaryClosedLoop(t *testing.T) {
	dir := t.TempDir()
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data"),
		"RECTIFY_ADMIN_PASSWORD=admin-secret-1", "RECTIFY_LOG_FORMAT=json"}
	s := start(t, env)
	admin := s.login("admin", "admin-secret-1")
	root := s.call("GET", "/units", admin, nil, 200)["items"].([]any)[0].(map[string]any)["id"]
	team := s.call("POST", "/units", admin, map[string]any{"name": "智电一班", "parent_id": root}, 201)["id"]
	mk := func(name string, roles ...string) float64 {
		return s.call("POST", "/users", admin, map[string]any{"username": name, "name": name, "password": "password-" + name,
			"roles": roles, "unit_id": team}, 201)["id"].(float64)
	}
	mk("jiancha", "inspector")
	ownerID := mk("zeren", "owner")
	mk("zuzhang", "verifier")

	insp, owner, verifier := s.login("jiancha", "password-jiancha"), s.login("zeren", "password-zeren"), s.login("zuzhang", "password-zuzhang")
	p := s.call("POST", "/problems", insp, map[string]any{"title": "学习意识仍需加强", "category_id": 5, "severity": "serious",
		"source": "inspection", "unit_id": team}, 201)
	id := fmt.Sprint(p["id"])
	if !strings.HasPrefix(p["code"].(string), "WT-") {
		t.Fatalf("code %v", p["code"])
	}
	s.call("POST", "/problems/"+id+"/assign", verifier, map[string]any{"assignee_id": ownerID, "measures": "开展读书会"}, 200)
	s.call("POST", "/problems/"+id+"/accept", owner, map[string]any{"note": "收到"}, 200)
	// A serious problem is submitted with evidence, kept under RECTIFY_DATA_DIR.
	s.upload(owner, "setup.pdf", []byte("\x7fELF\x02\x01\x01\x00 an executable renamed"), 415)
	evidence := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
	att := s.upload(owner, "整改报告.pdf", evidence, 201)
	s.checkStoredUnderDataDir(filepath.Join(dir, "data"), owner, att, evidence)
	s.call("POST", "/problems/"+id+"/submit", owner, map[string]any{"note": "已整改", "attachment_ids": []any{att["id"]}}, 200)
	s.call("POST", "/problems/"+id+"/verify", verifier, map[string]any{"passed": false, "note": "证据不足"}, 200)
	s.call("POST", "/problems/"+id+"/submit", owner, map[string]any{"note": "补充材料", "attachment_ids": []any{att["id"]}}, 200)
	closed := s.call("POST", "/problems/"+id+"/verify", verifier, map[string]any{"passed": true, "note": "同意销号"}, 200)
	if closed["status"] != "closed" || closed["rework_count"].(float64) != 1 {
		t.Fatalf("closed: %v", closed)
	}
	s.stop()
	if !strings.Contains(s.out.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", s.out)
	}
	loopsStoppedBeforeClose(t, s.out.String(), "checkpoint", "purge", "board", "memory", "scheduler", "dispatcher")
	// The final checkpoint of a clean stop, which signs the verification, is
	// the checkpoint log's last line, beside the key.
	logged, err := os.ReadFile(filepath.Join(dir, "data", "audit-checkpoints.log"))
	lines := bytes.Split(bytes.TrimSuffix(logged, []byte("\n")), []byte("\n"))
	if err != nil || !bytes.Contains(lines[len(lines)-1], []byte(`{"s":"problem/`+id+`","n":7,`)) {
		t.Fatalf("checkpoint log after a clean stop: %q %v", logged, err)
	}

	// Restart on the same database: the old token still works, the trail verifies.
	s2 := start(t, env)
	got := s2.call("GET", "/problems/"+id, verifier, nil, 200)
	if got["status"] != "closed" {
		t.Fatalf("after restart: %v", got)
	}
	v := s2.call("GET", "/audit/verify", verifier, nil, 200)
	if v["ok"] != true || v["checkpoints"].(float64) < 1 || v["logged_checkpoints"] != v["checkpoints"] {
		t.Fatalf("verify after restart: %v", v)
	}
	hist := s2.call("GET", "/problems/"+id+"/history", verifier, nil, 200)["items"].([]any)
	if len(hist) != 7 {
		t.Fatalf("history has %d entries, want 7", len(hist))
	}
	s2.call("POST", "/auth/logout", owner, nil, 204)
	s2.call("GET", "/me", owner, nil, 401)
	s2.stop()
}

// TestBinaryFirstStartGeneratesPassword checks that with no admin password
// configured one is generated and printed once, and works.
func TestBinaryFirstStartGeneratesPassword(t *testing.T) {
	dir := t.TempDir()
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data")}
	s := start(t, env)
	var password string
	sc := bufio.NewScanner(strings.NewReader(s.out.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "generated password") {
			for sc.Scan() {
				if f := strings.TrimSpace(sc.Text()); f != "" {
					password = f
					break
				}
			}
			break
		}
	}
	if password == "" {
		t.Fatalf("no generated password printed:\n%s", s.out)
	}
	s.login("admin", password)
	s.stop()
	s2 := start(t, env)
	if strings.Contains(s2.out.String(), "generated password") {
		t.Fatal("the password was printed again on the second start")
	}
	s2.stop()
}

// TestServeWaitsForItsLoops: a loop still busy when the stop comes returns
// before the database closes, as do all the others.
func TestServeWaitsForItsLoops(t *testing.T) {
	slow := func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(time.Second)
	}
	env := map[string]string{"RECTIFY_DB": storetest.URL(t), "RECTIFY_DATA_DIR": t.TempDir(), "RECTIFY_ADDR": freeAddr(t),
		"RECTIFY_ADMIN_PASSWORD": "admin-secret-1"}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), extraLoopKey{}, slow))
	defer cancel()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, out, out) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "rectify serving"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not serving:\n%s", out)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, out)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not return:\n%s", out)
	}
	loopsStoppedBeforeClose(t, out.String(), "extra", "checkpoint", "purge", "board", "memory", "scheduler", "dispatcher")
}

func TestMigrateCommand(t *testing.T) {
	url := storetest.URL(t)
	var out bytes.Buffer
	getenv := func(k string) string {
		if k == "RECTIFY_DB" {
			return url
		}
		return ""
	}
	for range 2 { // idempotent
		if err := run(context.Background(), []string{"migrate"}, getenv, &out, &out); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out.String())
		}
	}
}

func TestBadConfigurationIsAClearError(t *testing.T) {
	cases := map[string]string{
		"RECTIFY_DB":          "postgres://x",
		"RECTIFY_TZ":          "Mars/Olympus",
		"RECTIFY_TOKEN_TTL":   "soon",
		"RECTIFY_YELLOW_DAYS": "-1",
	}
	for key, val := range cases {
		getenv := func(k string) string {
			if k == key {
				return val
			}
			return ""
		}
		err := run(context.Background(), []string{"serve"}, getenv, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: got %v, want an error naming %s", key, val, err, key)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command must fail")
	}
}
