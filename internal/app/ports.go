// Package app is the core of Rectify's use cases: what every capability
// shares (the Caller, Core with its transaction runner, audit records and
// refusals, idempotency keys), the repository contracts internal/store
// implements, and the types the use cases and their faces speak. The use
// cases themselves live one package per capability beneath it (lifecycle,
// evidence, access, board, notify, ledger, trail), each declaring the
// adapter ports it uses; wire builds them. Each use case loads, checks,
// applies, saves and audits inside one transaction.
package app

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// Store runs work against the database.
type Store interface {
	// Tx runs fn in one transaction, retrying the whole of fn on deadlocks and
	// busy errors. fn must not keep state between attempts, and runs its
	// statements with the context it is given: the attempt's, bounded by
	// the database timeout.
	Tx(ctx context.Context, fn func(ctx context.Context, r Repos) error) error
	// Read returns repositories outside any transaction, for reads.
	Read() Repos
	// Ping checks that the database answers (and, on a cluster, that its node
	// is ready to serve).
	Ping(ctx context.Context) error
	// ProblemCode returns the next problem code of year (WT-YYYY-NNNNNN),
	// unique and increasing on this instance; it is called outside the
	// registering transaction, and codes of failed registrations are gaps.
	ProblemCode(ctx context.Context, year int) (string, error)
}

// Repos are the repositories bound to one transaction (or to none, for reads).
type Repos struct {
	Problems   ProblemRepo
	Extensions ExtensionRepo
	Comments   CommentRepo
	Users      UserRepo
	Units      UnitRepo
	Categories CategoryRepo
	Sessions   SessionRepo
	Audit      AuditRepo
	SignIns    SignInRepo // OpenID Connect sign-ins under way (access/oidc.go)

	// The board, evaluation, notices and ledger (ports_board.go).
	Stats         StatsRepo
	Contributions ContributionRepo
	Publications  PublicationRepo
	Notices       NoticeRepo
	Ledger        LedgerRepo

	// Evidence, milestones and idempotent retries (ports_evidence.go).
	Attachments AttachmentRepo
	Milestones  MilestoneRepo
	Idempotency IdempotencyRepo

	// Notifications, escalations and re-checks (ports_notify.go).
	Notifications NotificationRepo
	Outbox        OutboxRepo
	Leases        LeaseRepo
	Escalations   EscalationRepo
	Rechecks      RecheckRepo
}

// ProblemRepo stores problems. Get answers domain.ErrNotFound for an absent id.
type ProblemRepo interface {
	Get(ctx context.Context, id int64) (*domain.Problem, error)
	// Create inserts p under its code (Store.ProblemCode), assigning its ID;
	// ErrCodeTaken if that code is in use already.
	Create(ctx context.Context, p *domain.Problem) error
	// Update writes p if its stored version is still expected; otherwise
	// domain.ErrConflict. p's title and description are the stored ones.
	Update(ctx context.Context, p *domain.Problem, expected int64) error
	// Retext is Update for a new title or description, which were oldTitle
	// and oldDescription at the version expected: the text search follows.
	Retext(ctx context.Context, p *domain.Problem, expected int64, oldTitle, oldDescription string) error
	List(ctx context.Context, q ProblemQuery) ([]*domain.Problem, error)
}

// Scope restricts what an actor sees: everything, or one unit subtree plus
// the problems assigned to one user.
type Scope struct {
	All      bool
	UserID   int64
	UnitPath string // "" for none
}

// ScopeOf returns the problem scope of an actor.
func ScopeOf(a domain.Actor) Scope {
	s := Scope{All: a.SeesAllProblems(), UserID: a.UserID}
	if a.Has(domain.RoleOwner) {
		s.UnitPath = a.UnitPath
	}
	return s
}

// ProblemQuery filters the problem list. Zero values do not filter.
type ProblemQuery struct {
	Scope        Scope
	Statuses     []domain.Status
	CategoryPath string // the category and its subtree
	Severities   []domain.Severity
	Sources      []domain.Source
	UnitPath     string // the unit and its subtree
	AssigneeID   int64
	Warnings     []domain.WarningLevel
	Overdue      *bool
	Text         string
	DeadlineFrom domain.Date
	DeadlineTo   domain.Date
	CreatedFrom  time.Time
	CreatedTo    time.Time // exclusive

	Today      domain.Date // reference date for warnings and overdue
	YellowDays int

	BeforeID int64 // cursor: only problems with a smaller id
	Limit    int
}

// ExtensionRepo stores extension requests.
type ExtensionRepo interface {
	Create(ctx context.Context, e *domain.Extension) error
	Get(ctx context.Context, problemID, id int64) (*domain.Extension, error)
	Update(ctx context.Context, e *domain.Extension) error
	HasPending(ctx context.Context, problemID int64) (bool, error)
	List(ctx context.Context, problemID int64) ([]*domain.Extension, error)
}

// Comment is a remark on a problem.
type Comment struct {
	ID        int64
	ProblemID int64
	AuthorID  int64
	Text      string
	CreatedAt time.Time
}

// CommentRepo stores comments.
type CommentRepo interface {
	Create(ctx context.Context, c *Comment) error
	List(ctx context.Context, problemID int64) ([]*Comment, error)
}

// User is an account. PasswordHash never leaves the app layer.
type User struct {
	ID           int64
	Username     string
	Name         string
	PasswordHash string
	Roles        []domain.Role
	UnitID       int64
	UnitPath     string
	Disabled     bool
	AuthSource   AuthSource // local, ldap or oidc (access/directory.go)
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Actor returns the user as an actor.
func (u *User) Actor() domain.Actor {
	return domain.Actor{UserID: u.ID, Username: u.Username, Name: u.Name, Roles: u.Roles, UnitID: u.UnitID, UnitPath: u.UnitPath}
}

// UserQuery filters the user list.
type UserQuery struct {
	Role       domain.Role
	UnitPath   string
	Text       string
	AuthSource AuthSource // "" for any
	AfterID    int64
	Limit      int
}

// UserRepo stores users.
type UserRepo interface {
	Get(ctx context.Context, id int64) (*User, error)
	GetByUsername(ctx context.Context, username string) (*User, error)
	Create(ctx context.Context, u *User) error
	Update(ctx context.Context, u *User) error
	List(ctx context.Context, q UserQuery) ([]*User, error)
	Count(ctx context.Context) (int64, error)
}

// Unit is a node of the organisation tree.
type Unit struct {
	ID        int64
	Name      string
	ParentID  int64 // 0 for a root
	Path      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UnitRepo stores units.
type UnitRepo interface {
	Get(ctx context.Context, id int64) (*Unit, error)
	// Place reads, in one look-up, unit unitID's path (ok false when there
	// is no such unit) and whether category categoryID exists.
	Place(ctx context.Context, unitID, categoryID int64) (path string, unitOK, categoryOK bool, err error)
	List(ctx context.Context) ([]*Unit, error)
	Create(ctx context.Context, u *Unit) error // sets ID and Path
	Update(ctx context.Context, u *Unit) error // name; a new parent moves the subtree
}

// Category is a node of the category tree.
type Category struct {
	ID        int64
	Code      string
	Name      string
	ParentID  int64
	Path      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CategoryRepo stores categories.
type CategoryRepo interface {
	Get(ctx context.Context, id int64) (*Category, error)
	List(ctx context.Context) ([]*Category, error)
	Create(ctx context.Context, c *Category) error
	Update(ctx context.Context, c *Category) error
}

// Session is a login token's server side. Only the token's hash is stored.
type Session struct {
	ID        int64
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// SessionRepo stores sessions and failed logins.
type SessionRepo interface {
	Create(ctx context.Context, s *Session) error
	GetByHash(ctx context.Context, hash string) (*Session, error)
	// Resolve returns the session and its user in one read (the token check).
	Resolve(ctx context.Context, hash string) (*Session, *User, error)
	Revoke(ctx context.Context, hash string, at time.Time) error
	RevokeUser(ctx context.Context, userID int64, at time.Time) error
	// RevokeUserExcept revokes the user's sessions but the one with keepHash.
	RevokeUserExcept(ctx context.Context, userID int64, keepHash string, at time.Time) error
	RecordFailure(ctx context.Context, username, ip string, at time.Time) error
	// CountFailures counts failures since a time, for the username and for the IP.
	CountFailures(ctx context.Context, username, ip string, since time.Time) (byUser, byIP int64, err error)
	ClearFailures(ctx context.Context, username string) error
}

// AuditQuery filters the audit list.
type AuditQuery struct {
	ActorID    int64
	ObjectType string
	ObjectID   string
	Action     string
	Outcome    string
	Stream     string
	From, To   time.Time
	BeforeSeq  int64
	AfterSeq   int64 // ascending order when set (timelines)
	Ascending  bool
	Limit      int
}

// StreamPos is an entry's place in its stream.
type StreamPos struct {
	Stream string
	Seq    int64
}

// AuditRepo appends to and reads the trail. Nothing updates or deletes entries.
type AuditRepo interface {
	// Append chains e after its stream's head and inserts it; it sets e.Seq.
	Append(ctx context.Context, e *audit.Entry) error
	List(ctx context.Context, q AuditQuery) ([]*audit.Entry, error)

	// Verification reads.
	Heads(ctx context.Context, afterStream string, limit int) ([]audit.Head, error)
	StreamEntries(ctx context.Context, streams []string) ([]*audit.Entry, error)
	OrphanStreams(ctx context.Context) ([]string, error)
	EntriesByID(ctx context.Context, ids []int64) ([]*audit.Entry, error)
	// EntryIDs returns the global sequence of the entries at these stream positions that exist.
	EntryIDs(ctx context.Context, at []StreamPos) (map[StreamPos]int64, error)
	Checkpoints(ctx context.Context, afterNumber int64, limit int) ([]*audit.Checkpoint, error)

	// Checkpointing.
	PendingHeads(ctx context.Context, limit int) ([]audit.Head, error)
	// SignedHeads returns how far checkpoints signed each of streams (every
	// stream when nil): the highest position and global sequence.
	SignedHeads(ctx context.Context, streams []string) (map[string]audit.Head, error)
	LatestCheckpoint(ctx context.Context) (*audit.Checkpoint, error) // nil when none
	SaveCheckpoint(ctx context.Context, cp *audit.Checkpoint) error
}
