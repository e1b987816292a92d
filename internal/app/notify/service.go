// Package notify tells people what happened: the inbox, the outbox and its
// dispatcher to the webhooks, and the scheduler's reminders, escalations and
// re-checks falling due. The lifecycle writes its events here inside its own
// transaction (Announce); the dispatcher delivers them after commit.
package notify

import (
	"log/slog"

	"github.com/rectify-team/rectify/internal/app"
)

// Service is the notification use cases.
type Service struct {
	core     *app.Core
	store    app.Store
	cfg      app.Config
	log      *slog.Logger
	hooks    Webhooks      // outgoing webhooks; nil: the inbox only
	outboxed chan struct{} // a signal to the dispatcher that events were written (outbox.go)
}

// New builds the notification use cases on core; hooks may be nil.
func New(core *app.Core, hooks Webhooks) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), log: core.Log(), hooks: hooks,
		outboxed: make(chan struct{}, 1)}
}
