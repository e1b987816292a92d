// Package lifecycle is a problem's life: registering it, every action of
// the transition table (assign, accept, progress, submit, verify, dismiss,
// reopen, urge), comments, extensions and the re-checks after closure, and
// reading problems, their history and their list. Each action is one
// transaction (act): load, check, apply the domain rule, save, audit and
// tell notify, then commit.
package lifecycle

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Notifier tells people of a problem's changes inside the transaction that
// made them, and wakes the dispatcher after commit (notify.Service).
type Notifier interface {
	Announce(ctx context.Context, r app.Repos, c app.Caller, p *domain.Problem, ch domain.Change, now time.Time) error
	AnnounceRelapse(ctx context.Context, r app.Repos, c app.Caller, p *domain.Problem, note string, details map[string]any, now time.Time) error
	SignalOutbox()
}

// Service is the lifecycle's use cases.
type Service struct {
	core   *app.Core
	store  app.Store
	cfg    app.Config
	notify Notifier
}

// New builds the lifecycle's use cases on core; n hears of every change.
func New(core *app.Core, n Notifier) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), notify: n}
}
