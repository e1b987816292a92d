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

// BoardRow is what the board's in-memory index keeps of a problem.
type BoardRow struct {
	ID             int64
	Status         domain.Status
	UnitID         int64
	CategoryID     int64
	Severity       domain.Severity
	Source         domain.Source
	AssigneeID     int64
	Deadline       domain.Date
	MilestoneDue   domain.Date // the earliest milestone not yet done; zero for none
	ClosedOnTime   *bool
	ReworkCount    int
	ReopenCount    int
	ExtensionCount int
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	AssignedAt     *time.Time
	SubmittedAt    *time.Time
	ClosedAt       *time.Time
}

// BoardVersion is a problem's version as the board's refresh probes it.
type BoardVersion struct {
	ID      int64
	Version int64
}

// BoardRowsQuery pages through the problems for the board's index: every
// problem after an id, or the problems updated since a time.
type BoardRowsQuery struct {
	AfterID      int64
	UpdatedSince time.Time // zero: every problem
	IDs          []int64   // only these problems
	Limit        int
}

// Acceptance is one acceptance (签收) in the audit trail.
type Acceptance struct {
	Seq       int64
	ProblemID int64
	At        time.Time
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

// StatsRepo reads what the board's index, the evaluation and the discipline
// reports need.
type StatsRepo interface {
	BoardRows(ctx context.Context, q BoardRowsQuery) ([]BoardRow, error)
	// BoardVersions lists the id, version and updated_at of the problems
	// updated since a time, from an index that holds them (cheap to probe).
	BoardVersions(ctx context.Context, since time.Time) ([]BoardVersion, error)
	// Acceptances lists the acceptances made in [from, to), oldest first.
	Acceptances(ctx context.Context, from, to time.Time) ([]Acceptance, error)
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
	// ReserveCodes takes n numbers of a year's code counter and returns the first.
	ReserveCodes(ctx context.Context, year int, n int64) (int64, error)
	// RaiseCounter moves a year's code counter to at least seq.
	RaiseCounter(ctx context.Context, year int, seq int64) error
	// InsertProblems inserts problems that carry their codes, many at a time, and
	// sets their IDs; domain.ErrConflict when a code is taken.
	InsertProblems(ctx context.Context, ps []*domain.Problem) error
	// AppendNewStreams appends the entries of streams that have none yet (the
	// streams of problems just inserted), many at a time: chained, inserted,
	// their heads set, as Audit.Append would one by one. Entries of a stream
	// come in order.
	AppendNewStreams(ctx context.Context, entries []*audit.Entry) error
}
