package app

import (
	"github.com/rectify-team/rectify/internal/domain"
)

// ReportKind names a discipline report.
type ReportKind string

// The discipline reports.
const (
	ReportLateAcceptance ReportKind = "late_acceptance" // 签收超时
	ReportOverdue        ReportKind = "overdue"         // 超期
	ReportSendBacks      ReportKind = "send_backs"      // 多次退回
	ReportRefusals       ReportKind = "refusals"        // 被拒绝的操作
	ReportExtensions     ReportKind = "extensions"      // 延期
)

// ReportKinds lists every report.
func ReportKinds() []ReportKind {
	return []ReportKind{ReportLateAcceptance, ReportOverdue, ReportSendBacks, ReportRefusals, ReportExtensions}
}

// Label is the report's Chinese name.
func (k ReportKind) Label() string {
	switch k {
	case ReportLateAcceptance:
		return "签收超时"
	case ReportOverdue:
		return "整改超期"
	case ReportSendBacks:
		return "多次退回"
	case ReportRefusals:
		return "违规操作被拒"
	case ReportExtensions:
		return "申请延期"
	}
	return string(k)
}

// Report subjects: what a row is about.
const (
	ReportSubjectUser    = "user"
	ReportSubjectUnit    = "unit"
	ReportSubjectProblem = "problem"
)

// ReportInput asks for a report.
type ReportInput struct {
	Kind     ReportKind
	From, To domain.Date // inclusive; zero: the current month to date
	UnitID   int64       // only problems (or, for refusals, actors) of this unit's subtree
	By       string      // overdue: "user" (default) or "unit"
	MinCount int         // send_backs: at least this many send-backs (default 2)
}

// ReportRow is one line of a report.
type ReportRow struct {
	SubjectType string // user, unit or problem
	SubjectID   int64
	Name        string
	UnitID      int64
	Count       int
	Details     map[string]int64
	ProblemIDs  []int64
	Seqs        []int64 // the audit entries behind the row, oldest first, at most MaxReportSeqs
}

// Report is a discipline report.
type Report struct {
	Kind      ReportKind
	From, To  domain.Date
	Rows      []ReportRow
	Truncated bool // more rows than MaxReportRows
}
