package app

// LedgerPageSize is how many problems the export reads at a time.
const LedgerPageSize = 500

// ImportResult reports an import.
type ImportResult struct {
	ImportID   int64
	FileSHA256 string
	Rows       int
	Created    []ImportedProblem
	Skipped    []SkippedRow
}

// ImportedProblem is a problem an import created.
type ImportedProblem struct {
	Row      int
	ID       int64
	Code     string
	Assigned bool
}

// SkippedRow is a row an import did not create, and why: it was imported
// before, or it repeats a row above, or its code names the same problem here.
type SkippedRow struct {
	Row       int
	Reason    string
	ProblemID int64
}
