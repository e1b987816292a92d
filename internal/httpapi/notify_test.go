package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app/notify"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/ledger"
)

// The inbox (通知) and the admin's view of the webhook outbox over HTTP.

type notification struct {
	ID        int64   `json:"id"`
	EventID   string  `json:"event_id"`
	Kind      string  `json:"kind"`
	ProblemID *int64  `json:"problem_id"`
	Title     string  `json:"title"`
	Body      string  `json:"body"`
	ReadAt    *string `json:"read_at"`
	Read      bool    `json:"read"`
}

type inbox struct {
	Items      []notification `json:"items"`
	NextCursor *string        `json:"next_cursor"`
	Unread     int            `json:"unread"`
}

// inbox reads a user's inbox with a raw query.
func (s *apiServer) inbox(t testing.TB, as, query string) inbox {
	t.Helper()
	var in inbox
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/notifications?" + query, as: as}).decode(t, &in)
	return in
}

func hasNotification(in inbox, kind string, problemID int64) bool {
	return slices.ContainsFunc(in.Items, func(n notification) bool {
		return n.Kind == kind && n.ProblemID != nil && *n.ProblemID == problemID
	})
}

type marked struct {
	Marked int `json:"marked"`
	Unread int `json:"unread"`
}

func (s *apiServer) markRead(t testing.TB, as string, body any) marked {
	t.Helper()
	var m marked
	s.must(t, http.StatusOK, req{method: "POST", path: "/api/v1/notifications/read", as: as, body: body}).decode(t, &m)
	return m
}

func TestInboxOverHTTP(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "值班脱岗", "一班", nil)
	if in := s.inbox(t, "owner1", ""); len(in.Items) != 0 || in.Unread != 0 {
		t.Fatalf("registering told the owner: %+v", in)
	}
	s.assign(t, p.ID, "owner1", "")
	in := s.inbox(t, "owner1", "")
	if len(in.Items) != 1 || in.Unread != 1 || in.NextCursor != nil {
		t.Fatalf("owner1's inbox after the assign: %+v", in)
	}
	n := in.Items[0]
	if n.Kind != "problem.assigned" || n.ProblemID == nil || *n.ProblemID != p.ID || n.Read || n.ReadAt != nil ||
		n.EventID == "" || !bytes.Contains([]byte(n.Title), []byte(p.Code)) || n.Body == "" {
		t.Fatalf("the assignment's notification: %+v", n)
	}
	if in := s.inbox(t, "verifier", ""); len(in.Items) != 0 || in.Unread != 0 {
		t.Fatalf("the verifier was told of their own assign: %+v", in)
	}
	if in := s.inbox(t, "owner2", ""); len(in.Items) != 0 {
		t.Fatalf("owner2 reads owner1's inbox: %+v", in)
	}

	// More events: three assigns to owner1, one to owner2.
	for _, title := range []string{"问题二", "问题三", "问题四"} {
		s.assign(t, s.register(t, title, "一班", nil).ID, "owner1", "")
	}
	theirs := s.register(t, "二班的问题", "二班", nil)
	s.assign(t, theirs.ID, "owner2", "")
	otherID := s.inbox(t, "owner2", "").Items[0].ID

	// Paging: newest first, two at a time.
	var all []notification
	query := "limit=2"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("the cursor does not end")
		}
		page := s.inbox(t, "owner1", query)
		if page.Unread != 4 {
			t.Fatalf("unread on every page is the whole count: %+v", page)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			break
		}
		query = "limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(all) != 4 || !slices.IsSortedFunc(all, func(a, b notification) int { return int(b.ID - a.ID) }) ||
		all[3].ID != n.ID {
		t.Fatalf("paged inbox: %+v", all)
	}

	// Marking read by ids: one of one's own, another user's is ignored.
	if m := s.markRead(t, "owner1", map[string]any{"ids": []int64{n.ID, otherID}}); m.Marked != 1 || m.Unread != 3 {
		t.Fatalf("mark by ids: %+v", m)
	}
	if m := s.markRead(t, "owner1", map[string]any{"ids": []int64{n.ID}}); m.Marked != 0 || m.Unread != 3 {
		t.Fatalf("marking twice: %+v", m)
	}
	if in := s.inbox(t, "owner2", ""); in.Unread != 1 || in.Items[0].Read {
		t.Fatalf("owner1 marked owner2's notification: %+v", in)
	}
	unread := s.inbox(t, "owner1", "unread=true")
	if len(unread.Items) != 3 || unread.Unread != 3 || slices.ContainsFunc(unread.Items, func(x notification) bool { return x.ID == n.ID }) {
		t.Fatalf("unread only: %+v", unread)
	}
	read := s.inbox(t, "owner1", "unread=false")
	if len(read.Items) != 4 || !read.Items[3].Read || read.Items[3].ReadAt == nil {
		t.Fatalf("the read notification: %+v", read.Items)
	}

	// Marking all read, with a retried key.
	all1 := withKey(req{method: "POST", path: "/api/v1/notifications/read", as: "owner1", body: map[string]any{"all": true}}, "read-all-1")
	r1 := s.must(t, http.StatusOK, all1)
	var m marked
	r1.decode(t, &m)
	if m.Marked != 3 || m.Unread != 0 {
		t.Fatalf("mark all: %+v", m)
	}
	if r2 := s.must(t, http.StatusOK, all1); !bytes.Equal(r1.body, r2.body) || r2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("mark-all replay: %v %s", r2.header, r2.body)
	}
	if in := s.inbox(t, "owner1", "unread=true"); len(in.Items) != 0 || in.Unread != 0 {
		t.Fatalf("after marking all: %+v", in)
	}
	if in := s.inbox(t, "owner2", ""); in.Unread != 1 {
		t.Fatalf("owner1's mark-all reached owner2: %+v", in)
	}

	path := "/api/v1/notifications/read"
	many := make([]int64, 201)
	for i := range many {
		many[i] = int64(i + 1)
	}
	s.run(t, []row{
		{name: "both ids and all", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": []int64{1}, "all": true}},
			status: http.StatusBadRequest, code: "invalid_request", check: func(t *testing.T, r res) {
				if !r.hasField(t, "ids") || !r.hasField(t, "all") {
					t.Fatalf("details: %s", r.body)
				}
			}},
		{name: "neither", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("ids")},
		{name: "no body", req: req{method: "POST", path: path, as: "owner1"}, status: http.StatusBadRequest},
		{name: "all false", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"all": false}},
			status: http.StatusBadRequest, check: fieldIs("all")},
		{name: "ids empty", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": []int64{}}},
			status: http.StatusBadRequest, check: fieldIs("ids")},
		{name: "ids negative", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": []int64{3, -1}}},
			status: http.StatusBadRequest, check: fieldIs("ids[1]")},
		{name: "ids zero", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": []int64{0}}},
			status: http.StatusBadRequest, check: fieldIs("ids[0]")},
		{name: "too many ids", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": many}},
			status: http.StatusBadRequest, check: fieldIs("ids")},
		{name: "ids not numbers", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"ids": []string{"a"}}},
			status: http.StatusBadRequest},
		{name: "ids null", req: req{method: "POST", path: path, as: "owner1", body: `{"ids": null}`},
			status: http.StatusBadRequest, check: fieldIs("ids")},
		{name: "unknown field", req: req{method: "POST", path: path, as: "owner1", body: map[string]any{"all": true, "before": 3}},
			status: http.StatusBadRequest, check: fieldIs("before")},
		{name: "no token", req: req{method: "POST", path: path, body: map[string]any{"all": true}}, status: http.StatusUnauthorized},
		{name: "unread not a boolean", req: req{method: "GET", path: "/api/v1/notifications?unread=maybe", as: "owner1"},
			status: http.StatusBadRequest, check: fieldIs("unread")},
		{name: "garbage cursor", req: req{method: "GET", path: "/api/v1/notifications?cursor=%21%21", as: "owner1"},
			status: http.StatusBadRequest, check: fieldIs("cursor")},
		{name: "cursor of another list", req: req{method: "GET", path: "/api/v1/notifications?cursor=" + *encodedOtherCursor(t, s), as: "owner1"},
			status: http.StatusBadRequest, check: fieldIs("cursor")},
		{name: "unknown parameter", req: req{method: "GET", path: "/api/v1/notifications?kind=problem.assigned", as: "owner1"},
			status: http.StatusBadRequest, code: "invalid_request"},
		{name: "list without a token", req: req{method: "GET", path: "/api/v1/notifications"}, status: http.StatusUnauthorized},
	})
}

// fakeHooks sends every kind to one target, "ops", failing while down.
type fakeHooks struct {
	mu   sync.Mutex
	down bool
	sent []app.OutEvent
}

func (f *fakeHooks) Targets(string) []string { return []string{"ops"} }

func (f *fakeHooks) Deliver(_ context.Context, _ string, ev app.OutEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("ops: 502 bad gateway")
	}
	f.sent = append(f.sent, ev)
	return nil
}

func (f *fakeHooks) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

type outboxMessage struct {
	ID            int64      `json:"id"`
	EventID       string     `json:"event_id"`
	Target        string     `json:"target"`
	Kind          string     `json:"kind"`
	Title         string     `json:"title"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastError     *string    `json:"last_error"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

func (s *apiServer) outbox(t testing.TB, query string) list[outboxMessage] {
	t.Helper()
	var l list[outboxMessage]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/admin/outbox?" + query, as: "admin"}).decode(t, &l)
	return l
}

func TestOutboxOverHTTP(t *testing.T) {
	t.Parallel()
	s := newServer(t) // the fixture has no webhooks: the outbox stays empty
	p := s.register(t, "无人推送", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	if l := s.outbox(t, ""); len(l.Items) != 0 || l.NextCursor != nil {
		t.Fatalf("an outbox without webhooks: %+v", l)
	}
	s.run(t, []row{
		{name: "verifier lists", req: req{method: "GET", path: "/api/v1/admin/outbox", as: "verifier"}, status: http.StatusForbidden, code: "role_required"},
		{name: "leader lists", req: req{method: "GET", path: "/api/v1/admin/outbox", as: "leader"}, status: http.StatusForbidden},
		{name: "owner retries", req: req{method: "POST", path: "/api/v1/admin/outbox/1/retry", as: "owner1"}, status: http.StatusForbidden},
		{name: "unknown message", req: req{method: "POST", path: "/api/v1/admin/outbox/999/retry", as: "admin"}, status: http.StatusNotFound, code: "not_found"},
		{name: "id not a number", req: req{method: "POST", path: "/api/v1/admin/outbox/x/retry", as: "admin"}, status: http.StatusNotFound},
		{name: "unknown state", req: req{method: "GET", path: "/api/v1/admin/outbox?state=lost", as: "admin"}, status: http.StatusBadRequest, check: fieldIs("state")},
		{name: "bad target", req: req{method: "GET", path: "/api/v1/admin/outbox?target=Ops%20Team", as: "admin"}, status: http.StatusBadRequest, check: fieldIs("target")},
		{name: "bad cursor", req: req{method: "GET", path: "/api/v1/admin/outbox?cursor=%21%21", as: "admin"}, status: http.StatusBadRequest, check: fieldIs("cursor")},
		{name: "retry with a body", req: req{method: "POST", path: "/api/v1/admin/outbox/1/retry", as: "admin", body: map[string]any{"now": true}}, status: http.StatusBadRequest},
		{name: "no token", req: req{method: "GET", path: "/api/v1/admin/outbox"}, status: http.StatusUnauthorized},
	})
}

// webhookServer is a server whose service sends events to hooks, as
// cmd/rectify wires internal/webhook.
func webhookServer(t *testing.T, hooks notify.Webhooks) (*apiServer, *wire.Services) {
	t.Helper()
	loadSpec(t)
	env := apptest.New(t)
	svc := wire.New(env.DB, env.Keys, env.Svc.Core.Config(), wire.WithClock(env.Clock.Now), wire.WithBlobs(env.Blobs), wire.WithWebhooks(hooks), wire.WithWorkbookReader(ledger.Parse))
	h, err := httpapi.New(httpapi.ServicesOf(svc), httpapi.Options{})
	if err != nil {
		t.Fatalf("httpapi.New: %v", err)
	}
	return &apiServer{env: env, handler: h, tokens: map[string]string{}}, svc
}

func TestOutboxDeliveryAndRetryOverHTTP(t *testing.T) {
	t.Parallel()
	hooks := &fakeHooks{down: true}
	s, svc := webhookServer(t, hooks)
	ctx := context.Background()
	p := s.register(t, "推送失败", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	l := s.outbox(t, "")
	if len(l.Items) != 1 {
		t.Fatalf("the assign's event: %+v", l)
	}
	m := l.Items[0]
	if m.Target != "ops" || m.Kind != "problem.assigned" || m.State != "pending" || m.Attempts != 0 ||
		m.LastError != nil || m.LastAttemptAt != nil || m.DeliveredAt != nil || m.Title != "【交办】"+p.Code+" "+p.Title ||
		m.EventID != s.inbox(t, "owner1", "").Items[0].EventID {
		t.Fatalf("the pending message: %+v", m)
	}

	// The target is down: the attempt fails and waits for its backoff.
	if rep, err := svc.Notify.Dispatch(ctx, "test"); err != nil || rep.Failed != 1 {
		t.Fatalf("dispatch: %+v %v", rep, err)
	}
	failing := s.outbox(t, "state=failing")
	if len(failing.Items) != 1 {
		t.Fatalf("failing: %+v", failing)
	}
	m = failing.Items[0]
	if m.State != "failing" || m.Attempts != 1 || m.LastError == nil || *m.LastError != "ops: 502 bad gateway" ||
		m.LastAttemptAt == nil || !m.NextAttemptAt.After(*m.LastAttemptAt) {
		t.Fatalf("the failing message: %+v", m)
	}
	if l := s.outbox(t, "state=pending&target=ops"); len(l.Items) != 1 {
		t.Fatalf("pending includes failing: %+v", l)
	}
	if l := s.outbox(t, "state=delivered"); len(l.Items) != 0 {
		t.Fatalf("delivered: %+v", l)
	}
	if l := s.outbox(t, "target=wecom"); len(l.Items) != 0 {
		t.Fatalf("another target: %+v", l)
	}

	// Mended: the admin makes it due now, and the next pass delivers it.
	hooks.setDown(false)
	var retried outboxMessage
	s.must(t, http.StatusOK, req{method: "POST", path: pathf("/api/v1/admin/outbox/%d/retry", m.ID), as: "admin"}).decode(t, &retried)
	if retried.ID != m.ID || retried.State != "failing" || !retried.NextAttemptAt.Equal(s.env.Clock.Now()) {
		t.Fatalf("retried: %+v (was %+v)", retried, m)
	}
	if rep, err := svc.Notify.Dispatch(ctx, "test"); err != nil || rep.Delivered != 1 {
		t.Fatalf("dispatch after the retry: %+v %v", rep, err)
	}
	delivered := s.outbox(t, "state=delivered")
	if len(delivered.Items) != 1 || delivered.Items[0].State != "delivered" || delivered.Items[0].DeliveredAt == nil ||
		delivered.Items[0].Attempts != 2 || len(hooks.sent) != 1 || hooks.sent[0].ID != m.EventID {
		t.Fatalf("delivered: %+v, sent %+v", delivered, hooks.sent)
	}
	s.run(t, []row{
		{name: "retry a delivered message", req: req{method: "POST", path: pathf("/api/v1/admin/outbox/%d/retry", m.ID), as: "admin"},
			status: http.StatusConflict, code: "conflict"},
	})
	var audit list[auditEntry]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=outbox_retry", as: "admin"}).decode(t, &audit)
	if len(audit.Items) != 2 || audit.Items[0].ObjectType != "outbox" {
		t.Fatalf("the retries' audit (one done, one refused): %+v", audit.Items)
	}

	// Paging, newest first.
	for _, title := range []string{"二", "三"} {
		s.assign(t, s.register(t, title, "一班", nil).ID, "owner1", "")
	}
	first := s.outbox(t, "limit=2")
	if len(first.Items) != 2 || first.NextCursor == nil || first.Items[0].ID <= first.Items[1].ID {
		t.Fatalf("first page: %+v", first)
	}
	rest := s.outbox(t, "limit=2&cursor="+url.QueryEscape(*first.NextCursor))
	if len(rest.Items) != 1 || rest.NextCursor != nil || rest.Items[0].ID != m.ID {
		t.Fatalf("second page: %+v", rest)
	}
}

// TestDocumentEnumsMatchNotify keeps the document's lists of event kinds,
// re-check states and audit actions equal to the app's.
func TestDocumentEnumsMatchNotify(t *testing.T) {
	doc, _ := loadSpec(t)
	schema := func(name string) []string {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Fatalf("no schema %s", name)
		}
		return enumStrings(t, ref.Value)
	}
	if got, want := schema("EventKind"), app.EventKinds(); !slices.Equal(got, want) {
		t.Errorf("EventKind enum is %v, the app has %v", got, want)
	}
	if got, want := schema("RecheckStatus"), names(app.RecheckStatuses()); !slices.Equal(got, want) {
		t.Errorf("RecheckStatus enum is %v, the app has %v", got, want)
	}
	if got, want := schema("OutboxState"), []string{app.OutboxPending, app.OutboxFailing, app.OutboxDelivered}; !slices.Equal(got, want) {
		t.Errorf("OutboxState enum is %v, the app has %v", got, want)
	}
	for name, want := range map[string][]string{"AuditAction": app.AuditActions(), "AuditObjectType": app.AuditObjectTypes()} {
		got := schema(name)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("%s lacks %s", name, w)
			}
		}
	}
}
