package app

import (
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// ProblemInput is what registering a problem takes.
type ProblemInput struct {
	Title       string
	Description string
	CategoryID  int64
	Severity    domain.Severity
	Source      domain.Source
	UnitID      int64
	FoundAt     domain.Date // zero means today
	// AttachmentIDs are photos taken at the spot check: the caller's own
	// uploads, linked to the problem as it is registered.
	AttachmentIDs []int64
}

// ProblemPatch edits some registered fields; nil leaves a field as it is.
type ProblemPatch struct {
	Title       *string
	Description *string
	CategoryID  *int64
	Severity    *domain.Severity
	Source      *domain.Source
	UnitID      *int64
	FoundAt     *domain.Date
}

// AssignInput is a 交办.
type AssignInput struct {
	AssigneeID int64
	UnitID     int64
	Deadline   domain.Date
	Measures   string
	// Milestones, when not nil, replace the open milestones (挂图作战); an
	// empty, non-nil list clears them. Nil keeps the plan.
	Milestones []domain.MilestonePlan
}

// ProgressInput is a progress report.
type ProgressInput struct {
	Note          string
	Percent       *int
	MilestoneIDs  []int64 // milestones now done
	AttachmentIDs []int64 // evidence: the caller's unattached uploads or attachments the caller sees
}

// SubmitInput is a submitted fix (整改情况) and its evidence.
type SubmitInput struct {
	Note          string
	AttachmentIDs []int64
}

// ProblemFilter is the list's filter as the caller gives it.
type ProblemFilter struct {
	Statuses     []domain.Status
	CategoryID   int64
	Severities   []domain.Severity
	Sources      []domain.Source
	UnitID       int64
	AssigneeID   int64
	Warnings     []domain.WarningLevel
	Overdue      *bool
	Text         string
	DeadlineFrom domain.Date
	DeadlineTo   domain.Date
	CreatedFrom  time.Time
	CreatedTo    time.Time
	BeforeID     int64
	Limit        int
}

// DefaultPageSize is the page size when none is given.
const DefaultPageSize = 50
