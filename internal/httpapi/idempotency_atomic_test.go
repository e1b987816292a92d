package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The board's, notices' and inbox's POSTs store their Idempotency-Key with
// their effect, in its transaction: none falls back to keeping the answer
// afterwards (which the middleware logs), and each replays.
func TestBoardPostsStoreKeysWithTheirEffect(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := newServerWith(t, setup{logger: slog.New(slog.NewTextHandler(logs, nil))})
	draft := s.must(t, http.StatusCreated, withKey(req{method: "POST", path: "/api/v1/notices", as: "verifier",
		body: map[string]any{"kind": "praise", "title": "表扬", "body": "按期整改"}}, "notice-1"))
	n := draft.obj(t)
	posts := []req{
		{method: "POST", path: "/api/v1/notices", as: "verifier", body: map[string]any{"kind": "praise", "title": "表扬", "body": "按期整改"}},
		{method: "POST", path: pathf("/api/v1/notices/%d/publish", int64(n["id"].(float64))), as: "leader"},
		{method: "POST", path: "/api/v1/contributions", as: "verifier", body: map[string]any{"user_id": s.id("owner1"), "points": 3, "reason": "主动整改"}},
		{method: "POST", path: "/api/v1/stats/evaluation/publish", as: "leader", body: map[string]any{"month": "2026-02"}},
		{method: "POST", path: "/api/v1/notifications/read", as: "owner1", body: map[string]any{"all": true}},
	}
	for i, r := range posts {
		key := "atomic-" + string(rune('a'+i))
		first := s.do(t, withKey(r, key))
		if first.status >= 300 {
			t.Fatalf("%s %s: %s", r.method, r.path, first)
		}
		again := s.do(t, withKey(r, key))
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s %s: replay %s, first %s", r.method, r.path, again, first)
		}
	}
	if strings.Contains(logs.String(), "outside the transaction") {
		t.Errorf("a route kept its key outside the transaction of its effect:\n%s", logs.String())
	}
	if s.countRows(t, "notices") != 2 || s.countRows(t, "contributions") != 1 || s.countRows(t, "evaluation_publications") != 1 {
		t.Errorf("a replay did the work again: notices %d, contributions %d, publications %d",
			s.countRows(t, "notices"), s.countRows(t, "contributions"), s.countRows(t, "evaluation_publications"))
	}
}
