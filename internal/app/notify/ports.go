package notify

import (
	"context"
	"github.com/rectify-team/rectify/internal/app"
)

// The adapters this capability uses, implemented outside the use cases.

// Webhooks are the configured outgoing webhooks; the dispatcher (notify/outbox.go)
// delivers through them. cmd/rectify adapts internal/webhook to it.
type Webhooks interface {
	// Targets names the targets that receive events of this kind.
	Targets(kind string) []string
	// Deliver makes one attempt to deliver ev to the named target; nil means
	// the target acknowledged it.
	Deliver(ctx context.Context, target string, ev app.OutEvent) error
}
