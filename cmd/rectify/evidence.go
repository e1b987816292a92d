package main

import (
	"context"
	"github.com/rectify-team/rectify/internal/app/wire"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/blob"
	"github.com/rectify-team/rectify/internal/config"
)

// evidencePolicies carries issue 3's settings into the service's config and
// opens the attachments' store under the data directory.
func evidencePolicies(cfg *config.Config, appCfg *app.Config) (*blob.Store, error) {
	appCfg.Evidence.Required = cfg.EvidenceRequired
	appCfg.Extensions.Max = cfg.MaxExtensions
	return blob.Open(filepath.Join(cfg.DataDir, "attachments"))
}

// idempotencyPurgeLoop deletes expired Idempotency-Keys and the contents of
// uploads that never got their row (app.CollectOrphanBlobs) every hour.
// Several instances may run it at once: deleting twice is harmless.
func idempotencyPurgeLoop(ctx context.Context, svc *wire.Services, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := svc.Core.PurgeIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			log.Warn("purge expired idempotency keys", "err", err)
		} else if n > 0 {
			log.Debug("expired idempotency keys purged", "count", n)
		}
		if n, err := svc.Evidence.CollectOrphanBlobs(ctx); err != nil && ctx.Err() == nil {
			log.Warn("collect orphan attachment contents", "err", err)
		} else if n > 0 {
			log.Info("orphan attachment contents removed", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
