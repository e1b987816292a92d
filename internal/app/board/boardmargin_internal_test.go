package board

import (
	"context"
	"github.com/rectify-team/rectify/internal/app"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// marginRepo serves the board's index a fixed set of problems and records
// from when each refresh probed.
type marginRepo struct {
	app.StatsRepo // nil: the index calls nothing else
	rows          []app.BoardRow
	probes        []time.Time
	found         []int // how many versions each probe returned
}

func (r *marginRepo) BoardRows(_ context.Context, q app.BoardRowsQuery) ([]app.BoardRow, error) {
	var out []app.BoardRow
	for _, row := range r.rows {
		if q.IDs != nil {
			for _, id := range q.IDs {
				if id == row.ID {
					out = append(out, row)
				}
			}
			continue
		}
		if row.ID > q.AfterID {
			out = append(out, row)
		}
	}
	return out, nil
}

func (r *marginRepo) BoardVersions(_ context.Context, since time.Time) ([]app.BoardVersion, error) {
	r.probes = append(r.probes, since)
	var out []app.BoardVersion
	for _, row := range r.rows {
		if !row.UpdatedAt.Before(since) {
			out = append(out, app.BoardVersion{ID: row.ID, Version: row.Version})
		}
	}
	r.found = append(r.found, len(out))
	return out, nil
}

// The refresh reads again the changes of the database timeout and a minute
// before the clock reading that preceded the previous read of the database —
// a change that commits that late is still caught — and no further back;
// without a known timeout, a quarter of an hour. Once no change has been made
// for a margin, a refresh probes nothing, however many changes came before.
func TestBoardRefreshMarginFollowsTheTransactionBound(t *testing.T) {
	if got := refreshMargin(10 * time.Second); got != 70*time.Second {
		t.Fatalf("margin for 10 s: %v", got)
	}
	if got := refreshMargin(10 * time.Minute); got != 11*time.Minute {
		t.Fatalf("margin for 10 min: %v", got)
	}
	if got := refreshMargin(0); got != boardRefreshMargin {
		t.Fatalf("margin for an unknown bound: %v, want %v", got, boardRefreshMargin)
	}

	t0 := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	clock := t0
	row := func(id int64, version int64, at time.Time) app.BoardRow {
		return app.BoardRow{ID: id, Status: domain.StatusRegistered, Severity: domain.SeverityGeneral, Version: version, UpdatedAt: at}
	}
	repo := &marginRepo{rows: []app.BoardRow{row(1, 1, t0.Add(-time.Hour)), row(2, 1, t0)}}
	s := New(app.NewCore(nil, nil, app.Config{TxWithin: 10 * time.Second}, app.Options{Clock: func() time.Time { return clock }}))
	ctx := context.Background()
	if err := s.board.update(ctx, repo); err != nil { // the load, at t0
		t.Fatal(err)
	}
	// Problem 1 changes in a transaction that read its clock 65 s before the
	// load and committed after it.
	repo.rows[0] = row(1, 2, t0.Add(-65*time.Second))
	clock = t0.Add(5 * time.Second)
	if err := s.board.update(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if len(repo.probes) != 1 || !repo.probes[0].Equal(t0.Add(-70*time.Second)) {
		t.Fatalf("probed from %v, want the load's clock less 70 s", repo.probes)
	}
	if rec, ok := s.board.get(1); !ok || rec.version != 2 {
		t.Fatalf("the late commit was missed: %+v %v", rec, ok)
	}

	// A burst of changes, then quiet: the refresh right after reads the burst
	// again (it may have missed late commits); a margin later nothing is probed.
	for i := int64(3); i < 103; i++ {
		repo.rows = append(repo.rows, row(i, 1, clock))
	}
	clock = clock.Add(time.Second)
	if err := s.board.update(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if len(s.board.records) != 102 {
		t.Fatalf("the burst was not read: %d records", len(s.board.records))
	}
	for _, wait := range []time.Duration{30 * time.Second, 60 * time.Second, 2 * time.Minute} {
		clock = clock.Add(wait)
		if err := s.board.update(ctx, repo); err != nil {
			t.Fatal(err)
		}
	}
	last := repo.found[len(repo.found)-1]
	if last != 0 {
		t.Fatalf("the refresh %v after the burst still probed %d changes; want none", clock.Sub(t0), last)
	}
	if got := repo.found[len(repo.found)-3]; got != 101 { // the burst, and problem 2 changed at t0
		t.Fatalf("the refresh 30 s after the burst probed %d changes, want the burst's 100 and problem 2", got)
	}
}
