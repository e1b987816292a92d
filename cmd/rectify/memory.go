package main

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The server's memory: the board's index holds 64 bytes of every problem
// (64 MB for a million), and Go lets the heap grow to twice what is live
// before it collects. A soft memory limit a little above the live heap keeps
// the resident size near what is needed (docs/performance.md: about 140 MB
// instead of 210 MB on a million problems, at the same latencies). It follows the
// live heap as the data grows, so that it never forces collections back to
// back. An operator's GOMEMLIMIT stands instead.

const (
	memoryHeadroom = 24 << 20 // above the live heap and an eighth of it
	memoryFloor    = 64 << 20
	memoryEvery    = 30 * time.Second
)

// memoryLimitLoop sets the soft limit from the live heap every memoryEvery.
// The runtime reads GOMEMLIMIT from the process's environment, so that is
// where this looks too.
func memoryLimitLoop(ctx context.Context, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		log.Info("memory limit from GOMEMLIMIT", "limit_bytes", debug.SetMemoryLimit(-1))
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(memoryEvery)
	defer t.Stop()
	for {
		// The first limit comes a while after the start, when the board's
		// index has loaded: a limit under it would make the load collect
		// back to back.
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := int64(sample[0].Value.Uint64())
			debug.SetMemoryLimit(softLimit(live))
		}
	}
}

// softLimit is the limit for a live heap: an eighth more and 24 MiB, at least 64 MiB.
func softLimit(live int64) int64 { return max(memoryFloor, live+live/8+memoryHeadroom) }
