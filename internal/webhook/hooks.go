package webhook

import (
	"context"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/notify"

	"github.com/rectify-team/rectify/internal/app"
)

// Hooks delivers the outbox's events to the configured targets: it is the
// service's notify.Webhooks.
type Hooks struct {
	targets []Target
	byName  map[string]Target
	sender  *Sender
}

// NewHooks serves the targets through the sender.
func NewHooks(targets []Target, sender *Sender) *Hooks {
	h := &Hooks{targets: targets, byName: make(map[string]Target, len(targets)), sender: sender}
	for _, t := range targets {
		h.byName[t.Name] = t
	}
	return h
}

// Targets names the targets that want events of this kind.
func (h *Hooks) Targets(kind string) []string {
	var out []string
	for _, t := range h.targets {
		if t.Wants(kind) {
			out = append(out, t.Name)
		}
	}
	return out
}

// Deliver makes one attempt to deliver ev to the named target. A target that
// is no longer configured is an error: its messages stay in the outbox,
// visible to admins, until it is configured again.
func (h *Hooks) Deliver(ctx context.Context, target string, ev app.OutEvent) error {
	t, ok := h.byName[target]
	if !ok {
		return fmt.Errorf("webhook %q is not configured (RECTIFY_WEBHOOKS)", target)
	}
	return h.sender.Send(ctx, t, Message{EventID: ev.ID, Kind: ev.Kind, OccurredAt: ev.OccurredAt, Title: ev.Title,
		Text: ev.Text, Data: ev.Data})
}

var _ notify.Webhooks = (*Hooks)(nil)
