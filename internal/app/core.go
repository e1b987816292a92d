package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Caller is who asks, and from where: what every audit entry records.
type Caller struct {
	Actor     domain.Actor
	IP        string
	RequestID string
	// Idempotency carries a POST's Idempotency-Key into the use case, which
	// stores it with its first response in the transaction of the effect
	// (idempotency.go). Nil when the request has none.
	Idempotency *Idempotency
}

// Metrics receives counts of lifecycle actions by outcome. Optional.
type Metrics interface {
	ObserveAction(action, outcome string)
}

// Config holds the service's policies.
type Config struct {
	Location           *time.Location
	Deadlines          domain.DeadlinePolicy
	TokenTTL           time.Duration
	BcryptCost         int
	LoginWindow        time.Duration // failures are counted over this window
	MaxFailuresPerUser int64
	MaxFailuresPerIP   int64
	Evaluation         stats.Weights          // the monthly evaluation's weights (board/evaluation.go)
	Evidence           domain.EvidencePolicy  // which submits need an attachment
	Extensions         domain.ExtensionPolicy // how many extensions a problem may have
	IdempotencyTTL     time.Duration          // how long an Idempotency-Key and its response are kept
	Notify             NotifyConfig           // escalations, re-checks and webhook delivery (notify/scheduler.go, notify/outbox.go)
	// TxWithin is the longest one transaction attempt may run (the database
	// timeout; 0: unknown). The board's index reads again the changes this
	// long and a minute before the latest it has seen (board/boardindex.go).
	TxWithin time.Duration
	// CheckpointEvery is how often checkpoints are signed (0: unknown, and
	// verification does not ask for recent ones); AuditMargin is the slack
	// verification allows beyond it and TxWithin for clocks and commits (trail/auditverify.go).
	CheckpointEvery time.Duration
	AuditMargin     time.Duration
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return Config{
		Location: loc, Deadlines: domain.DefaultDeadlinePolicy(), TokenTTL: 12 * time.Hour, BcryptCost: 11,
		LoginWindow: 15 * time.Minute, MaxFailuresPerUser: 5, MaxFailuresPerIP: 50,
		Evaluation: stats.DefaultWeights(),
		Evidence:   domain.DefaultEvidencePolicy(), Extensions: domain.DefaultExtensionPolicy(),
		IdempotencyTTL: DefaultIdempotencyTTL, Notify: DefaultNotifyConfig(), AuditMargin: time.Minute,
	}
}

// Options are the core's optional dependencies.
type Options struct {
	Clock   func() time.Time // nil: the wall clock
	Logger  *slog.Logger     // nil: discard
	Metrics Metrics          // nil: none
}

// Core is what every use case shares: the store, the policies, the clock,
// the audit entry and the refusal's, and the idempotency key. Each capability
// package (lifecycle, access, board, notify, ledger, trail, evidence) builds
// its service on one Core.
type Core struct {
	store   Store
	cfg     Config
	clock   func() time.Time
	keys    *audit.Keys
	log     *slog.Logger
	metrics Metrics
}

// NewCore builds the core. keys sign audit checkpoints and key stored request hashes.
func NewCore(store Store, keys *audit.Keys, cfg Config, o Options) *Core {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Core{store: store, cfg: cfg, clock: o.Clock, keys: keys, log: o.Logger, metrics: o.Metrics}
}

// Config returns the service's policies.
func (s *Core) Config() Config { return s.cfg }

// Store returns the store the use cases run on.
func (s *Core) Store() Store { return s.store }

// Keys returns the audit signing keys.
func (s *Core) Keys() *audit.Keys { return s.keys }

// Log returns the logger.
func (s *Core) Log() *slog.Logger { return s.log }

// Clock returns the wall clock the service reads.
func (s *Core) Clock() func() time.Time { return s.clock }

// Tx runs fn in one transaction of the store, retried whole on deadlocks and
// busy errors. Each attempt hands fn its context (bounded by the database
// timeout: every statement of fn runs under it) and the one timestamp the
// attempt acts at, so that nothing in it reads the clock again.
func (s *Core) Tx(ctx context.Context, fn func(ctx context.Context, r Repos, now time.Time) error) error {
	return s.store.Tx(ctx, func(ctx context.Context, r Repos) error { return fn(ctx, r, s.Timestamp()) })
}

// Timestamp is the one timestamp of a transaction, at the precision both databases keep.
func (s *Core) Timestamp() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Today returns the current date in the organisation's time zone.
func (s *Core) Today() domain.Date { return domain.DateOf(s.clock(), s.cfg.Location) }

// Now returns the current time in the organisation's zone.
func (s *Core) Now() time.Time { return s.clock().In(s.cfg.Location) }

// Ping checks the database.
func (s *Core) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Observe counts a lifecycle action by outcome.
func (s *Core) Observe(action, outcome string) {
	if s.metrics != nil {
		s.metrics.ObserveAction(action, outcome)
	}
}

// Record describes one audit entry before it is chained.
type Record struct {
	Stream     string
	Action     string
	ObjectType string
	ObjectID   string
	From, To   string
	Changes    map[string]any
	Outcome    string
	Reason     string
	Result     any // what the use case answers, for an idempotent request's stored response
}

// Entry is the audit entry of r by c at a transaction's timestamp.
func (s *Core) Entry(c Caller, at time.Time, r Record) *audit.Entry {
	changes := "{}"
	if len(r.Changes) > 0 {
		if b, err := json.Marshal(r.Changes); err == nil { // maps marshal with sorted keys: canonical
			changes = string(b)
		}
	}
	outcome := r.Outcome
	if outcome == "" {
		outcome = audit.OutcomeOK
	}
	name := c.Actor.Username
	return &audit.Entry{
		Stream: r.Stream, At: at, ActorID: c.Actor.UserID, ActorName: name, ActorRoles: domain.RoleNames(c.Actor.Roles),
		IP: c.IP, RequestID: c.RequestID, Action: r.Action, ObjectType: r.ObjectType, ObjectID: Truncate(r.ObjectID, 64), // the column's width
		FromState: r.From, ToState: r.To, Changes: changes, Outcome: outcome, Reason: Truncate(r.Reason, domain.MaxReason),
	}
}

// Truncate cuts s to n runes (a column's width).
func Truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// ProblemEntry is the audit entry of a change to problem id.
func (s *Core) ProblemEntry(c Caller, at time.Time, id int64, ch domain.Change) *audit.Entry {
	return s.Entry(c, at, Record{Stream: audit.ProblemStream(id), Action: string(ch.Action), ObjectType: "problem",
		ObjectID: IDString(id), From: string(ch.From), To: string(ch.To), Changes: ch.Details})
}

// VisibleProblem loads problem id for c: absent, or out of c's sight, is
// domain.ErrNotFound (what one may not see looks absent).
func VisibleProblem(ctx context.Context, r Repos, c Caller, id int64) (*domain.Problem, error) {
	p, err := r.Problems.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Actor.CanSee(p) {
		return nil, fmt.Errorf("problem %d: %w", id, domain.ErrNotFound)
	}
	return p, nil
}

// Refusable reports errors that are a refusal of the attempt (and so audited),
// rather than a failure of the system.
func Refusable(err error) bool {
	var inv *domain.InvalidTransitionError
	var val *domain.ValidationError
	var unsupp *domain.UnsupportedTypeError
	return errors.As(err, &unsupp) || errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrNotFound) ||
		errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrPreconditionFailed) ||
		errors.As(err, &inv) || errors.As(err, &val)
}

// AuditRefusal appends the refused attempt in its own short transaction. A
// failure to do so is logged, never hides the refusal from the caller.
func (s *Core) AuditRefusal(ctx context.Context, c Caller, r Record, cause error) {
	r.Outcome = audit.OutcomeRefused
	r.Reason = cause.Error()
	err := s.Tx(ctx, func(ctx context.Context, repos Repos, now time.Time) error {
		return repos.Audit.Append(ctx, s.Entry(c, now, r))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of refused attempt failed", "action", r.Action, "object", r.ObjectID, "err", err)
	}
}

// Admin runs one administrative change: only admins may make it, it is
// audited on the system stream in the same transaction, and a refusal is
// audited on its own.
//
// target names the object acted on (its id, or for a creation what was asked
// for) so that a refusal, audited after the transaction rolled back, still
// says whom it concerned.
func (s *Core) Admin(ctx context.Context, c Caller, target Record, fn func(ctx context.Context, r Repos, now time.Time, rec *Record) error) error {
	rec := target
	rec.Stream = audit.SystemStream
	action := rec.Action
	err := func() error {
		if !c.Actor.Has(domain.RoleAdmin) {
			return domain.Forbidden("role_required", "%s requires the admin role", action)
		}
		return s.Tx(ctx, func(ctx context.Context, r Repos, now time.Time) error {
			rec := rec // fresh on each retry
			if err := s.ClaimKey(ctx, r, c, now); err != nil {
				return err
			}
			if err := fn(ctx, r, now, &rec); err != nil {
				return err
			}
			if err := r.Audit.Append(ctx, s.Entry(c, now, rec)); err != nil {
				return err
			}
			return s.KeepResult(ctx, r, c, rec.Result)
		})
	}()
	if err = s.KeyTaken(ctx, c, err); err != nil {
		if Refusable(err) && !errors.Is(err, ErrReplayed) {
			s.AuditRefusal(ctx, c, rec, err)
		}
		return err
	}
	return nil
}

// RequireRole refuses an actor without any of roles; what names the attempt.
func RequireRole(a domain.Actor, what string, roles ...domain.Role) error {
	if !a.HasAny(roles...) {
		return domain.Forbidden("role_required", "%s requires one of the roles: %s", what,
			strings.Join(domain.RoleNames(roles), ", "))
	}
	return nil
}

// DiffInto records field's change from old to new in d, for an audit entry's changes.
func DiffInto[T comparable](d map[string]any, field string, old, new T) {
	if old != new {
		d[field] = map[string]any{"from": old, "to": new}
	}
}

// FilterError turns a filter naming something absent into a validation error of field.
func FilterError(err error, field, format string, args ...any) error {
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Invalid(field, format, args...)
	}
	return err
}

// Patch sets *dst to *src when a patch gives src (non-nil).
func Patch[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// IDString is an id as audit entries name objects.
func IDString(id int64) string { return strconv.FormatInt(id, 10) }
