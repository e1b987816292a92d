package app_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// Issue 3 in the app: the Idempotency-Key and the effect share one
// transaction; milestones and evidence persist with the action.

var errInjected = errors.New("injected failure")

// keyFaults wraps the store: while armed, storing a key's response or
// appending to the audit trail fails inside the transaction.
type keyFaults struct {
	app.Store
	failComplete, failAudit atomic.Bool
}

func (s *keyFaults) Tx(ctx context.Context, fn func(context.Context, app.Repos) error) error {
	return s.Store.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		r.Idempotency = faultyKeys{IdempotencyRepo: r.Idempotency, s: s}
		r.Audit = faultyTrail{AuditRepo: r.Audit, s: s}
		return fn(ctx, r)
	})
}

type faultyKeys struct {
	app.IdempotencyRepo
	s *keyFaults
}

func (k faultyKeys) Complete(ctx context.Context, userID int64, key string, payload []byte) error {
	if k.s.failComplete.Load() {
		return errInjected
	}
	return k.IdempotencyRepo.Complete(ctx, userID, key, payload)
}

type faultyTrail struct {
	app.AuditRepo
	s *keyFaults
}

func (a faultyTrail) Append(ctx context.Context, e *audit.Entry) error {
	if a.s.failAudit.Load() && e.Outcome == audit.OutcomeOK {
		return errInjected
	}
	return a.AuditRepo.Append(ctx, e)
}

func keyRows(t testing.TB, e *apptest.Env) int {
	return count(t, e, "SELECT COUNT(*) FROM idempotency_keys")
}

func TestIdempotencyKeyCommitsWithTheEffect(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	faults := &keyFaults{Store: e.DB}
	svc := wire.New(faults, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	p := e.Drive(t, domain.StatusRegistered)
	rendered := 0
	caller := func() app.Caller {
		c := e.Caller("verifier")
		c.Idempotency = &app.Idempotency{Key: "assign-1", Hash: "h1", Render: func(v any) ([]byte, error) {
			rendered++
			return []byte("200 " + v.(*domain.Problem).Code), nil
		}}
		return c
	}
	assign := func(c app.Caller) (*domain.Problem, error) {
		return svc.Lifecycle.Assign(t.Context(), c, p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "措施",
			Milestones: []domain.MilestonePlan{{Due: e.Svc.Core.Today().AddDays(3), Title: "制定方案"}}})
	}
	before := load(t, e, p.ID)
	entries := count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE outcome = 'ok'")

	// Storing the response fails: the effect is rolled back with it.
	faults.failComplete.Store(true)
	if _, err := assign(caller()); !errors.Is(err, errInjected) {
		t.Fatalf("assign with a failing key store: %v", err)
	}
	// The audit append fails: the key is rolled back with the effect.
	faults.failComplete.Store(false)
	faults.failAudit.Store(true)
	if _, err := assign(caller()); !errors.Is(err, errInjected) {
		t.Fatalf("assign with a failing trail: %v", err)
	}
	faults.failAudit.Store(false)
	if after := load(t, e, p.ID); !reflect.DeepEqual(before, after) || keyRows(t, e) != 0 ||
		count(t, e, "SELECT COUNT(*) FROM milestones") != 0 ||
		count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE outcome = 'ok'") != entries {
		t.Fatalf("a failed attempt left a key, a milestone, an entry or a change")
	}

	// Now it goes through once; the repeat is a replay that does nothing.
	c := caller()
	got, err := assign(c)
	if err != nil || !c.Idempotency.Recorded() || keyRows(t, e) != 1 {
		t.Fatalf("assign: %v, recorded %v", err, c.Idempotency.Recorded())
	}
	okEntries := count(t, e, "SELECT COUNT(*) FROM audit_entries")
	again := caller()
	if _, err := assign(again); !errors.Is(err, app.ErrReplayed) || !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("repeat: %v", err)
	}
	payload, ok := again.Idempotency.Replay()
	if !ok || !bytes.Equal(payload, []byte("200 "+got.Code)) {
		t.Fatalf("replayed %q %v", payload, ok)
	}
	if load(t, e, p.ID).Version != got.Version || count(t, e, "SELECT COUNT(*) FROM audit_entries") != okEntries {
		t.Fatalf("the repeat changed the problem")
	}
	var refusals int
	for _, en := range problemEntries(t, e, p.ID) {
		if en.Outcome == audit.OutcomeRefused && en.Action == "assign" && !strings.Contains(en.Reason, "injected") {
			refusals++
		}
	}
	if refusals != 0 {
		t.Fatalf("a replay was audited as a refusal")
	}
	// Another request under the same key is a conflict.
	other := caller()
	other.Idempotency.Hash = "h2"
	if _, err := assign(other); errors.Is(err, app.ErrReplayed) || !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("another request under the key: %v", err)
	}
	// The stored hash is keyed with the server's secret, not the client's hash.
	var stored string
	if err := e.DB.SQL().QueryRow("SELECT request_hash FROM idempotency_keys").Scan(&stored); err != nil || stored == "h1" || len(stored) != 64 {
		t.Fatalf("stored request hash %q: %v", stored, err)
	}
	mustVerifyOK(t, e)
}

func TestMilestonesPersistAndLoadInLists(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	today := e.Svc.Core.Today()
	p := e.Drive(t, domain.StatusRegistered)
	q := e.Drive(t, domain.StatusRegistered)
	for _, id := range []int64{p.ID, q.ID} {
		if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), id, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID,
			Measures: "措施", Deadline: today.AddDays(20), Milestones: []domain.MilestonePlan{
				{Due: today.AddDays(10), Title: "完成"}, {Due: today.AddDays(1), Title: "方案"}}}); err != nil {
			t.Fatal(err)
		}
	}
	got := load(t, e, p.ID)
	if len(got.Milestones) != 2 || got.Milestones[0].Title != "方案" || got.Milestones[0].ID == 0 {
		t.Fatalf("milestones %+v", got.Milestones)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, 0, ""); err != nil {
		t.Fatal(err)
	}
	done, err := e.Svc.Lifecycle.ReportProgress(ctx, e.Caller("owner1"), p.ID, 0, app.ProgressInput{Note: "方案已定",
		MilestoneIDs: []int64{got.Milestones[0].ID}})
	if err != nil || !done.Milestones[0].Done {
		t.Fatalf("report: %v %+v", err, done)
	}
	e.Clock.Advance(72 * time.Hour) // past the first milestone
	ps, _, err := e.Svc.Lifecycle.Problems(ctx, e.Caller("verifier"), app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningYellow}})
	if err != nil || len(ps) != 1 || ps[0].ID != q.ID || len(ps[0].Milestones) != 2 {
		t.Fatalf("yellow list: %v %+v", err, ps)
	}
	ps, _, err = e.Svc.Lifecycle.Problems(ctx, e.Caller("verifier"), app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningGreen}})
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID || !ps[0].Milestones[0].Done || ps[0].Milestones[0].DoneAt == nil ||
		ps[0].Milestones[0].DoneBy != e.Users["owner1"].ID {
		t.Fatalf("green list: %v %+v", err, ps)
	}
}

func TestCleanFileName(t *testing.T) {
	long := strings.Repeat("长", 300) + ".pdf"
	for in, want := range map[string]string{
		"整改报告.pdf":           "整改报告.pdf",
		`C:\Users\张三\照片.jpg`: "照片.jpg",
		"../../etc/passwd":   "passwd",
		"a\x00b\r\nc.txt":    "abc.txt",
		"  \u202egnp.exe  ":  "gnp.exe",
		"":                   "file",
		"..":                 "file",
		"/":                  "file",
		"bad\xffutf8.txt":    "badutf8.txt",
		long:                 strings.Repeat("长", app.MaxFileName-4) + ".pdf",
	} {
		if got := app.CleanFileName(in); got != want {
			t.Errorf("CleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
