package main

import (
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"log/slog"
	"time"
)

// boardFreshEvery is how often the board's index is brought up to date
// between board requests. A request refreshes it first anyway; refreshing
// in the background too keeps that work small: the first board read after
// 150,000 changes made with no board read between took 6 s to catch up.
// Idle, a refresh is one empty index range; under writes it probes the
// changes of the last refresh margin (about 70 s) and reads the changed
// problems a board request would read.
const boardFreshEvery = 5 * time.Second

// warmBoard loads the board's in-memory index in the background at start, so
// that the first board request does not wait for it (seconds on a million
// problems), then keeps it fresh until ctx ends. A failure is only logged,
// once until a refresh succeeds again: board requests refresh the index
// themselves, and load it if it is not loaded.
func warmBoard(ctx context.Context, svc *wire.Services, log *slog.Logger) {
	t := time.NewTicker(boardFreshEvery)
	defer t.Stop()
	keepBoardFresh(ctx, svc.Board.WarmBoard, t.C, log)
}

// keepBoardFresh runs refresh at once and then at every tick until ctx ends.
func keepBoardFresh(ctx context.Context, refresh func(context.Context) error, tick <-chan time.Time, log *slog.Logger) {
	start, loaded, failing := time.Now(), false, false
	for {
		switch err := refresh(ctx); {
		case err == nil:
			if !loaded {
				log.Info("board index loaded", "took", time.Since(start).Round(time.Millisecond))
			} else if failing {
				log.Info("board index refreshed again")
			}
			loaded, failing = true, false
		case ctx.Err() != nil || errors.Is(err, context.Canceled):
			return
		case !failing:
			failing = true
			if loaded {
				log.Warn("board index not refreshed in the background; board requests refresh it themselves", "err", err)
			} else {
				log.Warn("board index not loaded ahead; the first board request loads it", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
