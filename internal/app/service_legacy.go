package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// Service is the use cases not yet moved into their capability's package.
type Service struct {
	core  *Core
	store Store
	cfg   Config
	clock func() time.Time
	keys  *audit.Keys
	log   *slog.Logger
	blobs BlobStore

	notify notifier
}

// notifier tells people of a problem's changes (notify.Service).
type notifier interface {
	Announce(ctx context.Context, r Repos, c Caller, p *domain.Problem, ch domain.Change, now time.Time) error
	AnnounceRelapse(ctx context.Context, r Repos, c Caller, p *domain.Problem, note string, details map[string]any, now time.Time) error
	SignalOutbox()
}

// NewService builds the use cases not yet moved on core.
func NewService(core *Core, o Options, n notifier) *Service {
	s := &Service{core: core, notify: n, store: core.store, cfg: core.cfg, clock: core.clock, keys: core.keys, log: core.log,
		blobs: o.Blobs}
	return s
}

func (s *Service) now() time.Time                                      { return s.core.Timestamp() }
func (s *Service) entry(c Caller, at time.Time, r Record) *audit.Entry { return s.core.Entry(c, at, r) }
func (s *Service) observe(action, outcome string)                      { s.core.Observe(action, outcome) }
func (s *Service) auditRefusal(ctx context.Context, c Caller, r Record, cause error) {
	s.core.AuditRefusal(ctx, c, r, cause)
}
func (s *Service) claimKey(ctx context.Context, r Repos, c Caller, now time.Time) error {
	return s.core.ClaimKey(ctx, r, c, now)
}
func (s *Service) rememberResponse(ctx context.Context, r Repos, c Caller, result any) error {
	return s.core.KeepResult(ctx, r, c, result)
}
func (s *Service) keyTaken(ctx context.Context, c Caller, err error) error {
	return s.core.KeyTaken(ctx, c, err)
}

func (s *Service) admin(ctx context.Context, c Caller, target Record, fn func(r Repos, rec *Record) error) error {
	return s.core.Admin(ctx, c, target, fn)
}

// Today returns the current date in the organisation's time zone.
func (s *Service) Today() domain.Date { return s.core.Today() }
