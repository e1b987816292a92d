package ledger

import (
	"github.com/rectify-team/rectify/internal/ledger/table"
	"io"
)

// The adapters this capability uses, implemented outside the use cases.

// WorkbookReader reads an uploaded ledger workbook into rows (ledger.Parse);
// what is wrong with the file itself is a *table.ParseError.
type WorkbookReader func(io.Reader) (*table.Sheet, error)
