// Package ledger is the 整改台账: exporting the problems a filter selects,
// page by page, to a ledger writer, and importing a workbook of problems
// registered elsewhere. The file formats live in internal/ledger; this
// package sees rows, never a file.
package ledger

import (
	"context"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// ProblemLister is the problem list as the lifecycle answers it, scoped to the caller.
type ProblemLister interface {
	Problems(ctx context.Context, c app.Caller, f app.ProblemFilter) ([]*domain.Problem, bool, error)
}

// Service is the ledger's use cases.
type Service struct {
	core      *app.Core
	store     app.Store
	cfg       app.Config
	problems  ProblemLister
	workbooks WorkbookReader // reads uploaded workbooks (ledger.Parse); nil: imports unavailable
}

// New builds the ledger's use cases on core; problems lists what an export
// holds, workbooks reads imports.
func New(core *app.Core, problems ProblemLister, workbooks WorkbookReader) *Service {
	return &Service{core: core, store: core.Store(), cfg: core.Config(), problems: problems, workbooks: workbooks}
}
