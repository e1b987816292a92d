package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/app/wire"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// fakeHooks is a webhook target in memory: it counts acknowledged deliveries
// by event id, and fails or blocks as a test tells it.
type fakeHooks struct {
	targets []string
	fail    func(attempt int, ev app.OutEvent) error // nil: acknowledge everything
	block   func(attempt int) bool                   // true: wait for the context to end

	mu       sync.Mutex
	attempts int
	acked    map[string]int // event id → acknowledged deliveries
	kinds    map[string]string
}

func newFakeHooks(targets ...string) *fakeHooks {
	if len(targets) == 0 {
		targets = []string{"group"}
	}
	return &fakeHooks{targets: targets, acked: map[string]int{}, kinds: map[string]string{}}
}

func (h *fakeHooks) Targets(string) []string { return h.targets }

func (h *fakeHooks) Deliver(ctx context.Context, target string, ev app.OutEvent) error {
	h.mu.Lock()
	h.attempts++
	n := h.attempts
	h.mu.Unlock()
	if h.block != nil && h.block(n) {
		<-ctx.Done()
		return ctx.Err()
	}
	if h.fail != nil {
		if err := h.fail(n, ev); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acked[target+"|"+ev.ID]++
	h.kinds[ev.ID] = ev.Kind
	return nil
}

// started returns how many deliveries were attempted.
func (h *fakeHooks) started() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts
}

// received returns the acknowledged deliveries by target and event id.
func (h *fakeHooks) received() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps(h.acked)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// inbox returns a user's notifications, newest first.
func inbox(t testing.TB, e *apptest.Env, user string) *app.Inbox {
	t.Helper()
	in, err := e.Svc.Notify.Notifications(t.Context(), e.Caller(user), false, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func kindsOf(ns []*app.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[len(ns)-1-i] = n.Kind // oldest first
	}
	return out
}

func TestWhoIsToldWhat(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Register(t, "会议纪要未按时报送")
	if got := inbox(t, e, "verifier"); len(got.Items) != 0 {
		t.Fatalf("registering told the working group: %+v", got.Items)
	}
	must := func(_ *domain.Problem, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "建立台账"}))
	in := inbox(t, e, "owner1")
	if len(in.Items) != 1 || in.Unread != 1 || in.Items[0].Kind != app.EventAssigned || in.Items[0].ProblemID != p.ID {
		t.Fatalf("owner1 after assign: %+v unread %d", in.Items, in.Unread)
	}
	if want := "【交办】" + p.Code + " 会议纪要未按时报送"; in.Items[0].Title != want {
		t.Errorf("title %q, want %q", in.Items[0].Title, want)
	}
	if len(inbox(t, e, "verifier").Items) != 0 {
		t.Error("the verifier was told of their own assign")
	}
	must(e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, 0, "签收"))
	must(e.Svc.Lifecycle.Urge(ctx, e.Caller("verifier2"), p.ID, 0, "请加快进度"))
	must(e.Svc.Lifecycle.Submit(ctx, e.Caller("owner1"), p.ID, 0, "已整改"))
	for _, v := range []string{"verifier", "verifier2", "ownerverifier"} {
		if got := kindsOf(inbox(t, e, v).Items); !slices.Equal(got, []string{app.EventSubmitted}) {
			t.Errorf("%s told %v, want the submit only", v, got)
		}
	}
	must(e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, 0, false, "证据不足"))
	must(e.Svc.Lifecycle.Submit(ctx, e.Caller("owner1"), p.ID, 0, "补充证据"))
	must(e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, 0, true, "验收通过"))
	want := []string{app.EventAssigned, app.EventUrged, app.EventSentBack, app.EventClosed}
	if got := kindsOf(inbox(t, e, "owner1").Items); !slices.Equal(got, want) {
		t.Errorf("owner1 told %v, want %v", got, want)
	}
	if got := kindsOf(inbox(t, e, "inspector").Items); !slices.Equal(got, []string{app.EventClosed}) {
		t.Errorf("the inspector told %v, want the closing", got)
	}
	if got := inbox(t, e, "leader"); len(got.Items) != 0 {
		t.Errorf("the leader told %v of an ordinary loop", kindsOf(got.Items))
	}

	// Marking read: by ids (another's ids are ignored), then all.
	own := inbox(t, e, "owner1")
	other := inbox(t, e, "inspector").Items[0].ID
	marked, unread, err := e.Svc.Notify.MarkRead(ctx, e.Caller("owner1"), []int64{own.Items[0].ID, other})
	if err != nil || marked != 1 || unread != 3 {
		t.Fatalf("mark one read: marked %d unread %d err %v", marked, unread, err)
	}
	if inbox(t, e, "inspector").Unread != 1 {
		t.Error("owner1 marked the inspector's notification read")
	}
	unreadOnly, err := e.Svc.Notify.Notifications(ctx, e.Caller("owner1"), true, 0, 10)
	if err != nil || len(unreadOnly.Items) != 3 {
		t.Fatalf("unread only: %d items, %v", len(unreadOnly.Items), err)
	}
	if marked, unread, err = e.Svc.Notify.MarkRead(ctx, e.Caller("owner1"), nil); err != nil || marked != 3 || unread != 0 {
		t.Fatalf("mark all read: marked %d unread %d err %v", marked, unread, err)
	}
	if marked, _, _ = e.Svc.Notify.MarkRead(ctx, e.Caller("owner1"), nil); marked != 0 {
		t.Errorf("marking read twice marked %d", marked)
	}
}

func TestExtensionsTellDecidersAndRequester(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusRectifying)
	ask := func(days int) int64 {
		t.Helper()
		x, err := e.Svc.Lifecycle.RequestExtension(ctx, e.Caller("owner1"), p.ID, 0, load(t, e, p.ID).Deadline.AddDays(days), "需要采购")
		if err != nil {
			t.Fatal(err)
		}
		return x.ID
	}
	first := ask(5)
	if got := kindsOf(inbox(t, e, "verifier").Items); !slices.Contains(got, app.EventExtensionRequested) {
		t.Errorf("the working group was not told of the request: %v", got)
	}
	if len(inbox(t, e, "leader").Items) != 0 {
		t.Error("the leader was told of a first extension, which the working group decides")
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, 0, first, true, "同意"); err != nil {
		t.Fatal(err)
	}
	if got := kindsOf(inbox(t, e, "owner1").Items); got[len(got)-1] != app.EventExtensionDecided {
		t.Errorf("the requester was not told of the decision: %v", got)
	}
	ask(5)
	if got := kindsOf(inbox(t, e, "leader").Items); !slices.Equal(got, []string{app.EventExtensionRequested}) {
		t.Errorf("the leader, who decides the second extension, was told %v", got)
	}
}

// assignDue registers a problem and assigns it to owner1 with a deadline days
// from today, with the milestones given (days from today).
func assignDue(t testing.TB, e *apptest.Env, days int, milestones ...int) *domain.Problem {
	t.Helper()
	p := e.Register(t, fmt.Sprintf("期限 %d 天", days))
	today := e.Svc.Core.Today()
	in := app.AssignInput{AssigneeID: e.Users["owner1"].ID, Deadline: today.AddDays(days), Measures: "倒排工期"}
	for i, m := range milestones {
		in.Milestones = append(in.Milestones, domain.MilestonePlan{Due: today.AddDays(m), Title: fmt.Sprintf("节点 %d", i+1)})
	}
	p, err := e.Svc.Lifecycle.Assign(t.Context(), e.Caller("verifier"), p.ID, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// tick runs a scheduler pass and fails the test if this instance was not the leader.
func tick(t testing.TB, svc *wire.Services, holder string) app.SchedulerReport {
	t.Helper()
	rep, err := svc.Notify.Tick(t.Context(), holder)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Leader {
		t.Fatalf("%s did not get the lease", holder)
	}
	return rep
}

func actionsOf(es []*audit.Entry, actions ...string) []string {
	var out []string
	for _, x := range es {
		if slices.Contains(actions, x.Action) {
			out = append(out, x.Action)
		}
	}
	return out
}

// A problem walked past its milestones and deadline on a fake clock: the
// warning level, and each crossing raised once, audited and told.
func TestDeadlinesBite(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := assignDue(t, e, 10, 3, 7) // deadline 03-12, milestones 03-05 and 03-09
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, 0, "签收"); err != nil {
		t.Fatal(err)
	}
	warning := func() domain.WarningLevel { return e.Svc.Lifecycle.Warning(load(t, e, p.ID)) }
	crossings := func() []string {
		return actionsOf(problemEntries(t, e, p.ID), app.EscalationApproaching, app.EscalationOverdue, app.EscalationEscalated)
	}
	if rep := tick(t, e.Svc, "a"); len(rep.Raised) != 0 || warning() != domain.WarningGreen {
		t.Fatalf("day 0: raised %v, warning %s", rep.Raised, warning())
	}
	e.Clock.Advance(days(4)) // 03-06: the first milestone passed undone
	if rep := tick(t, e.Svc, "a"); len(rep.Raised) != 0 || warning() != domain.WarningYellow {
		t.Fatalf("day 4: raised %v, warning %s (behind plan is yellow, but nothing is due)", rep.Raised, warning())
	}
	e.Clock.Advance(days(3)) // 03-09: three days left
	rep := tick(t, e.Svc, "a")
	if rep.Raised[app.EscalationApproaching] != 1 || len(rep.Raised) != 1 {
		t.Fatalf("day 7: raised %v", rep.Raised)
	}
	tick(t, e.Svc, "a")
	e.Clock.Advance(time.Hour)
	tick(t, e.Svc, "a")
	if got := crossings(); !slices.Equal(got, []string{app.EscalationApproaching}) {
		t.Fatalf("after three passes on day 7: %v", got)
	}
	if got := kindsOf(inbox(t, e, "owner1").Items); got[len(got)-1] != app.EventDeadlineApproaching {
		t.Errorf("the assignee was not told the deadline approaches: %v", got)
	}
	if len(inbox(t, e, "verifier").Items) != 0 {
		t.Error("the working group was told of an approaching deadline")
	}

	e.Clock.Advance(days(4)) // 03-13: a day overdue
	if rep := tick(t, e.Svc, "a"); rep.Raised[app.EscalationOverdue] != 1 || warning() != domain.WarningRed {
		t.Fatalf("day 11: raised %v, warning %s", rep.Raised, warning())
	}
	if got := kindsOf(inbox(t, e, "verifier").Items); !slices.Equal(got, []string{app.EventOverdue}) {
		t.Errorf("the working group was told %v of an overdue problem", got)
	}
	e.Clock.Advance(days(7)) // 03-20: 8 days overdue, more than M = 7
	if rep := tick(t, e.Svc, "a"); rep.Raised[app.EscalationEscalated] != 1 || len(rep.Raised) != 1 {
		t.Fatalf("day 18: raised %v", rep.Raised)
	}
	tick(t, e.Svc, "a")
	if got := crossings(); !slices.Equal(got, []string{app.EscalationApproaching, app.EscalationOverdue, app.EscalationEscalated}) {
		t.Fatalf("crossings %v, want each once", got)
	}
	if got := kindsOf(inbox(t, e, "leader").Items); !slices.Equal(got, []string{app.EventEscalated}) {
		t.Errorf("the unit's leader was told %v, want the escalation", got)
	}
	for _, x := range problemEntries(t, e, p.ID) {
		if x.Action == app.EscalationEscalated && (x.ActorName != "system" || x.ActorID != 0 || x.Changes != `{"days_overdue":8,"deadline":"2026-03-12"}`) {
			t.Errorf("escalation entry: actor %q (%d), changes %s", x.ActorName, x.ActorID, x.Changes)
		}
	}
	mustVerifyOK(t, e)
}

// A moved deadline is a new crossing; a problem no longer open is left alone.
func TestCrossingsFollowTheDeadline(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	p := assignDue(t, e, 2)
	q := assignDue(t, e, 2)
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), q.ID, 0, "签收"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Submit(ctx, e.Caller("owner1"), q.ID, 0, "已整改"); err != nil {
		t.Fatal(err)
	}
	if rep := tick(t, e.Svc, "a"); rep.Raised[app.EscalationApproaching] != 1 {
		t.Fatalf("raised %v, want the assigned problem only (the submitted one awaits the working group)", rep.Raised)
	}
	x, err := e.Svc.Lifecycle.RequestExtension(ctx, e.Caller("owner1"), p.ID, 0, e.Svc.Core.Today().AddDays(20), "等待设备")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, 0, x.ID, true, "同意"); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(days(5)) // past the old deadline, far from the new one
	if rep := tick(t, e.Svc, "a"); len(rep.Raised) != 0 {
		t.Fatalf("raised %v after the deadline moved", rep.Raised)
	}
	e.Clock.Advance(days(13)) // within 3 days of the new deadline
	if rep := tick(t, e.Svc, "a"); rep.Raised[app.EscalationApproaching] != 1 {
		t.Fatalf("raised %v, want the new deadline's approach", rep.Raised)
	}
}

// Two instances on one database: one holds the lease at a time; each crossing
// is raised once and each event delivered once.
func TestTwoInstancesShareTheScheduler(t *testing.T) {
	e := apptest.New(t)
	hooks := newFakeHooks()
	a := e.Instance(t, wire.WithWebhooks(hooks))
	b := e.Instance(t, wire.WithWebhooks(hooks))
	var ids []int64
	for range 6 {
		ids = append(ids, assignDue(t, e, 1).ID)
	}
	e.Clock.Advance(days(10)) // each problem has crossed all three
	var leaders int
	for round := range 4 {
		var wg sync.WaitGroup
		reps := make([]app.SchedulerReport, 2)
		errs := make([]error, 2)
		for i, svc := range []*wire.Services{a, b} {
			wg.Go(func() { reps[i], errs[i] = svc.Notify.Tick(context.Background(), []string{"a", "b"}[i]) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if reps[0].Leader == reps[1].Leader {
			t.Fatalf("round %d: leaders a=%v b=%v, want exactly one", round, reps[0].Leader, reps[1].Leader)
		}
		if reps[0].Leader {
			leaders++
		}
		for _, svc := range []*wire.Services{a, b} {
			wg.Go(func() {
				if _, err := svc.Notify.Dispatch(context.Background(), "x"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if leaders != 0 && leaders != 4 {
		t.Errorf("a led %d of 4 rounds; the lease should stay with its holder while it lasts", leaders)
	}
	for _, id := range ids {
		got := actionsOf(problemEntries(t, e, id), app.EscalationApproaching, app.EscalationOverdue, app.EscalationEscalated)
		if !slices.Equal(got, []string{app.EscalationOverdue, app.EscalationEscalated}) {
			t.Errorf("problem %d crossings %v, want overdue and escalated once each", id, got)
		}
	}
	got := hooks.received()
	events := 0
	for k, n := range got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", k, n)
		}
		events++
	}
	// Per problem, overdue and escalated (the fixture's own service, which
	// assigned them, has no webhooks).
	if events != 6*2 {
		t.Errorf("%d events delivered, want %d", events, 6*2)
	}
	// When the holder stops renewing, the other takes over after the lease.
	holder, holderName, other, otherName := a, "a", b, "b"
	if leaders == 0 {
		holder, holderName, other, otherName = b, "b", a, "a"
	}
	e.Clock.Advance(3 * time.Minute)
	if rep, err := other.Notify.Tick(t.Context(), otherName); err != nil || !rep.Leader {
		t.Fatalf("%s after the lease of %s ran out: leader %v, %v", otherName, holderName, rep.Leader, err)
	}
	if rep, _ := holder.Notify.Tick(t.Context(), holderName); rep.Leader {
		t.Errorf("%s took the lease back while %s held it", holderName, otherName)
	}
	// A holder that stops gracefully gives the lease up: the other takes it
	// at its next pass, without waiting for it to run out.
	if err := other.Notify.ReleaseScheduler(t.Context(), otherName); err != nil {
		t.Fatal(err)
	}
	if rep, err := holder.Notify.Tick(t.Context(), holderName); err != nil || !rep.Leader {
		t.Fatalf("%s after %s gave the lease up: leader %v, %v", holderName, otherName, rep.Leader, err)
	}
	// Giving up a lease one does not hold changes nothing.
	if err := other.Notify.ReleaseScheduler(t.Context(), otherName); err != nil {
		t.Fatal(err)
	}
	if rep, _ := other.Notify.Tick(t.Context(), otherName); rep.Leader {
		t.Errorf("%s took the lease from %s after giving up a lease it did not hold", otherName, holderName)
	}
}

// A target that fails and recovers gets every event once; failures are visible to admins.
func TestOutboxRetriesUntilDelivered(t *testing.T) {
	e := apptest.New(t)
	hooks := newFakeHooks()
	hooks.fail = func(n int, _ app.OutEvent) error {
		if n <= 5 {
			return errors.New("HTTP 502 from the target")
		}
		return nil
	}
	svc := e.Instance(t, wire.WithWebhooks(hooks))
	for range 3 {
		p := e.Register(t, "问题")
		if _, err := svc.Lifecycle.Assign(t.Context(), e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "措施"}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-svc.Notify.OutboxSignal():
	default:
		t.Error("writing events did not signal the dispatcher")
	}
	rep, err := svc.Notify.Dispatch(t.Context(), "a")
	if err != nil || rep.Failed != 3 || rep.Delivered != 0 {
		t.Fatalf("first dispatch %+v, %v", rep, err)
	}
	if rep, _ := svc.Notify.Dispatch(t.Context(), "a"); rep.Claimed != 0 {
		t.Fatalf("failed messages were retried at once: %+v", rep)
	}
	failing, _, err := svc.Notify.Outbox(t.Context(), e.Caller("admin"), app.OutboxQuery{State: app.OutboxFailing})
	if err != nil || len(failing) != 3 || failing[0].Attempts != 1 || failing[0].LastError != "HTTP 502 from the target" {
		t.Fatalf("admin's failing list: %d, %v", len(failing), err)
	}
	if _, _, err := svc.Notify.Outbox(t.Context(), e.Caller("verifier"), app.OutboxQuery{}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("a verifier read the outbox: %v", err)
	}
	e.Clock.Advance(12 * time.Second) // past the first backoff (10 s + up to 10%)
	if rep, _ := svc.Notify.Dispatch(t.Context(), "a"); rep.Failed != 2 || rep.Delivered != 1 {
		t.Fatalf("second dispatch %+v", rep)
	}
	e.Clock.Advance(23 * time.Second) // the second backoff: 20 s
	if rep, _ := svc.Notify.Dispatch(t.Context(), "a"); rep.Delivered != 2 {
		t.Fatalf("third dispatch %+v", rep)
	}
	got := hooks.received()
	if len(got) != 3 {
		t.Fatalf("received %v, want three events", got)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s received %d times", k, n)
		}
	}
	delivered, _, _ := svc.Notify.Outbox(t.Context(), e.Caller("admin"), app.OutboxQuery{State: app.OutboxDelivered})
	if len(delivered) != 3 || delivered[0].DeliveredAt == nil {
		t.Errorf("delivered list %d", len(delivered))
	}
	if _, err := svc.Notify.RetryOutbox(t.Context(), e.Caller("admin"), delivered[0].ID); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("retrying a delivered message: %v", err)
	}
}

// An instance killed while delivering leaves its claims; another delivers the
// rest once they are released (or run out), and the receiver sees each event once.
func TestOutboxSurvivesAKilledDispatcher(t *testing.T) {
	e := apptest.New(t)
	dying := newFakeHooks()
	dying.block = func(n int) bool { return n >= 3 }
	a := e.Instance(t, wire.WithWebhooks(dying))
	for range 5 {
		p := e.Register(t, "问题")
		if _, err := a.Lifecycle.Assign(t.Context(), e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "措施"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, kill := context.WithCancel(t.Context())
	done := make(chan app.DispatchReport)
	go func() {
		rep, _ := a.Notify.Dispatch(ctx, "a")
		done <- rep
	}()
	for deadline := time.Now().Add(10 * time.Second); dying.started() < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the third delivery did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	kill() // a dies in the middle of its third delivery
	if rep := <-done; rep.Delivered != 2 {
		t.Fatalf("a delivered %d before it died, want 2", rep.Delivered)
	}
	after := newFakeHooks()
	b := e.Instance(t, wire.WithWebhooks(after))
	if rep, _ := b.Notify.Dispatch(t.Context(), "b"); rep.Claimed != 0 {
		t.Fatalf("b took messages a still held: %+v", rep)
	}
	// A restart of a under the same name takes its claims back at once.
	if n, err := b.Notify.ReleaseClaims(t.Context(), "b"); err != nil || n != 0 {
		t.Fatalf("b released %d claims of its own, %v", n, err)
	}
	if n, err := a.Notify.ReleaseClaims(t.Context(), "a"); err != nil || n != 3 {
		t.Fatalf("a's restart released %d claims, %v; want 3", n, err)
	}
	if rep, err := b.Notify.Dispatch(t.Context(), "b"); err != nil || rep.Delivered != 3 {
		t.Fatalf("b after a's claims were released: %+v, %v", rep, err)
	}
	all := dying.received()
	for k, n := range after.received() {
		all[k] += n
	}
	if len(all) != 5 {
		t.Fatalf("%d events received, want 5", len(all))
	}
	for k, n := range all {
		if n != 1 {
			t.Errorf("%s received %d times", k, n)
		}
	}
}

// Claims of a dead instance that never restarts run out after ClaimFor.
func TestOutboxClaimsRunOut(t *testing.T) {
	e := apptest.New(t)
	dead := newFakeHooks()
	dead.block = func(int) bool { return true }
	a := e.Instance(t, wire.WithWebhooks(dead))
	p := e.Register(t, "问题")
	if _, err := a.Lifecycle.Assign(t.Context(), e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "措施"}); err != nil {
		t.Fatal(err)
	}
	ctx, kill := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = a.Notify.Dispatch(ctx, "a")
	}()
	for deadline := time.Now().Add(10 * time.Second); dead.started() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the delivery did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	kill()
	<-done
	after := newFakeHooks()
	b := e.Instance(t, wire.WithWebhooks(after))
	e.Clock.Advance(59 * time.Second)
	if rep, _ := b.Notify.Dispatch(t.Context(), "b"); rep.Claimed != 0 {
		t.Fatalf("b took a claim before it ran out: %+v", rep)
	}
	e.Clock.Advance(2 * time.Second)
	if rep, err := b.Notify.Dispatch(t.Context(), "b"); err != nil || rep.Delivered != 1 {
		t.Fatalf("b after the claim ran out: %+v, %v", rep, err)
	}
	if len(after.received()) != 1 || len(dead.received()) != 0 {
		t.Errorf("received: dead %v, after %v", dead.received(), after.received())
	}
}

// The scheduler's pass keeps the list's lights for its day, so that the
// warning and overdue filters read the kept column rather than the deadlines.
func TestTickKeepsTheLightsForToday(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tick(t, e.Svc, "a")
	var (
		asOf  string
		ready bool
	)
	if err := e.DB.SQL().QueryRowContext(t.Context(), "SELECT as_of, ready FROM problem_lights").Scan(&asOf, &ready); err != nil {
		t.Fatal(err)
	}
	if today := e.Svc.Core.Today().String(); !strings.HasPrefix(asOf, today) || !ready {
		t.Fatalf("lights kept for %q (ready %v), want %s and ready", asOf, ready, today)
	}
}
