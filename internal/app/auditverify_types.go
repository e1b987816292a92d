package app

import (
	"github.com/rectify-team/rectify/internal/audit"
)

// VerifyResult is the outcome of checking the whole trail.
type VerifyResult struct {
	OK          bool
	Checked     int
	FirstBad    *int64 // global sequence of the first bad entry
	Reason      string // the first finding
	Checkpoints int    // signed checkpoints checked
	Logged      int    // of which the checkpoint log outside the database holds
	Findings    []audit.Finding
}
