package trail

import (
	"context"
	"github.com/rectify-team/rectify/internal/audit"
)

// The adapters this capability uses, implemented outside the use cases.

// CheckpointLog keeps the signed checkpoints outside the database (audit.Log).
type CheckpointLog interface {
	// Extend appends what next returns after the log's last checkpoint, under a lock.
	Extend(next func(last *audit.Checkpoint) ([]*audit.Checkpoint, error)) (int, error)
	// Read returns the checkpoints up to the first fault, and the fault.
	Read() ([]*audit.Checkpoint, *audit.LogFault, error)
}

// Witness co-signs checkpoints and keeps the newest it saw (witness.Client).
type Witness interface {
	// Add returns nil, nil when the witness co-signed the note (or had it), and
	// its newest checkpoint when the note does not extend it.
	Add(ctx context.Context, signedNote string) (*audit.WitnessHead, error)
	URL() string
}
