package webhook_test

import (
	"context"
	"encoding/json"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/webhook"
)

// flakyTarget is a webhook target that refuses its first requests, then
// acknowledges, and counts acknowledged deliveries by event id.
type flakyTarget struct {
	t      *testing.T
	refuse int // requests answered 503 before it recovers
	check  func(r *http.Request, body []byte) (eventID string, ok bool)
	reply  func(w http.ResponseWriter)

	mu       sync.Mutex
	requests int
	acked    map[string]int
}

func (rv *flakyTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ok := rv.check(r, body)
	if !ok {
		rv.t.Errorf("a request failed the target's checks: %s %s", r.Header, body)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rv.mu.Lock()
	rv.requests++
	down := rv.requests <= rv.refuse
	if !down {
		rv.acked[id]++
	}
	rv.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	rv.reply(w)
}

func (rv *flakyTarget) counts() map[string]int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	out := map[string]int{}
	for k, v := range rv.acked {
		out[k] = v
	}
	return out
}

// Two server instances on one database, a generic and a DingTalk target that
// both fail at first: every event reaches each target exactly once, signed.
func TestTwoInstancesDeliverEachEventOnce(t *testing.T) {
	e := apptest.New(t)
	const secret = "s3cret-for-the-test"
	generic := &flakyTarget{t: t, refuse: 4, acked: map[string]int{},
		check: func(r *http.Request, body []byte) (string, bool) {
			if err := webhook.VerifyGeneric(secret, r.Header, body, e.Clock.Now(), 5*time.Minute); err != nil {
				t.Errorf("generic signature: %v", err)
				return "", false
			}
			var ev struct {
				ID   string          `json:"id"`
				Kind string          `json:"kind"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(body, &ev); err != nil || ev.ID != r.Header.Get("X-Rectify-Event-Id") || len(ev.Data) < 2 {
				return "", false
			}
			return ev.ID, true
		},
		reply: func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }}
	ding := &flakyTarget{t: t, refuse: 2, acked: map[string]int{},
		check: func(r *http.Request, body []byte) (string, bool) {
			q := r.URL.Query()
			var msg struct {
				MsgType string `json:"msgtype"`
			}
			ok := q.Get("access_token") == "tok" && q.Get("sign") != "" && q.Get("timestamp") != "" &&
				json.Unmarshal(body, &msg) == nil && msg.MsgType == "markdown"
			return r.Header.Get("X-Rectify-Event-Id"), ok
		},
		reply: func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`) }}
	gs, ds := httptest.NewServer(generic), httptest.NewServer(ding)
	defer gs.Close()
	defer ds.Close()
	targets := []webhook.Target{
		{Name: "oa", Kind: webhook.KindGeneric, URL: gs.URL + "/hook", Secret: secret},
		{Name: "ding", Kind: webhook.KindDingTalk, URL: ds.URL + "/robot/send?access_token=tok", Secret: "SECding",
			Events: []string{app.EventAssigned, app.EventOverdue, app.EventEscalated}},
	}
	hooks := func() wire.Option {
		return wire.WithWebhooks(webhook.NewHooks(targets, webhook.New(gs.Client(), e.Clock.Now)))
	}
	a, b := e.Instance(t, hooks()), e.Instance(t, hooks())
	for i := range 5 {
		p := e.Register(t, "问题")
		svc := []*wire.Services{a, b}[i%2]
		if _, err := svc.Lifecycle.Assign(t.Context(), e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID,
			Deadline: e.Svc.Core.Today().AddDays(1), Measures: "措施"}); err != nil {
			t.Fatal(err)
		}
	}
	e.Clock.Advance(10 * 24 * time.Hour) // every problem is overdue and escalated
	for range 12 {
		var wg sync.WaitGroup
		for i, svc := range []*wire.Services{a, b} {
			wg.Go(func() {
				if _, err := svc.Notify.Tick(context.Background(), []string{"a", "b"}[i]); err != nil {
					t.Error(err)
				}
				if _, err := svc.Notify.Dispatch(context.Background(), []string{"a", "b"}[i]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		e.Clock.Advance(time.Minute) // past any backoff of the first attempts
	}
	for name, rv := range map[string]*flakyTarget{"generic": generic, "dingtalk": ding} {
		got := rv.counts()
		if len(got) != 15 {
			t.Errorf("%s acknowledged %d events, want 15 (5 assigned, 5 overdue, 5 escalated)", name, len(got))
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("%s acknowledged event %s %d times", name, id, n)
			}
		}
	}
	pending, _, err := a.Notify.Outbox(t.Context(), e.Caller("admin"), app.OutboxQuery{State: app.OutboxPending})
	if err != nil || len(pending) != 0 {
		t.Errorf("%d messages still pending, %v", len(pending), err)
	}
	all, _, _ := a.Notify.Outbox(t.Context(), e.Caller("admin"), app.OutboxQuery{Limit: 100})
	retried := 0
	for _, m := range all {
		if m.Attempts > 1 {
			retried++
		}
	}
	if len(all) != 30 || retried != 6 {
		t.Errorf("outbox: %d rows (want 30), %d retried (want 6: the refused first requests)", len(all), retried)
	}
}
