package httpapi

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultFailureLogEvery is how often a database that keeps failing is
// reported while it does.
const DefaultFailureLogEvery = 10 * time.Second

// failureLog reports requests refused because the database is unavailable
// once per interval with a count, instead of once per request: while a node
// is down, a busy instance would otherwise write an error line (and an access
// log line) for every refused request — 110 MB in a few minutes. The first
// failure of a quiet period is logged at once; later ones are counted and
// reported when the interval ends, for as long as they go on.
type failureLog struct {
	log   *slog.Logger
	every time.Duration

	mu        sync.Mutex
	timer     *time.Timer // running while an interval is open
	count     int         // failures since the last line
	lastErr   string
	lastRoute string
}

func newFailureLog(log *slog.Logger, every time.Duration) *failureLog {
	if every <= 0 {
		every = DefaultFailureLogEvery
	}
	return &failureLog{log: log, every: every}
}

// note counts one refused request (what is the route, or "readyz").
func (f *failureLog) note(ctx context.Context, what, requestID string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer == nil {
		f.log.ErrorContext(ctx, "database unavailable: answering 503", "route", what, "request_id", requestID,
			"err", err, "next_report_in", f.every)
		f.timer = time.AfterFunc(f.every, f.flush)
		return
	}
	f.count++
	f.lastErr, f.lastRoute = err.Error(), what
}

func (f *failureLog) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.count == 0 { // quiet again: the next failure is logged at once
		f.timer = nil
		return
	}
	f.log.Error("database unavailable: answering 503", "count", f.count, "interval", f.every,
		"last_route", f.lastRoute, "last_err", f.lastErr)
	f.count = 0
	f.timer = time.AfterFunc(f.every, f.flush)
}
