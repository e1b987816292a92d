package app

import (
	"context"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// marginRepo serves the board's index a fixed set of problems and records
// from when each refresh probed.
type marginRepo struct {
	StatsRepo // nil: the index calls nothing else
	rows      []BoardRow
	probes    []time.Time
}

func (r *marginRepo) BoardRows(_ context.Context, q BoardRowsQuery) ([]BoardRow, error) {
	var out []BoardRow
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

func (r *marginRepo) BoardVersions(_ context.Context, since time.Time) ([]BoardVersion, error) {
	r.probes = append(r.probes, since)
	var out []BoardVersion
	for _, row := range r.rows {
		if !row.UpdatedAt.Before(since) {
			out = append(out, BoardVersion{ID: row.ID, Version: row.Version, UpdatedAt: row.UpdatedAt})
		}
	}
	return out, nil
}

// The refresh reads again the changes of the database timeout and a minute
// before the latest it has seen — a change that commits that late is still
// caught — and no further back; without a known timeout, a quarter of an hour.
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

	mark := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	row := func(id int64, version int64, at time.Time) BoardRow {
		return BoardRow{ID: id, Status: domain.StatusRegistered, Severity: domain.SeverityGeneral, Version: version, UpdatedAt: at}
	}
	repo := &marginRepo{rows: []BoardRow{row(1, 1, mark.Add(-time.Hour)), row(2, 1, mark)}}
	s := New(nil, nil, Config{TxWithin: 10 * time.Second})
	ctx := context.Background()
	if err := s.board.update(ctx, repo); err != nil { // the load
		t.Fatal(err)
	}
	// Problem 1 changes in a transaction that read its clock 65 s before the
	// latest change seen and committed only now.
	repo.rows[0] = row(1, 2, mark.Add(-65*time.Second))
	if err := s.board.update(ctx, repo); err != nil {
		t.Fatal(err)
	}
	if len(repo.probes) != 1 || !repo.probes[0].Equal(mark.Add(-70*time.Second)) {
		t.Fatalf("probed from %v, want the latest change seen less 70 s", repo.probes)
	}
	if rec, ok := s.board.get(1); !ok || rec.version != 2 {
		t.Fatalf("the late commit was missed: %+v %v", rec, ok)
	}
}
