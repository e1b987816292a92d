// Package trail reads and proves the audit trail: listing entries,
// verifying every stream's chain against the signed checkpoints (in the
// database, in the checkpoint log and at the witness), and signing new
// checkpoints. Use cases append entries through the core; this package
// never writes one.
package trail

import (
	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
)

// Service is the audit trail's use cases.
type Service struct {
	core    *app.Core
	store   app.Store
	cfg     app.Config
	keys    *audit.Keys
	cplog   CheckpointLog // signed checkpoints outside the database; nil: none
	witness Witness       // co-signs checkpoints; nil: none
}

// New builds the audit trail's use cases on core, with the checkpoint log
// and the witness (either may be nil).
func New(core *app.Core, cplog CheckpointLog, witness Witness) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), keys: core.Keys(), cplog: cplog, witness: witness}
}
