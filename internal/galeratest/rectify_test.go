package galeratest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildRectify builds the real binary once for the suite.
func buildRectify(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rectify")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/rectify-team/rectify/cmd/rectify").CombinedOutput()
	if err != nil {
		t.Fatalf("build rectify: %v\n%s", err, out)
	}
	return bin
}

// instance is one running Rectify process.
type instance struct {
	name string
	base string
	proc *proc
}

func startInstance(t *testing.T, bin, name, db string, env ...string) *instance {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	env = append([]string{"RECTIFY_DB=" + db, "RECTIFY_ADDR=" + addr, "RECTIFY_INSTANCE=" + name,
		"RECTIFY_LOG_FORMAT=json", "RECTIFY_ADMIN_PASSWORD=" + adminPassword}, env...)
	return &instance{name: name, base: "http://" + addr + "/api/v1",
		proc: startProc(t, "rectify "+name, "", bin, []string{"serve"}, env)}
}

const adminPassword = "galera-admin-1"

func (i *instance) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if !i.proc.running() {
			t.Fatalf("rectify %s exited: %v\n%s", i.name, i.proc.err, i.proc.out)
		}
		if res, err := http.Get(i.base + "/readyz"); err == nil {
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("rectify %s not ready within %s:\n%s", i.name, within, i.proc.out)
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.raw) }

func (a answer) id() int64 {
	v, _ := a.body["id"].(float64)
	return int64(v)
}

// call sends one request; key, when set, is its Idempotency-Key.
func (i *instance) call(ctx context.Context, method, path, token string, body any, key string) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, i.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: res.StatusCode, header: res.Header, raw: strings.TrimSpace(string(raw))}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &a.body)
	}
	return a, nil
}

// must sends a request that must answer want.
func (i *instance) must(t *testing.T, want int, method, path, token string, body any) answer {
	t.Helper()
	a, err := i.call(context.Background(), method, path, token, body, "")
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, i.name, err)
	}
	if a.status != want {
		t.Fatalf("%s %s on %s: %s, want %d", method, path, i.name, a, want)
	}
	return a
}

func (i *instance) login(t *testing.T, user, password string) string {
	t.Helper()
	return i.must(t, http.StatusOK, "POST", "/auth/login", "", map[string]any{"username": user, "password": password}).body["token"].(string)
}

func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
