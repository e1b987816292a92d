// Package wire builds Rectify's use cases: one core and, on it, one service
// per capability. The faces (httpapi, web, cmd/rectify, the demo and the
// load tool) hold a *Services and call the capability they need.
package wire

import (
	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/access"
	"github.com/rectify-team/rectify/internal/app/board"
	"github.com/rectify-team/rectify/internal/app/evidence"
	"github.com/rectify-team/rectify/internal/app/ledger"
	"github.com/rectify-team/rectify/internal/app/lifecycle"
	"github.com/rectify-team/rectify/internal/app/notify"
	"github.com/rectify-team/rectify/internal/app/trail"
	"github.com/rectify-team/rectify/internal/audit"
)

// Services are the use cases, by capability.
type Services struct {
	Core      *app.Core          // the policies, the clock, idempotent replays
	Lifecycle *lifecycle.Service // problems, actions, comments, extensions, re-checks
	Evidence  *evidence.Service  // attachments
	Access    *access.Service    // sign-in, sessions, units, categories, users
	Board     *board.Service     // board, evaluation, contributions, reports, notices
	Ledger    *ledger.Service    // the 整改台账: export and import
	Notify    *notify.Service    // inbox, outbox and dispatcher, scheduler
	Trail     *trail.Service     // the audit trail: reading, verifying, checkpoints
}

// New builds the use cases on store. keys sign audit checkpoints.
func New(store app.Store, keys *audit.Keys, cfg app.Config, opts ...Option) *Services {
	var o options
	for _, f := range opts {
		f(&o)
	}
	core := app.NewCore(store, keys, cfg, o.core)
	n := notify.New(core, o.webhooks)
	l := lifecycle.New(core, n)
	return &Services{
		Core:      core,
		Lifecycle: l,
		Evidence:  evidence.New(core, o.blobs),
		Access:    access.New(core, o.directory, o.directorySrc, o.oidc, o.oidcSrc),
		Board:     board.New(core),
		Ledger:    ledger.New(core, l, o.workbooks),
		Notify:    n,
		Trail:     trail.New(core, o.checkpointLog, o.witness),
	}
}
