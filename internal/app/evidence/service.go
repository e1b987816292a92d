// Package evidence keeps the files that back a problem's actions: uploads,
// reading them back for those who may see them, resolving an action's
// attachment_ids inside its transaction (Resolve), and collecting blobs
// nothing refers to.
package evidence

import (
	"log/slog"

	"github.com/rectify-team/rectify/internal/app"
)

// Service is the attachments' use cases.
type Service struct {
	core  *app.Core
	store app.Store
	cfg   app.Config
	log   *slog.Logger
	blobs BlobStore // attachments' contents; nil: uploads unavailable
}

// New builds the attachments' use cases on core; blobs may be nil.
func New(core *app.Core, blobs BlobStore) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), log: core.Log(), blobs: blobs}
}
