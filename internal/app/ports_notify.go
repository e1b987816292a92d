package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Notifications, the webhook outbox, the scheduler's lease, escalations and
// 回头看 re-checks (issue 3).

// Notification is one entry of a user's in-app inbox.
type Notification struct {
	ID        int64
	UserID    int64
	EventID   string // the event it tells of; one event has one entry per recipient
	Kind      string // an Event* constant (notify_types.go)
	ProblemID int64  // 0 when it is about no problem
	Title     string
	Body      string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// NotificationQuery selects a user's inbox, newest first.
type NotificationQuery struct {
	UserID     int64
	UnreadOnly bool
	BeforeID   int64 // cursor
	Limit      int
}

// NotificationRepo stores inboxes.
type NotificationRepo interface {
	Create(ctx context.Context, ns []*Notification) error // sets the IDs
	List(ctx context.Context, q NotificationQuery) ([]*Notification, error)
	Unread(ctx context.Context, userID int64) (int64, error)
	// MarkRead marks the user's unread entries with these ids read (all of
	// them when ids is nil) and returns how many it marked.
	MarkRead(ctx context.Context, userID int64, ids []int64, at time.Time) (int64, error)
}

// OutEvent is an event as webhooks carry it: the outbox stores it as JSON.
type OutEvent struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	OccurredAt time.Time       `json:"occurred_at"`
	Title      string          `json:"title"`
	Text       string          `json:"text"`
	Data       json.RawMessage `json:"data"`
}

// OutboxMessage is one event owed to one webhook target.
type OutboxMessage struct {
	ID            int64
	EventID       string
	Target        string
	Kind          string
	Payload       []byte // the OutEvent's JSON
	CreatedAt     time.Time
	NextAttemptAt time.Time
	Attempts      int
	LastAttemptAt *time.Time
	LastError     string
	DeliveredAt   *time.Time
}

// Outbox states, as the admin's list filters them.
const (
	OutboxPending   = "pending"   // not delivered yet (failing or not tried)
	OutboxFailing   = "failing"   // not delivered, at least one attempt failed
	OutboxDelivered = "delivered" // a target acknowledged it
)

// OutboxQuery filters the outbox for admins, newest first.
type OutboxQuery struct {
	State    string // "" for all, or an Outbox* state
	Target   string
	BeforeID int64
	Limit    int
}

// OutboxRepo stores the events owed to webhook targets.
type OutboxRepo interface {
	Add(ctx context.Context, ms []*OutboxMessage) error
	// Claim marks up to limit undelivered messages due at now, and not claimed
	// by anyone until after now, as claimed by token until until, and returns
	// them. Of two concurrent claims each message goes to one.
	Claim(ctx context.Context, token string, now, until time.Time, limit int) ([]*OutboxMessage, error)
	// Delivered records the acknowledged attempt of a message this token holds.
	Delivered(ctx context.Context, id int64, token string, at time.Time) error
	// Failed records a failed attempt of a message this token holds and when to try again.
	Failed(ctx context.Context, id int64, token string, at, next time.Time, reason string) error
	List(ctx context.Context, q OutboxQuery) ([]*OutboxMessage, error)
	// Release drops the claims of undelivered messages whose token starts
	// with prefix and returns how many it released.
	Release(ctx context.Context, prefix string) (int64, error)
	// Retry makes an undelivered message due at once; domain.ErrNotFound for
	// an absent id, domain.ErrConflict for a delivered one.
	Retry(ctx context.Context, id int64, at time.Time) (*OutboxMessage, error)
}

// LeaseRepo hands a named lease to one instance at a time.
type LeaseRepo interface {
	// Acquire takes or renews the lease for holder until until if it is free
	// (expired before now) or holder's already, and reports whether holder has it.
	Acquire(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// Release ends holder's lease at once (nothing if another holds it), so
	// that the next instance to try takes it without waiting for it to run out.
	Release(ctx context.Context, name, holder string) error
}

// Escalation kinds: the crossings the scheduler raises once per deadline.
const (
	EscalationApproaching = "deadline_approaching" // within N days of the deadline
	EscalationOverdue     = "overdue"              // the deadline passed
	EscalationEscalated   = "escalated"            // overdue by more than M days: 升级督办
)

// EscalationRepo keeps which crossings were raised.
type EscalationRepo interface {
	// Due lists up to limit problems in assigned or rectifying whose deadline
	// lies in [from, to] and for which kind was not raised at that deadline.
	Due(ctx context.Context, kind string, from, to domain.Date, limit int) ([]int64, error)
	// Raise records the crossing; false when it was raised already.
	Raise(ctx context.Context, problemID int64, kind string, deadline domain.Date, at time.Time) (bool, error)
}

// RecheckStatus is where a 回头看 re-check stands.
type RecheckStatus string

// Re-check states.
const (
	RecheckPending   RecheckStatus = "pending"   // scheduled, not yet recorded
	RecheckHeld      RecheckStatus = "held"      // the fix holds
	RecheckRelapsed  RecheckStatus = "relapsed"  // the problem came back: it was reopened
	RecheckCancelled RecheckStatus = "cancelled" // the problem was reopened before this re-check
)

// RecheckStatuses lists every state.
func RecheckStatuses() []RecheckStatus {
	return []RecheckStatus{RecheckPending, RecheckHeld, RecheckRelapsed, RecheckCancelled}
}

// Recheck is one scheduled 回头看 of a closed problem.
type Recheck struct {
	ID         int64
	ProblemID  int64
	Round      int // the problem's reopen count when it was closed: which closure this re-checks
	OffsetDays int // days after the closing date
	DueOn      domain.Date
	Status     RecheckStatus
	Note       string
	CheckedBy  int64
	CheckedAt  *time.Time
	RemindedAt *time.Time
	CreatedAt  time.Time

	Problem ProblemRef // the problem's summary, as read with the re-check
}

// RecheckQuery filters re-checks, earliest due first.
type RecheckQuery struct {
	Scope     Scope
	DueBy     domain.Date // due on or before; zero for any
	Statuses  []RecheckStatus
	ProblemID int64
	After     RecheckCursor
	Limit     int
}

// RecheckCursor is the position after the last re-check of a page.
type RecheckCursor struct {
	DueOn domain.Date
	ID    int64
}

// RecheckRepo stores re-checks.
type RecheckRepo interface {
	Create(ctx context.Context, rs []*Recheck) error // sets the IDs
	// Get answers domain.ErrNotFound for an absent id.
	Get(ctx context.Context, id int64) (*Recheck, error)
	// Record writes a pending re-check's result; domain.ErrConflict when it is no longer pending.
	Record(ctx context.Context, rc *Recheck) error
	// CancelPending cancels a problem's pending re-checks and returns how many.
	CancelPending(ctx context.Context, problemID int64) (int64, error)
	List(ctx context.Context, q RecheckQuery) ([]*Recheck, error)
	// DueUnreminded lists up to limit pending re-checks due on or before
	// today whose reminder was not sent.
	DueUnreminded(ctx context.Context, today domain.Date, limit int) ([]*Recheck, error)
	// MarkReminded records the reminder; false when it was recorded already.
	MarkReminded(ctx context.Context, id int64, at time.Time) (bool, error)
	// Outcomes counts recorded results over the board's problems.
	Outcomes(ctx context.Context, f BoardFilter) (held, relapsed int64, err error)
}
