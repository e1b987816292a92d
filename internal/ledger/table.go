package ledger

import "github.com/rectify-team/rectify/internal/ledger/table"

// The ledger's format-free parts live in package table, so that the use
// cases need no file format; these names let the formats' callers use one
// import.
type (
	Record     = table.Record
	Meta       = table.Meta
	Writer     = table.Writer
	Row        = table.Row
	Sheet      = table.Sheet
	ParseError = table.ParseError
	Guide      = table.Guide
)

// Column headers and sheet names (table's).
const (
	ColCode        = table.ColCode
	ColTitle       = table.ColTitle
	ColDescription = table.ColDescription
	ColCategory    = table.ColCategory
	ColSeverity    = table.ColSeverity
	ColSource      = table.ColSource
	ColUnit        = table.ColUnit
	ColAssignee    = table.ColAssignee
	ColFoundAt     = table.ColFoundAt
	ColMeasures    = table.ColMeasures
	ColDeadline    = table.ColDeadline
	ColStatus      = table.ColStatus
	ColWarning     = table.ColWarning
	ColPercent     = table.ColPercent
	ColFix         = table.ColFix
	ColVerdict     = table.ColVerdict
	ColClosedAt    = table.ColClosedAt
	ColReworks     = table.ColReworks
	ColExtensions  = table.ColExtensions
	ColCreatedAt   = table.ColCreatedAt

	SheetLedger  = table.SheetLedger
	SheetSummary = table.SheetSummary
	SheetGuide   = table.SheetGuide

	MaxImportRows = table.MaxImportRows
)

// Columns and the reading of cells (table's).
var (
	Columns         = table.Columns
	ImportColumns   = table.ImportColumns
	RequiredColumns = table.RequiredColumns
	RowHash         = table.RowHash
	ParseDate       = table.ParseDate
)
