package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
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
	Evaluation         stats.Weights          // the monthly evaluation's weights (evaluation.go)
	Evidence           domain.EvidencePolicy  // which submits need an attachment
	Extensions         domain.ExtensionPolicy // how many extensions a problem may have
	IdempotencyTTL     time.Duration          // how long an Idempotency-Key and its response are kept
	Notify             NotifyConfig           // escalations, re-checks and webhook delivery (scheduler.go, outbox.go)
	// TxWithin is the longest one transaction attempt may run (the database
	// timeout; 0: unknown). The board's index reads again the changes this
	// long and a minute before the latest it has seen (boardindex.go).
	TxWithin time.Duration
	// CheckpointEvery is how often checkpoints are signed (0: unknown, and
	// verification does not ask for recent ones); AuditMargin is the slack
	// verification allows beyond it and TxWithin for clocks and commits (auditverify.go).
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

// Service is Rectify's use cases.
type Service struct {
	store   Store
	cfg     Config
	clock   func() time.Time
	keys    *audit.Keys
	cplog   CheckpointLog // signed checkpoints outside the database; nil: none
	witness Witness       // co-signs checkpoints; nil: none
	log     *slog.Logger
	metrics Metrics
	blobs   BlobStore // attachments' contents (attachments.go); nil: uploads unavailable

	workbooks WorkbookReader // ledger imports (ledger.go); nil: imports unavailable

	dummyOnce sync.Once
	dummy     []byte // bcrypt hash compared for unknown users

	board boardIndex // the board's in-memory view of every problem (boardindex.go)

	dir     Directory // LDAP/AD sign-in (directory.go); nil: none
	dirSrc  IdentitySource
	oidc    OIDCProvider // OpenID Connect sign-in (oidc.go); nil: none
	oidcSrc OIDCSource

	hooks    Webhooks      // outgoing webhooks (notify.go); nil: the inbox only
	outboxed chan struct{} // a signal to the dispatcher that events were written (outbox.go)
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the wall clock, for tests and the demo's history.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithMetrics sets the metrics sink.
func WithMetrics(m Metrics) Option { return func(s *Service) { s.metrics = m } }

// WithCheckpointLog keeps every signed checkpoint in log as well, and makes
// verification compare the database with it.
func WithCheckpointLog(log CheckpointLog) Option { return func(s *Service) { s.cplog = log } }

// WithWitness sends every checkpoint to a witness, and makes verification ask
// it for the newest it co-signed.
func WithWitness(w Witness) Option { return func(s *Service) { s.witness = w } }

// New builds the service. keys sign audit checkpoints.
func New(store Store, keys *audit.Keys, cfg Config, opts ...Option) *Service {
	s := &Service{store: store, cfg: cfg, clock: time.Now, keys: keys, log: slog.New(slog.DiscardHandler),
		outboxed: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	if s.cfg.Location == nil {
		s.cfg.Location = time.UTC
	}
	s.board.margin, s.board.clock = refreshMargin(s.cfg.TxWithin), s.clock
	return s
}

// Config returns the service's policies.
func (s *Service) Config() Config { return s.cfg }

// now is the one timestamp of a transaction, at the precision both databases keep.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// Today returns the current date in the organisation's time zone.
func (s *Service) Today() domain.Date { return domain.DateOf(s.clock(), s.cfg.Location) }

// Ping checks the database.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

func (s *Service) observe(action, outcome string) {
	if s.metrics != nil {
		s.metrics.ObserveAction(action, outcome)
	}
}

// record describes one audit entry before it is chained.
type record struct {
	stream     string
	action     string
	objectType string
	objectID   string
	from, to   string
	changes    map[string]any
	outcome    string
	reason     string
	result     any // what the use case answers, for an idempotent request's stored response
}

func (s *Service) entry(c Caller, at time.Time, r record) *audit.Entry {
	changes := "{}"
	if len(r.changes) > 0 {
		if b, err := json.Marshal(r.changes); err == nil { // maps marshal with sorted keys: canonical
			changes = string(b)
		}
	}
	outcome := r.outcome
	if outcome == "" {
		outcome = audit.OutcomeOK
	}
	name := c.Actor.Username
	return &audit.Entry{
		Stream: r.stream, At: at, ActorID: c.Actor.UserID, ActorName: name, ActorRoles: domain.RoleNames(c.Actor.Roles),
		IP: c.IP, RequestID: c.RequestID, Action: r.action, ObjectType: r.objectType, ObjectID: truncate(r.objectID, 64), // the column's width
		FromState: r.from, ToState: r.to, Changes: changes, Outcome: outcome, Reason: truncate(r.reason, domain.MaxReason),
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// refusable reports errors that are a refusal of the attempt (and so audited),
// rather than a failure of the system.
func refusable(err error) bool {
	var inv *domain.InvalidTransitionError
	var val *domain.ValidationError
	var unsupp *domain.UnsupportedTypeError
	return errors.As(err, &unsupp) || errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrNotFound) ||
		errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrPreconditionFailed) ||
		errors.As(err, &inv) || errors.As(err, &val)
}

// auditRefusal appends the refused attempt in its own short transaction. A
// failure to do so is logged, never hides the refusal from the caller.
func (s *Service) auditRefusal(ctx context.Context, c Caller, r record, cause error) {
	r.outcome = audit.OutcomeRefused
	r.reason = cause.Error()
	err := s.store.Tx(ctx, func(repos Repos) error {
		return repos.Audit.Append(ctx, s.entry(c, s.now(), r))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit of refused attempt failed", "action", r.action, "object", r.objectID, "err", err)
	}
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
