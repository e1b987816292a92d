package app_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

const racers = 8

// race runs n calls at once, released together, and returns their errors.
func race(n int, call func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one call succeeded and every other lost the race with 409 or 412.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("calls %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !lostRace(err):
			t.Fatalf("call %d failed with %v; want 409 or 412", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no call succeeded: %v", errs)
	}
	return winner
}

// okEntries returns the stream's entries with outcome ok after stream sequence after.
func okEntries(t *testing.T, e *apptest.Env, id int64, after int64) (ok, refused []*audit.Entry) {
	t.Helper()
	for _, en := range problemEntries(t, e, id) {
		if en.StreamSeq <= after {
			continue
		}
		switch en.Outcome {
		case audit.OutcomeOK:
			ok = append(ok, en)
		case audit.OutcomeRefused:
			if en.Reason == "" {
				t.Errorf("refused entry %d has no reason", en.Seq)
			}
			refused = append(refused, en)
		default:
			t.Errorf("entry %d has outcome %q", en.Seq, en.Outcome)
		}
	}
	return ok, refused
}

func TestConcurrentVerifyOfOneProblem(t *testing.T) {
	t.Parallel()
	verifiers := []string{"verifier", "verifier2", "ownerverifier"}
	tests := []struct {
		name    string
		caller  func(i int) string
		ifMatch bool
	}{
		{"different verifiers", func(i int) string { return verifiers[i%len(verifiers)] }, false},
		{"the same verifier", func(int) string { return "verifier" }, false},
		{"with If-Match", func(i int) string { return verifiers[i%2] }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			p := e.Drive(t, domain.StatusSubmitted)
			before := len(problemEntries(t, e, p.ID))
			errs := race(racers, func(i int) error {
				var match int64
				if tt.ifMatch && i%2 == 0 {
					match = p.Version
				}
				c := with(e.Caller(tt.caller(i)), "10.0.0.1", fmt.Sprintf("race-%d", i))
				_, err := e.Svc.Lifecycle.Verify(t.Context(), c, p.ID, match, true, "验收通过")
				return err
			})
			oneWinner(t, errs)
			got := load(t, e, p.ID)
			if got.Status != domain.StatusClosed || got.Version != p.Version+1 || got.ClosedOnTime == nil || !*got.ClosedOnTime {
				t.Fatalf("after the race: %s v%d (was v%d)", got.Status, got.Version, p.Version)
			}
			ok, refused := okEntries(t, e, p.ID, int64(before))
			if len(ok) != 1 || ok[0].Action != string(domain.ActionVerifyPass) || ok[0].ToState != string(domain.StatusClosed) {
				t.Fatalf("%d ok entries after the race: %+v", len(ok), ok)
			}
			if len(refused) != racers-1 {
				t.Errorf("%d refused entries, want %d", len(refused), racers-1)
			}
			mustVerifyOK(t, e)
		})
	}
}

func TestConcurrentVerifyPassAgainstFail(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	for round := range 3 {
		p := e.Drive(t, domain.StatusSubmitted)
		before := len(problemEntries(t, e, p.ID))
		errs := race(racers, func(i int) error {
			who := []string{"verifier", "verifier2"}[i%2]
			_, err := e.Svc.Lifecycle.Verify(t.Context(), e.Caller(who), p.ID, 0, i%2 == 0, fmt.Sprintf("意见 %d", i))
			return err
		})
		w := oneWinner(t, errs)
		passed := w%2 == 0
		got := load(t, e, p.ID)
		if got.Version != p.Version+1 {
			t.Fatalf("round %d: version %d, want %d", round, got.Version, p.Version+1)
		}
		ok, _ := okEntries(t, e, p.ID, int64(before))
		if len(ok) != 1 {
			t.Fatalf("round %d: %d ok entries", round, len(ok))
		}
		if passed {
			if got.Status != domain.StatusClosed || got.ReworkCount != 0 || ok[0].Action != string(domain.ActionVerifyPass) {
				t.Fatalf("round %d: pass won but problem is %s rework %d, entry %s", round, got.Status, got.ReworkCount, ok[0].Action)
			}
		} else if got.Status != domain.StatusRectifying || got.ReworkCount != 1 || ok[0].Action != string(domain.ActionVerifyFail) {
			t.Fatalf("round %d: fail won but problem is %s rework %d, entry %s", round, got.Status, got.ReworkCount, ok[0].Action)
		}
		if ok[0].ActorName != []string{"verifier", "verifier2"}[w%2] {
			t.Errorf("round %d: the entry names %s, not the winner", round, ok[0].ActorName)
		}
	}
	mustVerifyOK(t, e)
}

// Different actions racing on one assigned problem: reassign, accept, dismiss, urge.
func TestConcurrentMixedActionsOnOneProblem(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusAssigned)
	before := len(problemEntries(t, e, p.ID))
	errs := race(racers, func(i int) error {
		var err error
		switch i % 4 {
		case 0:
			_, err = e.Svc.Lifecycle.Accept(t.Context(), e.Caller("owner1"), p.ID, p.Version, "签收")
		case 1:
			_, err = e.Svc.Lifecycle.Dismiss(t.Context(), e.Caller("verifier"), p.ID, p.Version, "重复")
		case 2:
			// Reassigned within 一班, so that every racer still sees the problem afterwards.
			_, err = e.Svc.Lifecycle.Assign(t.Context(), e.Caller("verifier2"), p.ID, p.Version,
				app.AssignInput{AssigneeID: e.Users["ownerverifier"].ID, Measures: "新措施"})
		case 3:
			_, err = e.Svc.Lifecycle.Urge(t.Context(), e.Caller("verifier"), p.ID, p.Version, "请尽快")
		}
		return err
	})
	w := oneWinner(t, errs)
	got := load(t, e, p.ID)
	want := map[int]domain.Status{0: domain.StatusRectifying, 1: domain.StatusDismissed, 2: domain.StatusAssigned, 3: domain.StatusAssigned}[w%4]
	if got.Status != want || got.Version != p.Version+1 {
		t.Fatalf("winner %d: problem %s v%d, want %s v%d", w, got.Status, got.Version, want, p.Version+1)
	}
	if w%4 == 2 && (got.AssigneeID != e.Users["ownerverifier"].ID || got.Measures != "新措施") {
		t.Fatalf("reassignment won but half applied: %+v", got)
	}
	if w%4 != 2 && (got.AssigneeID != e.Users["owner1"].ID || got.Measures != p.Measures) {
		t.Fatalf("a losing reassignment leaked: %+v", got)
	}
	ok, refused := okEntries(t, e, p.ID, int64(before))
	if len(ok) != 1 || len(refused) != racers-1 {
		t.Fatalf("%d ok and %d refused entries", len(ok), len(refused))
	}
	mustVerifyOK(t, e)
}

func TestConcurrentRegistrationsGetDistinctCodes(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	const n = 20
	codes := make([]string, n)
	ids := make([]int64, n)
	errs := race(n, func(i int) error {
		who := []string{"inspector", "verifier"}[i%2]
		p, err := e.Svc.Lifecycle.Register(t.Context(), e.Caller(who), app.ProblemInput{Title: fmt.Sprintf("并发登记 %d", i),
			CategoryID: 5, Severity: domain.SeverityGeneral, Source: domain.SourceSelfCheck, UnitID: e.Units["一班"].ID})
		if err == nil {
			codes[i], ids[i] = p.Code, p.ID
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	pattern := regexp.MustCompile(`^WT-2026-\d{6}$`)
	for _, c := range codes {
		if !pattern.MatchString(c) {
			t.Fatalf("code %q is not WT-YYYY-NNNNNN", c)
		}
	}
	sorted := slices.Sorted(slices.Values(codes))
	for i, c := range sorted {
		if want := fmt.Sprintf("WT-2026-%06d", i+1); c != want {
			t.Fatalf("codes %v: position %d is %s, want %s", sorted, i, c, want)
		}
	}
	for i, id := range ids {
		p := load(t, e, id)
		if p.Code != codes[i] || p.Title != fmt.Sprintf("并发登记 %d", i) {
			t.Fatalf("problem %d stored as %s %q", id, p.Code, p.Title)
		}
		es := problemEntries(t, e, id)
		if len(es) != 1 || es[0].Action != "register" || es[0].Outcome != audit.OutcomeOK {
			t.Fatalf("problem %d has %d entries", id, len(es))
		}
	}
	mustVerifyOK(t, e)
}

func TestConcurrentActionsOnDifferentProblemsAllSucceed(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ps := make([]*domain.Problem, racers)
	for i := range ps {
		ps[i] = e.Drive(t, domain.StatusSubmitted)
	}
	// Each problem gets a verify and a comment at the same time as all the others.
	errs := race(2*racers, func(i int) error {
		p := ps[i/2]
		if i%2 == 0 {
			who := []string{"verifier", "verifier2"}[(i/2)%2]
			_, err := e.Svc.Lifecycle.Verify(t.Context(), e.Caller(who), p.ID, p.Version, true, "")
			return err
		}
		_, err := e.Svc.Lifecycle.Comment(t.Context(), e.Caller("leader"), p.ID, "领导批示")
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d on problem %d: %v", i, ps[i/2].ID, err)
		}
	}
	for _, p := range ps {
		got := load(t, e, p.ID)
		if got.Status != domain.StatusClosed || got.Version != p.Version+1 {
			t.Fatalf("problem %d: %s v%d", p.ID, got.Status, got.Version)
		}
		ok, refused := okEntries(t, e, p.ID, 0)
		if len(refused) != 0 || len(ok) != 6 {
			t.Fatalf("problem %d: %d ok, %d refused entries", p.ID, len(ok), len(refused))
		}
	}
	mustVerifyOK(t, e)
}

// Comments do not touch the version, so they never lose a race with a lifecycle action.
func TestConcurrentCommentsOnOneProblem(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusRectifying)
	errs := race(racers, func(i int) error {
		if i == 0 {
			_, err := e.Svc.Lifecycle.Submit(t.Context(), e.Caller("owner1"), p.ID, p.Version, "已整改")
			return err
		}
		who := []string{"leader", "verifier", "owner1", "ownerdept"}[i%4]
		_, err := e.Svc.Lifecycle.Comment(t.Context(), e.Caller(who), p.ID, fmt.Sprintf("评论 %d", i))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	got := load(t, e, p.ID)
	if got.Status != domain.StatusSubmitted || got.Version != p.Version+1 {
		t.Fatalf("problem %s v%d", got.Status, got.Version)
	}
	cs, err := e.Svc.Lifecycle.Comments(t.Context(), e.Caller("leader"), p.ID)
	if err != nil || len(cs) != racers-1 {
		t.Fatalf("%d comments, %v", len(cs), err)
	}
	es := problemEntries(t, e, p.ID)
	for i, en := range es {
		if en.StreamSeq != int64(i+1) {
			t.Fatalf("stream sequence %d at position %d", en.StreamSeq, i)
		}
	}
	mustVerifyOK(t, e)
}

// Appends to one stream from concurrent transactions must leave a trail that
// verifies, with a clock that moves: entries, comments and refusals alike.
func TestConcurrentAppendsToOneStreamVerifyWithAMovingClock(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusRectifying)
	const rounds = 8
	for round := range rounds {
		errs := race(racers, func(i int) error {
			e.Clock.Advance(time.Microsecond)
			if i%2 == 0 {
				// Refused for a stale If-Match; each refusal is appended in its own transaction.
				_, err := e.Svc.Lifecycle.Urge(t.Context(), e.Caller("verifier"), p.ID, 1, "过期的版本")
				if !errors.Is(err, domain.ErrPreconditionFailed) {
					return fmt.Errorf("stale urge: %w", err)
				}
				return nil
			}
			_, err := e.Svc.Lifecycle.Comment(t.Context(), e.Caller("leader"), p.ID, fmt.Sprintf("评论 %d-%d", round, i))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, call %d: %v", round, i, err)
			}
		}
	}
	es := problemEntries(t, e, p.ID)
	if len(es) != 3+rounds*racers {
		t.Fatalf("%d entries", len(es))
	}
	res := verifyAudit(t, e)
	if !res.OK {
		t.Fatalf("an untampered trail written by concurrent transactions does not verify: first bad %v: %s",
			deref(res.FirstBad), res.Reason)
	}
}

func TestConcurrentExtensionRequestsAndDecisions(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusRectifying)
	errs := race(racers, func(i int) error {
		_, err := e.Svc.Lifecycle.RequestExtension(t.Context(), e.Caller("owner1"), p.ID, 0, p.Deadline.AddDays(i+1), "并发申请")
		return err
	})
	oneWinner(t, errs)
	exts, err := e.Svc.Lifecycle.Extensions(t.Context(), e.Caller("verifier"), p.ID)
	if err != nil || len(exts) != 1 || exts[0].Status != domain.ExtensionPending {
		t.Fatalf("%d extension requests stored: %+v %v", len(exts), exts, err)
	}
	before := load(t, e, p.ID)
	errs = race(racers, func(i int) error {
		// Leaders: after an approval, a verifier would be refused with leader_required
		// (issue 3) rather than lose the race with a 409.
		_, err := e.Svc.Lifecycle.DecideExtension(t.Context(), e.Caller("leader"), p.ID, 0, exts[0].ID, i%2 == 0, "决定")
		return err
	})
	w := oneWinner(t, errs)
	after := load(t, e, p.ID)
	exts, _ = e.Svc.Lifecycle.Extensions(t.Context(), e.Caller("verifier"), p.ID)
	approved := w%2 == 0
	if after.Version != before.Version+1 || (approved && (after.Deadline != exts[0].Deadline || after.ExtensionCount != 1)) ||
		(!approved && (after.Deadline != before.Deadline || after.ExtensionCount != 0)) {
		t.Fatalf("after the decision race (approved=%v): %+v", approved, after)
	}
	if (approved && exts[0].Status != domain.ExtensionApproved) || (!approved && exts[0].Status != domain.ExtensionRejected) {
		t.Fatalf("extension %+v, approved=%v", exts[0], approved)
	}
	mustVerifyOK(t, e)
}

// Several instances checkpoint at once while work goes on: numbers stay
// contiguous and the trail verifies.
func TestConcurrentCheckpoints(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ps := make([]*domain.Problem, 4)
	for i := range ps {
		ps[i] = e.Drive(t, domain.StatusRectifying)
	}
	for round := range 3 {
		errs := race(2*racers, func(i int) error {
			if i%2 == 0 {
				_, err := e.Svc.Trail.Checkpoint(t.Context())
				return err
			}
			_, err := e.Svc.Lifecycle.Comment(t.Context(), e.Caller("leader"), ps[(i/2)%len(ps)].ID, fmt.Sprintf("第 %d 轮", round))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, call %d: %v", round, i, err)
			}
		}
	}
	if _, err := e.Svc.Trail.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	res := mustVerifyOK(t, e)
	n := count(t, e, "SELECT COUNT(*) FROM audit_checkpoints")
	if res.Checkpoints != n || n == 0 {
		t.Fatalf("verified %d of %d checkpoints", res.Checkpoints, n)
	}
	if pending := count(t, e, "SELECT COUNT(*) FROM audit_streams WHERE pending = ?", true); pending != 0 {
		t.Fatalf("%d streams still pending after a final checkpoint", pending)
	}
}

// heldComments holds the transaction that inserts a comment with the text
// "held" until released, after its time was taken and before its audit append.
type heldComments struct {
	app.Store
	entered, release chan struct{}
}

func (s *heldComments) Tx(ctx context.Context, fn func(context.Context, app.Repos) error) error {
	return s.Store.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		r.Comments = holdingCommentRepo{CommentRepo: r.Comments, s: s}
		return fn(ctx, r)
	})
}

type holdingCommentRepo struct {
	app.CommentRepo
	s *heldComments
}

func (r holdingCommentRepo) Create(ctx context.Context, c *app.Comment) error {
	if err := r.CommentRepo.Create(ctx, c); err != nil {
		return err
	}
	if c.Text == "held" {
		close(r.s.entered)
		<-r.s.release
	}
	return nil
}

// A transaction that took its time first but appends last must not make the
// untampered trail look tampered ("time goes backwards").
func TestSlowTransactionAppendingAfterAFasterOneVerifies(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusRectifying)
	held := &heldComments{Store: e.DB, entered: make(chan struct{}), release: make(chan struct{})}
	slow := wire.New(held, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	slowDone := make(chan error, 1)
	go func() {
		_, err := slow.Lifecycle.Comment(context.Background(), e.Caller("leader"), p.ID, "held")
		slowDone <- err
	}()
	<-held.entered
	e.Clock.Advance(time.Second)
	fastDone := make(chan error, 1)
	go func() {
		_, err := e.Svc.Lifecycle.Comment(context.Background(), e.Caller("verifier"), p.ID, "quick")
		fastDone <- err
	}()
	// Where the database lets the second transaction through, it commits first;
	// where it waits for the first (SQLite's single writer), release after a while.
	var fastErr error
	fastFirst := false
	select {
	case fastErr = <-fastDone:
		fastFirst = true
	case <-time.After(500 * time.Millisecond):
	}
	close(held.release)
	if err := <-slowDone; err != nil {
		t.Fatalf("slow comment: %v", err)
	}
	if !fastFirst {
		fastErr = <-fastDone
	}
	if fastErr != nil {
		t.Fatalf("fast comment: %v", fastErr)
	}
	es := problemEntries(t, e, p.ID)
	if len(es) != 5 {
		t.Fatalf("%d entries", len(es))
	}
	res := verifyAudit(t, e)
	if !res.OK {
		t.Fatalf("untampered trail does not verify (second transaction committed first: %v): first bad %v: %s",
			fastFirst, deref(res.FirstBad), res.Reason)
	}
}
