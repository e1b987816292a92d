package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/store/storetest"
	"github.com/rectify-team/rectify/internal/webhook"
)

// hangingTarget acknowledges the first requests, then hangs until the server
// that sends them dies; after recover() it acknowledges everything.
type hangingTarget struct {
	t      *testing.T
	secret string
	ackFor int

	mu        sync.Mutex
	requests  int
	recovered bool
	acked     map[string]int
	hanging   chan struct{}
	hangOnce  sync.Once
}

func (h *hangingTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.VerifyGeneric(h.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		h.t.Errorf("webhook signature: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	h.mu.Lock()
	h.requests++
	hang := !h.recovered && h.requests > h.ackFor
	if !hang {
		h.acked[r.Header.Get("X-Rectify-Event-Id")]++
	}
	h.mu.Unlock()
	if hang {
		h.hangOnce.Do(func() { close(h.hanging) })
		<-r.Context().Done() // the sender dies with the request in flight
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *hangingTarget) recover() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recovered = true
}

func (h *hangingTarget) received() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.acked {
		out[k] = v
	}
	return out
}

// TestBinaryKilledMidDelivery kills the server (SIGKILL) while a webhook
// delivery is in flight; the restarted server sends the rest, and the target
// sees every event exactly once.
func TestBinaryKilledMidDelivery(t *testing.T) {
	const secret = "a secret shared with the OA system"
	target := &hangingTarget{t: t, secret: secret, ackFor: 3, acked: map[string]int{}, hanging: make(chan struct{})}
	hook := httptest.NewServer(target)
	defer hook.Close()
	dir := t.TempDir()
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data"),
		"RECTIFY_ADMIN_PASSWORD=admin password 1", "RECTIFY_INSTANCE=one", "RECTIFY_SCHEDULER_INTERVAL=1s",
		fmt.Sprintf(`RECTIFY_WEBHOOKS=[{"name":"oa","kind":"generic","url":%q,"secret":%q}]`, hook.URL+"/hooks/rectify", secret)}
	s := start(t, env)
	admin := s.login("admin", "admin password 1")
	for _, u := range []map[string]any{
		{"username": "ver", "name": "工作小组", "password": "verifier pass 1", "roles": []string{"verifier"}, "unit_id": 1},
		{"username": "own", "name": "责任人", "password": "owner pass 1", "roles": []string{"owner"}, "unit_id": 1},
	} {
		s.call("POST", "/users", admin, u, http.StatusCreated)
	}
	ver := s.login("ver", "verifier pass 1")
	owner := s.call("GET", "/me", s.login("own", "owner pass 1"), nil, http.StatusOK)["id"]
	const events = 8
	for i := range events {
		p := s.call("POST", "/problems", ver, map[string]any{"title": fmt.Sprintf("问题 %d", i), "description": "描述",
			"category_id": 5, "severity": "general", "source": "inspection", "unit_id": 1}, http.StatusCreated)
		s.call("POST", fmt.Sprintf("/problems/%v/assign", p["id"]), ver, map[string]any{"assignee_id": owner, "measures": "措施"}, http.StatusOK)
	}
	select {
	case <-target.hanging:
	case <-time.After(20 * time.Second):
		t.Fatalf("no delivery reached the target:\n%s", s.out)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-s.done; err == nil {
		t.Fatal("a killed server exited cleanly")
	}
	if got := len(target.received()); got != 3 {
		t.Fatalf("%d events acknowledged before the kill, want 3", got)
	}

	target.recover()
	s = start(t, env)
	deadline := time.Now().Add(30 * time.Second)
	for len(target.received()) < events && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := target.received()
	if len(got) != events {
		t.Fatalf("%d of %d events delivered after the restart:\n%s", len(got), events, s.out)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s acknowledged %d times", id, n)
		}
	}
	admin = s.login("admin", "admin password 1")
	if items := s.call("GET", "/admin/outbox?state=pending", admin, nil, http.StatusOK)["items"].([]any); len(items) != 0 {
		t.Errorf("%d messages still pending", len(items))
	}
	delivered := s.call("GET", "/admin/outbox?state=delivered", admin, nil, http.StatusOK)["items"].([]any)
	for _, x := range delivered {
		if id := x.(map[string]any)["event_id"].(string); got[id] != 1 {
			t.Errorf("the outbox says %s was delivered; the target did not acknowledge it once", id)
		}
	}
	if len(delivered) != events {
		t.Errorf("%d delivered rows, want %d", len(delivered), events)
	}
	s.stop()
}
