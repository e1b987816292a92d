package evidence

import (
	"errors"
	"slices"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestDistinctIDs(t *testing.T) {
	t.Parallel()
	// Order kept, duplicates dropped.
	got, err := DistinctIDs("attachment_ids", []int64{3, 1, 3, 2, 1, 3}, 3)
	if err != nil || !slices.Equal(got, []int64{3, 1, 2}) {
		t.Fatalf("got %v, %v", got, err)
	}
	// Any number of copies of the bound's worth of ids is fine ...
	many := slices.Repeat([]int64{5, 6}, 100_000)
	if got, err = DistinctIDs("attachment_ids", many, 2); err != nil || !slices.Equal(got, []int64{5, 6}) {
		t.Fatalf("copies: %v, %v", got, err)
	}
	// ... one distinct id past it is refused, naming the field.
	_, err = DistinctIDs("milestone_ids", []int64{1, 2, 1, 3}, 2)
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "milestone_ids" {
		t.Fatalf("over the bound: %v", err)
	}
	if got, err = DistinctIDs("x", nil, 2); err != nil || got != nil {
		t.Fatalf("none: %v, %v", got, err)
	}
}

// The de-duplication does a bounded amount of work per id: it never holds
// more than max+1 ids, whatever the list's length, so a list of 150,000
// distinct ids costs one look-up per id up to the bound, not a scan of all
// kept ids per id: it stops at the first id past the bound.
func TestDistinctIDsStopsAtTheBound(t *testing.T) {
	t.Parallel()
	const n, max = 150_000, domain.MaxAttachmentsPerAction
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	examined := 0
	counted := func(yield func(int64) bool) {
		for _, id := range ids {
			examined++
			if !yield(id) {
				return
			}
		}
	}
	if _, err := distinctSeq("attachment_ids", counted, n, max); err == nil {
		t.Fatal("150,000 distinct ids accepted")
	}
	if examined != max+1 {
		t.Fatalf("examined %d ids, want %d: the de-duplication must stop at the first id past the bound", examined, max+1)
	}
}
