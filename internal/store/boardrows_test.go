package store_test

import (
	"reflect"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// The board's rows, scanned by hand, carry every field of the problems as
// Get reads them, and the earliest milestone not done, whichever way they
// are read: the full load by pages, by ids, or changed since an instant.
func TestBoardRowsCarryTheProblems(t *testing.T) {
	t.Parallel()
	w := newScanWorld(t)
	ctx := t.Context()
	want := map[int64]app.BoardRow{}
	var ids []int64
	for _, p := range w.problems {
		got, err := w.db.Read().Problems.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		row := app.BoardRow{ID: got.ID, Status: got.Status, UnitID: got.UnitID, CategoryID: got.CategoryID, Severity: got.Severity,
			Source: got.Source, AssigneeID: got.AssigneeID, Deadline: got.Deadline, ClosedOnTime: got.ClosedOnTime,
			ReworkCount: got.ReworkCount, ReopenCount: got.ReopenCount, ExtensionCount: got.ExtensionCount, Version: got.Version,
			CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt, AssignedAt: got.AssignedAt, SubmittedAt: got.SubmittedAt,
			ClosedAt: got.ClosedAt}
		for _, m := range got.Milestones { // by due date
			if !m.Done {
				row.MilestoneDue = m.Due
				break
			}
		}
		want[got.ID] = row
		ids = append(ids, got.ID)
	}
	check := func(how string, rows []app.BoardRow) {
		t.Helper()
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows, want %d", how, len(rows), len(want))
		}
		for _, r := range rows {
			if !reflect.DeepEqual(r, want[r.ID]) {
				t.Errorf("%s: problem %d\n got  %+v\n want %+v", how, r.ID, r, want[r.ID])
			}
		}
	}
	var paged []app.BoardRow
	for after := int64(0); ; {
		rows, err := w.db.Read().Stats.BoardRows(ctx, app.BoardRowsQuery{AfterID: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, rows...)
		if len(rows) < 4 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	check("by pages", paged)
	byIDs, err := w.db.Read().Stats.BoardRows(ctx, app.BoardRowsQuery{IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	check("by ids", byIDs)
	since, err := w.db.Read().Stats.BoardRows(ctx, app.BoardRowsQuery{UpdatedSince: t0})
	if err != nil {
		t.Fatal(err)
	}
	check("since", since)
	var some bool
	for _, r := range want {
		some = some || r.MilestoneDue != (domain.Date{}) && r.ClosedAt != nil && r.AssigneeID != 0
	}
	if !some {
		t.Fatal("the data has no problem with every field set")
	}
}
