package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/rectify-team/rectify/internal/app"
)

// DefaultCodeBlock is how many problem codes an instance reserves at a time.
const DefaultCodeBlock = 100

// codeBlocks hands out problem codes (WT-YYYY-NNNNNN) from blocks of the
// year's counter that this instance reserved in short transactions of their
// own. A registration then writes no row that every other registration writes
// too: the counter row is touched once per block, not once per problem, so
// neither one MariaDB nor a Galera cluster (where two nodes updating one row
// at once make one of them fail certification) serialises registrations on
// it. Codes are unique and increase per year on each instance; numbers of a
// block an instance did not use before it stopped, and codes of registrations
// that failed, are gaps.
type codeBlocks struct {
	size  int64
	sem   chan struct{} // held while a block is reserved
	mu    sync.Mutex    // guards years; never held across a statement
	years map[int]*codeBlock
}

type codeBlock struct{ next, end int64 } // next ≤ end: numbers left

func newCodeBlocks(size int) *codeBlocks {
	if size <= 0 {
		size = DefaultCodeBlock
	}
	return &codeBlocks{size: int64(size), sem: make(chan struct{}, 1), years: map[int]*codeBlock{}}
}

// ProblemCode returns the next code of year for a problem about to be
// registered. It runs outside the registration's transaction: a block is
// reserved in a transaction of its own (retried on deadlocks like any other),
// so a registration never waits for, or holds, the counter's row lock.
func (db *DB) ProblemCode(ctx context.Context, year int) (string, error) {
	seq, err := db.codes.take(ctx, year, func(n int64) (int64, error) {
		var first int64
		err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
			var err error
			first, err = r.Ledger.ReserveCodes(ctx, year, n)
			return err
		})
		return first, err
	})
	if err != nil {
		return "", fmt.Errorf("next problem code: %w", err)
	}
	return fmt.Sprintf("WT-%d-%06d", year, seq), nil
}

// take returns the next number of year's block, reserving a new block with
// reserve when the current one is used up (one reservation at a time).
func (c *codeBlocks) take(ctx context.Context, year int, reserve func(n int64) (int64, error)) (int64, error) {
	if seq, ok := c.next(year); ok {
		return seq, nil
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", app.ErrUnavailable, ctx.Err())
	}
	defer func() { <-c.sem }()
	if seq, ok := c.next(year); ok { // reserved by whoever held sem before
		return seq, nil
	}
	first, err := reserve(c.size)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.years[year] = &codeBlock{next: first + 1, end: first + c.size - 1}
	return first, nil
}

func (c *codeBlocks) next(year int) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.years[year]
	if b == nil || b.next > b.end {
		return 0, false
	}
	b.next++
	return b.next - 1, true
}

// drop forgets what is left of year's block: a code of it was found taken
// (an import kept codes above the counter), so the rest may be taken too.
func (c *codeBlocks) drop(year int) {
	c.mu.Lock()
	delete(c.years, year)
	c.mu.Unlock()
}
