package app

import (
	"github.com/rectify-team/rectify/internal/domain"
)

// ActionRecheck is the audit action of a recorded re-check result.
const ActionRecheck = "recheck"

// Re-check results as a verifier gives them.
const (
	ResultHolds    = "holds"
	ResultRelapsed = "relapsed"
)

// RecheckFilter is the re-check list's filter as the caller gives it.
type RecheckFilter struct {
	DueBy     domain.Date // due on or before; zero for any date
	Statuses  []RecheckStatus
	ProblemID int64
	After     RecheckCursor
	Limit     int
}

// RecheckInput is a re-check's result.
type RecheckInput struct {
	Result        string      // ResultHolds or ResultRelapsed
	Note          string      // what was checked and found
	Deadline      domain.Date // the new deadline, for a relapse only
	AttachmentIDs []int64
}

// RecheckResult is what recording a re-check answers.
type RecheckResult struct {
	Recheck *Recheck
	Problem *domain.Problem
}
