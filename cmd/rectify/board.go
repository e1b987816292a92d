package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/rectify-team/rectify/internal/app"
)

// warmBoard loads the board's in-memory index in the background at start, so
// that the first board request does not wait for it (seconds on a million
// problems). A failure is only logged: the first request loads it then.
func warmBoard(ctx context.Context, svc *app.Service, log *slog.Logger) {
	start := time.Now()
	if err := svc.WarmBoard(ctx); err != nil {
		if !errors.Is(err, context.Canceled) {
			log.Warn("board index not loaded ahead; the first board request loads it", "err", err)
		}
		return
	}
	log.Info("board index loaded", "took", time.Since(start).Round(time.Millisecond))
}
