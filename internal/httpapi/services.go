package httpapi

import (
	"context"
	"io"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/wire"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger/table"
	"github.com/rectify-team/rectify/internal/stats"
)

// The API calls the use cases through one interface per capability, each of
// only the methods its routes use: it depends on no concrete service, and
// another face can call the same use cases.

// AccessCases is what the API calls of the sign-in and the organisation.
type AccessCases interface {
	Authenticate(ctx context.Context, token string) (*app.User, error)
	Categories(ctx context.Context) ([]*app.Category, error)
	ChangePassword(ctx context.Context, c app.Caller, token, oldPassword, newPassword string) error
	CreateCategory(ctx context.Context, c app.Caller, in app.CategoryInput) (*app.Category, error)
	CreateUnit(ctx context.Context, c app.Caller, in app.UnitInput) (*app.Unit, error)
	CreateUser(ctx context.Context, c app.Caller, in app.UserInput) (*app.User, error)
	FinishOIDC(ctx context.Context, c app.Caller, in app.OIDCCallback) (*app.LoginResult, error)
	Login(ctx context.Context, c app.Caller, username, password string) (*app.LoginResult, error)
	Logout(ctx context.Context, c app.Caller, token string) error
	Providers() []app.Provider
	ResetPassword(ctx context.Context, c app.Caller, id int64, password string) error
	StartOIDC(ctx context.Context, c app.Caller, redirectURL string) (*app.OIDCStart, error)
	Units(ctx context.Context) ([]*app.Unit, error)
	UpdateCategory(ctx context.Context, c app.Caller, id int64, p app.CategoryPatch) (*app.Category, error)
	UpdateUnit(ctx context.Context, c app.Caller, id int64, p app.UnitPatch) (*app.Unit, error)
	UpdateUser(ctx context.Context, c app.Caller, id int64, p app.UserPatch) (*app.User, error)
	User(ctx context.Context, id int64) (*app.User, error)
	Users(ctx context.Context, q app.UserQuery) ([]*app.User, error)
}

// BoardCases is what the API calls of the board, evaluation, contributions, reports and notices.
type BoardCases interface {
	AwardContribution(ctx context.Context, c app.Caller, in app.ContributionInput) (*app.Contribution, error)
	Contributions(ctx context.Context, c app.Caller, q app.ContributionQuery) ([]*app.Contribution, error)
	DraftNotice(ctx context.Context, c app.Caller, in app.NoticeInput) (*app.Notice, error)
	EditNotice(ctx context.Context, c app.Caller, id, ifMatch int64, p app.NoticePatch) (*app.Notice, error)
	Evaluation(ctx context.Context, c app.Caller, month stats.Month, level app.EvaluationLevel) (*app.Evaluation, error)
	Notice(ctx context.Context, c app.Caller, id int64) (*app.Notice, error)
	Notices(ctx context.Context, c app.Caller, q app.NoticeQuery) ([]*app.Notice, error)
	Overview(ctx context.Context, c app.Caller, in app.BoardInput) (*app.Overview, error)
	PublishEvaluation(ctx context.Context, c app.Caller, month stats.Month) (*app.Publication, error)
	PublishNotice(ctx context.Context, c app.Caller, id, ifMatch int64) (*app.Notice, error)
	Report(ctx context.Context, c app.Caller, in app.ReportInput) (*app.Report, error)
	Trend(ctx context.Context, c app.Caller, in app.TrendInput) ([]app.TrendPeriod, error)
}

// CoreCases is what the API calls of the core (policies, clock, health, idempotent replays).
type CoreCases interface {
	Config() app.Config
	IdempotentReplay(ctx context.Context, c app.Caller) ([]byte, bool, error)
	Now() time.Time
	Ping(ctx context.Context) error
	RememberResponse(ctx context.Context, c app.Caller, payload []byte) error
	Today() domain.Date
}

// EvidenceCases is what the API calls of the attachments.
type EvidenceCases interface {
	OpenAttachment(ctx context.Context, c app.Caller, id int64) (*app.Attachment, io.ReadSeekCloser, error)
	ProblemAttachments(ctx context.Context, c app.Caller, id int64) ([]*app.ProblemAttachment, error)
	Upload(ctx context.Context, c app.Caller, name string, content io.Reader) (*app.Attachment, error)
}

// LedgerCases is what the API calls of the ledger.
type LedgerCases interface {
	ExportLedger(ctx context.Context, c app.Caller, f app.ProblemFilter, pageSize int, w table.Writer) (int, error)
	ImportLedger(ctx context.Context, c app.Caller, filename string, file io.Reader) (*app.ImportResult, error)
	LedgerGuide(ctx context.Context) (table.Guide, error)
}

// LifecycleCases is what the API calls of the lifecycle (problems, actions, comments, extensions, re-checks).
type LifecycleCases interface {
	Accept(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error)
	Urge(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error)
	Assign(ctx context.Context, c app.Caller, id, ifMatch int64, in app.AssignInput) (*domain.Problem, error)
	Comment(ctx context.Context, c app.Caller, id int64, text string) (*domain.Problem, error)
	Comments(ctx context.Context, c app.Caller, id int64) ([]*app.Comment, error)
	DecideExtension(ctx context.Context, c app.Caller, id, ifMatch, extID int64, approved bool, note string) (*domain.Problem, error)
	Dismiss(ctx context.Context, c app.Caller, id, ifMatch int64, reason string) (*domain.Problem, error)
	Edit(ctx context.Context, c app.Caller, id, ifMatch int64, patch app.ProblemPatch) (*domain.Problem, error)
	Extensions(ctx context.Context, c app.Caller, id int64) ([]*domain.Extension, error)
	History(ctx context.Context, c app.Caller, id, afterSeq int64, limit int) ([]*audit.Entry, error)
	Problem(ctx context.Context, c app.Caller, id int64) (*domain.Problem, error)
	Problems(ctx context.Context, c app.Caller, f app.ProblemFilter) ([]*domain.Problem, bool, error)
	Rechecks(ctx context.Context, c app.Caller, f app.RecheckFilter) (items []*app.Recheck, more bool, err error)
	RecordRecheck(ctx context.Context, c app.Caller, id int64, in app.RecheckInput) (*app.RecheckResult, error)
	Register(ctx context.Context, c app.Caller, in app.ProblemInput) (*domain.Problem, error)
	Reopen(ctx context.Context, c app.Caller, id, ifMatch int64, reason string, deadline domain.Date) (*domain.Problem, error)
	ReportProgress(ctx context.Context, c app.Caller, id, ifMatch int64, in app.ProgressInput) (*domain.Problem, error)
	RequestExtension(ctx context.Context, c app.Caller, id, ifMatch int64, deadline domain.Date, reason string) (*domain.Extension, error)
	SubmitFix(ctx context.Context, c app.Caller, id, ifMatch int64, in app.SubmitInput) (*domain.Problem, error)
	Verify(ctx context.Context, c app.Caller, id, ifMatch int64, passed bool, note string) (*domain.Problem, error)
}

// NotifyCases is what the API calls of the inbox and outbox.
type NotifyCases interface {
	MarkRead(ctx context.Context, c app.Caller, ids []int64) (marked, unread int64, err error)
	Notifications(ctx context.Context, c app.Caller, unreadOnly bool, beforeID int64, limit int) (*app.Inbox, error)
	Outbox(ctx context.Context, c app.Caller, q app.OutboxQuery) ([]*app.OutboxMessage, bool, error)
	RetryOutbox(ctx context.Context, c app.Caller, id int64) (*app.OutboxMessage, error)
}

// TrailCases is what the API calls of the audit trail.
type TrailCases interface {
	Audit(ctx context.Context, c app.Caller, q app.AuditQuery) ([]*audit.Entry, error)
	AuditVerifierKey() string
	LatestCheckpoint(ctx context.Context, c app.Caller) (*audit.Checkpoint, error)
	VerifyAudit(ctx context.Context, c app.Caller) (*app.VerifyResult, error)
}

// Services are the use cases the API calls, by capability.
type Services struct {
	Access    AccessCases
	Board     BoardCases
	Core      CoreCases
	Evidence  EvidenceCases
	Ledger    LedgerCases
	Lifecycle LifecycleCases
	Notify    NotifyCases
	Trail     TrailCases
}

// ServicesOf takes each capability the API calls from the wired use cases.
func ServicesOf(s *wire.Services) Services {
	return Services{
		Access:    s.Access,
		Board:     s.Board,
		Core:      s.Core,
		Evidence:  s.Evidence,
		Ledger:    s.Ledger,
		Lifecycle: s.Lifecycle,
		Notify:    s.Notify,
		Trail:     s.Trail,
	}
}
