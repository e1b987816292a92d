package app

import (
	"time"

	"github.com/rectify-team/rectify/internal/stats"
)

// NoticeKind says whether a notice (通报) praises or criticises.
type NoticeKind string

// Notice kinds.
const (
	NoticePraise    NoticeKind = "praise"    // 表扬
	NoticeCriticism NoticeKind = "criticism" // 批评
)

// NoticeStatus is where a notice stands: a verifier's draft, or published by a leader.
type NoticeStatus string

// Notice states. A published notice never changes again.
const (
	NoticeDraft     NoticeStatus = "draft"
	NoticePublished NoticeStatus = "published"
)

// Notice sources: what a draft was drawn from.
const (
	NoticeFromEvaluation = "evaluation"
	NoticeFromReport     = "report"
)

// Notice length limits, in characters.
const (
	MaxNoticeTitle = 200
	MaxNoticeBody  = 20000
)

// Notice is a 通报.
type Notice struct {
	ID          int64
	Kind        NoticeKind
	Title       string
	Body        string
	SourceType  string // "", evaluation or report
	SourceRef   string // e.g. 2026-03/person, or late_acceptance/2026-03-01/2026-03-31
	Status      NoticeStatus
	Version     int64
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedBy int64
	PublishedAt *time.Time
}

// NoticeQuery filters the notice list.
type NoticeQuery struct {
	Statuses []NoticeStatus
	Kind     NoticeKind
	BeforeID int64
	Limit    int
}

// NoticeInput drafts a notice. Title and body may be left empty when the
// notice is drawn from an evaluation or a report: the draft then says what
// that evaluation or report found, for the verifier to edit before a leader
// publishes it.
type NoticeInput struct {
	Kind       NoticeKind
	Title      string
	Body       string
	Evaluation *NoticeEvaluation
	Report     *ReportInput
}

// NoticeEvaluation names the evaluation a notice is drawn from.
type NoticeEvaluation struct {
	Month stats.Month
	Level EvaluationLevel
}

// NoticePatch edits a draft; nil leaves a field.
type NoticePatch struct {
	Kind  *NoticeKind
	Title *string
	Body  *string
}

// Valid reports a known kind.
func (k NoticeKind) Valid() bool { return k == NoticePraise || k == NoticeCriticism }

// Label is the kind's Chinese name.
func (k NoticeKind) Label() string {
	if k == NoticePraise {
		return "表扬"
	}
	return "批评"
}
