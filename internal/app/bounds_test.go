package app_test

import (
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"sync/atomic"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

// txCounter counts the transactions that load a problem.
type txCounter struct {
	app.Store
	loads atomic.Int64
}

func (s *txCounter) Tx(ctx context.Context, fn func(context.Context, app.Repos) error) error {
	return s.Store.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		r.Problems = countingProblems{ProblemRepo: r.Problems, n: &s.loads}
		return fn(ctx, r)
	})
}

type countingProblems struct {
	app.ProblemRepo
	n *atomic.Int64
}

func (p countingProblems) Get(ctx context.Context, id int64) (*domain.Problem, error) {
	p.n.Add(1)
	return p.ProblemRepo.Get(ctx, id)
}

// An oversized list of ids is refused before the action's transaction opens,
// so it never holds the writer's lock; the refusal is still audited.
func TestOversizedIDListsRefusedBeforeTheTransaction(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	store := &txCounter{Store: e.DB}
	svc := wire.New(store, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	p := e.Drive(t, domain.StatusRectifying)
	ids := make([]int64, 150_000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	refusals := count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE outcome = 'refused'")
	ctx := context.Background()
	owner := e.Caller("owner1")
	for name, call := range map[string]func() error{
		"progress attachments": func() error {
			_, err := svc.Lifecycle.ReportProgress(ctx, owner, p.ID, 0, app.ProgressInput{Note: "进展", AttachmentIDs: ids})
			return err
		},
		"progress milestones": func() error {
			_, err := svc.Lifecycle.ReportProgress(ctx, owner, p.ID, 0, app.ProgressInput{Note: "进展", MilestoneIDs: ids})
			return err
		},
		"submit": func() error {
			_, err := svc.Lifecycle.SubmitFix(ctx, owner, p.ID, 0, app.SubmitInput{Note: "完成", AttachmentIDs: ids})
			return err
		},
		"recheck": func() error {
			_, err := svc.Lifecycle.RecordRecheck(ctx, e.Caller("verifier"), 1, app.RecheckInput{Result: app.ResultHolds, Note: "看过", AttachmentIDs: ids})
			return err
		},
	} {
		err := call()
		var ve *domain.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: %v, want a validation error", name, err)
		}
	}
	if n := store.loads.Load(); n != 0 {
		t.Fatalf("%d transactions loaded the problem for a request refused on its input", n)
	}
	if got := count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE outcome = 'refused'"); got != refusals+4 {
		t.Fatalf("refusals %d → %d, want 4 more", refusals, got)
	}
}
