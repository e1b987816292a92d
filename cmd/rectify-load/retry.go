package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rectify-team/rectify/internal/store"
)

// The fault mode (--retry): a client that retries. Every write is one
// logical action with its own Idempotency-Key, sent again with the same key
// (and the same X-Request-ID, which the audit trail records) after a 503 or
// an answer that never came, until it gets another answer or its time is up.
// --lose-answers makes the tool itself drop a share of the answers that did
// arrive, as a network would after the commit: the server has done the
// action and the client does not know it. Afterwards the tool counts the
// audit trail's applied entries per key: every acknowledged action must be
// there exactly once, a refused one not at all.

// retrier holds the run's logical actions.
type retrier struct {
	prefix  string // of every key of this run: nothing else in the trail starts with it
	lose    int    // percent of arrived answers dropped
	budget  time.Duration
	maxWait time.Duration
	seq     atomic.Int64
	// withoutKey sends the retries without the Idempotency-Key (the
	// X-Request-ID stays): only for the test that shows the check is not blind.
	withoutKey bool

	mu      sync.Mutex
	actions map[string]int // key → final status: 2xx, 4xx, or 0 when the client gave up
	retried int64          // actions sent more than once
	resent  int64          // attempts after the first
	lost    int64          // answers dropped on purpose
}

func newRetrier(lose int) *retrier {
	return &retrier{prefix: "lr-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-", lose: lose, budget: time.Minute,
		maxWait: 5 * time.Second, actions: map[string]int{}}
}

// write sends one logical action until it is answered for good.
func (r *retrier) write(ctx context.Context, c *client, as, path string, body any) (int, []byte) {
	key := r.prefix + strconv.FormatInt(r.seq.Add(1), 36)
	// The action outlives the measurement's clock: once sent, it is seen
	// through, or its fate would be unknown.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.budget)
	defer cancel()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		status, b, wait, err := c.s.send(actx, as, "POST", path, body, key, !r.withoutKey)
		c.m.requests.Add(1)
		lost := err == nil && status != 503 && r.lose > 0 && c.rng.IntN(100) < r.lose
		if lost {
			err = errLost
		}
		if c.stats {
			if lost {
				c.m.recordAs("dropped", time.Since(start))
			} else {
				c.m.record(status, err, time.Since(start))
			}
		}
		if err == nil && status != 503 {
			r.done(key, status, attempt)
			return status, b
		}
		if wait <= 0 || lost {
			wait = time.Duration(20+rand.IntN(80)) * time.Millisecond
		}
		select {
		case <-actx.Done():
			r.done(key, 0, attempt)
			return 0, nil
		case <-time.After(min(wait, r.maxWait)):
		}
		r.mu.Lock()
		r.resent++
		if lost {
			r.lost++
		}
		r.mu.Unlock()
	}
}

var errLost = fmt.Errorf("answer dropped by --lose-answers")

func (r *retrier) done(key string, status, attempts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actions[key] = status
	if attempts > 1 {
		r.retried++
	}
}

// exactlyOnce is the fault mode's proof, one line of the report.
type exactlyOnce struct {
	Kind     string `json:"kind"` // exactly_once
	Label    string `json:"label,omitempty"`
	Actions  int    `json:"actions"`   // logical write actions sent
	Acked    int    `json:"acked"`     // answered 2xx
	Refused  int    `json:"refused"`   // answered 4xx
	GaveUp   int    `json:"gave_up"`   // never answered within the budget
	Retried  int64  `json:"retried"`   // actions sent more than once
	Resent   int64  `json:"resent"`    // attempts after the first
	Lost     int64  `json:"lost"`      // answers dropped on purpose
	Once     int    `json:"once"`      // acked actions with exactly one applied audit entry
	Missing  int    `json:"missing"`   // acked actions with none
	Twice    int    `json:"twice"`     // actions applied more than once
	Landed   int    `json:"landed"`    // refused actions applied anyway
	Unknown  int    `json:"unknown"`   // given-up actions that were applied (allowed: at most once)
	Stranger int    `json:"strangers"` // entries with this run's prefix but no action of it
	OK       bool   `json:"ok"`
}

// verify counts the applied audit entries of every key of the run.
func (r *retrier) verify(ctx context.Context, dbURL string) (exactlyOnce, error) {
	db, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		return exactlyOnce{}, fmt.Errorf("--db: %w", err)
	}
	defer func() { _ = db.Close() }()
	rows, err := db.SQL().QueryContext(ctx, "SELECT request_id, COUNT(*) FROM audit_entries WHERE request_id LIKE ? AND outcome = 'ok' "+
		"AND object_type = 'problem' GROUP BY request_id", r.prefix+"%")
	if err != nil {
		return exactlyOnce{}, fmt.Errorf("count the audit entries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	applied := map[string]int{}
	for rows.Next() {
		var (
			key string
			n   int
		)
		if err := rows.Scan(&key, &n); err != nil {
			return exactlyOnce{}, err
		}
		applied[key] = n
	}
	if err := rows.Err(); err != nil {
		return exactlyOnce{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := exactlyOnce{Kind: "exactly_once", Actions: len(r.actions), Retried: r.retried, Resent: r.resent, Lost: r.lost}
	for key, status := range r.actions {
		n := applied[key]
		if n > 1 {
			e.Twice++
		}
		switch {
		case status >= 200 && status < 300:
			e.Acked++
			switch n {
			case 0:
				e.Missing++
			case 1:
				e.Once++
			}
		case status == 0:
			e.GaveUp++
			if n == 1 {
				e.Unknown++
			}
		default:
			e.Refused++
			if n > 0 {
				e.Landed++
			}
		}
	}
	for key := range applied {
		if _, ok := r.actions[key]; !ok {
			e.Stranger++
		}
	}
	e.OK = e.Missing == 0 && e.Twice == 0 && e.Landed == 0 && e.Stranger == 0
	return e, nil
}

func (e exactlyOnce) print(w io.Writer) {
	b, _ := json.Marshal(e)
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintln(w, string(b))
	verdict := "every acknowledged action applied exactly once"
	if !e.OK {
		verdict = "VIOLATED"
	}
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintf(w, "exactly once: %s — %d actions (%d acknowledged, %d refused, %d given up), %d retried (%d resends, %d answers dropped on purpose); "+
		"applied once %d, missing %d, twice or more %d, refused but applied %d\n",
		verdict, e.Actions, e.Acked, e.Refused, e.GaveUp, e.Retried, e.Resent, e.Lost, e.Once, e.Missing, e.Twice, e.Landed)
}
