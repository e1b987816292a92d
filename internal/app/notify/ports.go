package notify

import (
	"context"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
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

// LightKeeper keeps each problem's traffic light for the day, which the
// list's warning and overdue filters read (store.DB.KeepLights). The
// scheduler's pass calls it when the store has it; without it the list
// filters by deadlines and milestones instead.
type LightKeeper interface {
	KeepLights(ctx context.Context, today domain.Date, yellowDays int) error
}
