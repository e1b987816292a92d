package wire

import (
	"log/slog"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/access"
	"github.com/rectify-team/rectify/internal/app/evidence"
	"github.com/rectify-team/rectify/internal/app/ledger"
	"github.com/rectify-team/rectify/internal/app/notify"
	"github.com/rectify-team/rectify/internal/app/trail"
)

// options are the use cases' optional dependencies, each for the capability
// whose port it fills; an Option sets one.
type options struct {
	core          app.Options
	checkpointLog trail.CheckpointLog
	witness       trail.Witness
	blobs         evidence.BlobStore
	workbooks     ledger.WorkbookReader
	directory     access.Directory
	directorySrc  app.IdentitySource
	oidc          access.OIDCProvider
	oidcSrc       app.OIDCSource
	webhooks      notify.Webhooks
}

// Option configures the use cases.
type Option func(*options)

// WithClock replaces the wall clock, for tests and the demo's history.
func WithClock(now func() time.Time) Option { return func(o *options) { o.core.Clock = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.core.Logger = l } }

// WithMetrics sets the metrics sink.
func WithMetrics(m app.Metrics) Option { return func(o *options) { o.core.Metrics = m } }

// WithCheckpointLog keeps every signed checkpoint in log as well, and makes
// verification compare the database with it.
func WithCheckpointLog(log trail.CheckpointLog) Option {
	return func(o *options) { o.checkpointLog = log }
}

// WithWitness sends every checkpoint to a witness, and makes verification ask
// it for the newest it co-signed.
func WithWitness(w trail.Witness) Option { return func(o *options) { o.witness = w } }

// WithBlobs keeps attachments' contents in b; without it, uploads are unavailable.
func WithBlobs(b evidence.BlobStore) Option { return func(o *options) { o.blobs = b } }

// WithWorkbookReader sets how ImportLedger reads workbooks; without it,
// imports fail.
func WithWorkbookReader(r ledger.WorkbookReader) Option { return func(o *options) { o.workbooks = r } }

// WithDirectory signs users whose source is ldap (and unknown usernames) in
// through the directory.
func WithDirectory(d access.Directory, src app.IdentitySource) Option {
	return func(o *options) { o.directory, o.directorySrc = d, src }
}

// WithOIDC enables signing in through an OpenID provider.
func WithOIDC(p access.OIDCProvider, src app.OIDCSource) Option {
	return func(o *options) { o.oidc, o.oidcSrc = p, src }
}

// WithWebhooks sets the outgoing webhooks; without them events reach the inbox only.
func WithWebhooks(w notify.Webhooks) Option { return func(o *options) { o.webhooks = w } }
