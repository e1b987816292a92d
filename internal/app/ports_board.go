package app

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// The repository contracts of the board (作风看板), the monthly evaluation, the
// discipline reports, notices (通报) and the ledger (整改台账). internal/store
// implements them; Repos carries them beside the others.

// BoardFilter restricts the board and the trend. Zero values do not filter.
type BoardFilter struct {
	Scope        Scope
	UnitPath     string // the unit and its subtree
	CategoryPath string // the category and its subtree
	Severities   []domain.Severity
	Sources      []domain.Source
	CreatedFrom  time.Time // registered at or after
	CreatedTo    time.Time // registered before (exclusive)
}

// BoardGroup is one group of the board's aggregate: the problems sharing a
// status, unit, category, severity and source, and what is true of how many.
type BoardGroup struct {
	Status     domain.Status
	UnitID     int64
	CategoryID int64
	Severity   domain.Severity
	Source     domain.Source

	Count        int64
	Overdue      int64 // open and past the deadline (red)
	Yellow       int64 // open, deadline within the yellow window
	OpenGreen    int64 // open, deadline further out
	ClosedOnTime int64 // closed by the deadline (green)
	ClosedLate   int64 // closed after the deadline (red)
	Reworked     int64 // sent back (退回) at least once
	Verified     int64 // had a verification decision: closed, sent back or reopened
	EverClosed   int64 // closed now or closed once and reopened
	Reopened     int64 // reopened (回头看) at least once
	Extensions   int64 // approved extensions
}

// CloseTimes summarises how long closed problems took from registration to 销号.
type CloseTimes struct {
	Count      int64
	SumSeconds float64
	P90Seconds float64 // nearest rank; 0 when Count is 0
}

// TrendQuery buckets the trend: instants bound registrations and closures,
// dates bound deadlines; both have one more bound than there are periods.
type TrendQuery struct {
	Filter   BoardFilter
	Instants []time.Time
	Dates    []domain.Date
	Today    domain.Date // deadlines before today that were missed count as overdue
}

// TrendCounts are the per-period figures of the trend.
type TrendCounts struct {
	Registered []int64
	Closed     []int64
	Dismissed  []int64 // dismissed in the period (a dismissed problem's last update is its dismissal)
	Missed     []int64 // deadlines in the period that were missed
	Baseline   int64   // registered before the first period and neither closed nor dismissed before it
}

// ClosedFact is a problem closed in a period, as the evaluation reads it.
type ClosedFact struct {
	ProblemID   int64
	AssigneeID  int64
	UnitID      int64
	Severity    domain.Severity
	ReworkCount int
	Deadline    domain.Date
	SubmittedAt *time.Time
	ClosedAt    time.Time
}

// AcceptFact is one acceptance (签收) and the assignment it answered.
type AcceptFact struct {
	Seq        int64 // the accept entry
	ProblemID  int64
	AcceptedAt time.Time
	AssignSeq  int64 // the latest assign entry before it; 0 when none
	AssignedAt *time.Time
	AssigneeID int64 // the problem's assignee and unit now
	UnitID     int64
}

// ProblemRef is what a report row says about a problem.
type ProblemRef struct {
	ID           int64
	Code         string
	Title        string
	Status       domain.Status
	UnitID       int64
	AssigneeID   int64
	Deadline     domain.Date
	AssignedAt   *time.Time
	ClosedAt     *time.Time
	ClosedOnTime *bool
}

// PersonRef names a user in the board and the evaluation.
type PersonRef struct {
	ID       int64
	Name     string
	Username string
	UnitID   int64
	Disabled bool
}

// EntryRangeQuery selects audit entries of some actions in a period.
type EntryRangeQuery struct {
	Actions []string // none: every action
	Outcome string   // "" for any
	From    time.Time
	To      time.Time // exclusive
	Limit   int
}

// StatsRepo reads the aggregates of the board, the trend, the evaluation and
// the discipline reports.
type StatsRepo interface {
	BoardGroups(ctx context.Context, f BoardFilter, today, yellowEnd domain.Date) ([]BoardGroup, error)
	CloseTimes(ctx context.Context, f BoardFilter) (CloseTimes, error)
	Trend(ctx context.Context, q TrendQuery) (TrendCounts, error)
	ClosedBetween(ctx context.Context, from, to time.Time) ([]ClosedFact, error)
	AcceptedBetween(ctx context.Context, from, to time.Time) ([]AcceptFact, error)
	// AwaitingAcceptance lists assigned problems not yet accepted, assigned before a time.
	AwaitingAcceptance(ctx context.Context, assignedBefore time.Time) ([]ProblemRef, error)
	// Overdue lists open problems whose deadline is before today.
	Overdue(ctx context.Context, today domain.Date, limit int) ([]ProblemRef, error)
	// ClosedLateBetween lists problems closed after their deadline in a period.
	ClosedLateBetween(ctx context.Context, from, to time.Time) ([]ProblemRef, error)
	Entries(ctx context.Context, q EntryRangeQuery) ([]*audit.Entry, error)
	// ProblemEntries returns the ok entries of the given actions on the given problems, oldest first.
	ProblemEntries(ctx context.Context, problemIDs []int64, actions []string) ([]*audit.Entry, error)
	Problems(ctx context.Context, ids []int64) (map[int64]ProblemRef, error)
	People(ctx context.Context, ids []int64) (map[int64]PersonRef, error)
	// Owners lists every user holding the owner role.
	Owners(ctx context.Context) ([]PersonRef, error)
}

// Contribution is a special-contribution award (专项贡献分) of the working group.
type Contribution struct {
	ID        int64
	Month     string // YYYY-MM
	UserID    int64  // 0 for an award to a unit
	UnitID    int64  // the unit credited: the person's unit when awarded, or the unit awarded
	Points    int
	Reason    string
	AwardedBy int64
	CreatedAt time.Time
}

// ContributionQuery filters the awards.
type ContributionQuery struct {
	Month    string
	UserID   int64
	UnitID   int64
	BeforeID int64
	Limit    int
}

// ContributionRepo stores awards.
type ContributionRepo interface {
	Create(ctx context.Context, c *Contribution) error
	List(ctx context.Context, q ContributionQuery) ([]*Contribution, error)
	// Sums returns the month's points by user and by unit.
	Sums(ctx context.Context, month string) (byUser, byUnit map[int64]int64, err error)
}

// Publication is a published (frozen) evaluation month.
type Publication struct {
	Month       string
	PublishedBy int64
	PublishedAt time.Time
	Snapshot    string // JSON of the evaluation at publication
}

// PublicationRepo stores published evaluations. Get answers domain.ErrNotFound
// for a month not published; Create answers domain.ErrConflict for one that is.
type PublicationRepo interface {
	Get(ctx context.Context, month string) (*Publication, error)
	Create(ctx context.Context, p *Publication) error
}

// NoticeRepo stores notices (通报).
type NoticeRepo interface {
	Get(ctx context.Context, id int64) (*Notice, error)
	Create(ctx context.Context, n *Notice) error
	// Update writes n if its stored version is still expected; otherwise domain.ErrConflict.
	Update(ctx context.Context, n *Notice, expected int64) error
	List(ctx context.Context, q NoticeQuery) ([]*Notice, error)
}

// ImportRecord is one ledger import.
type ImportRecord struct {
	ID         int64
	FileSHA256 string
	Filename   string
	Rows       int
	Created    int
	Skipped    int
	ImportedBy int64
	ImportedAt time.Time
}

// ImportedRow links an imported ledger row, by its content hash, to the problem it created.
type ImportedRow struct {
	Hash      string
	ImportID  int64
	Row       int
	ProblemID int64
}

// LedgerRepo serves the ledger's export and import.
type LedgerRepo interface {
	// CreateImport records an import; rows are added with AddRows.
	CreateImport(ctx context.Context, r *ImportRecord) error
	FinishImport(ctx context.Context, r *ImportRecord) error
	AddRows(ctx context.Context, rows []ImportedRow) error
	// ImportedRows returns, for the hashes already imported, the problem each created.
	ImportedRows(ctx context.Context, hashes []string) (map[string]int64, error)
	// ProblemsByCode returns the problems with the given codes.
	ProblemsByCode(ctx context.Context, codes []string) (map[string]*domain.Problem, error)
	// CreateWithCode inserts p under the code it carries and moves that year's
	// code counter past it; domain.ErrConflict when the code is taken.
	CreateWithCode(ctx context.Context, p *domain.Problem) error
}
