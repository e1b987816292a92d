// Package table is the 整改台账 without a file format: its columns, a
// rendered record, the writer the use cases fill, a parsed import's rows and
// the reading of its cells. The ledger package writes and reads it as .xlsx
// or CSV; the use cases need only this.
package table

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits of an import.
const (
	MaxImportRows  = 5000  // data rows in one file; split larger lists
	excelEpochDays = 25569 // days from 1899-12-30 (Excel's day 0) to 1970-01-01
)

// Column headers, in the ledger's order. The first eleven can be imported;
// the rest are the ledger's record of progress and are ignored on import.
const (
	ColCode        = "编号"
	ColTitle       = "问题标题"
	ColDescription = "问题描述"
	ColCategory    = "类别"
	ColSeverity    = "严重程度"
	ColSource      = "来源"
	ColUnit        = "责任单位"
	ColAssignee    = "责任人"
	ColFoundAt     = "发现日期"
	ColMeasures    = "整改措施"
	ColDeadline    = "整改时限"
	ColStatus      = "状态"
	ColWarning     = "预警"
	ColPercent     = "整改进度"
	ColFix         = "整改情况"
	ColVerdict     = "验收意见"
	ColClosedAt    = "销号时间"
	ColReworks     = "退回次数"
	ColExtensions  = "延期次数"
	ColCreatedAt   = "登记时间"
)

// Columns lists every column of the ledger, in order.
func Columns() []string {
	return []string{ColCode, ColTitle, ColDescription, ColCategory, ColSeverity, ColSource, ColUnit, ColAssignee,
		ColFoundAt, ColMeasures, ColDeadline, ColStatus, ColWarning, ColPercent, ColFix, ColVerdict, ColClosedAt,
		ColReworks, ColExtensions, ColCreatedAt}
}

// ImportColumns lists the columns an import reads; the others are ignored.
func ImportColumns() []string { return Columns()[:11] }

// RequiredColumns are the columns an import cannot do without.
func RequiredColumns() []string {
	return []string{ColTitle, ColCategory, ColSeverity, ColSource, ColUnit}
}

// Record is one problem of the ledger, every cell already rendered.
type Record struct {
	Code, Title, Description, Category, Severity, Source, Unit, Assignee, FoundAt, Measures, Deadline string
	Status, Warning, Percent, Fix, Verdict, ClosedAt, Reworks, Extensions, CreatedAt                  string

	// For the summary sheet.
	Dimension    string // the top-level category (the plan's four dimensions)
	Overdue      bool
	Closed       bool
	ClosedOnTime bool
}

// Cells are the record's cells in the ledger's column order.
func (r *Record) Cells() []string {
	return []string{r.Code, r.Title, r.Description, r.Category, r.Severity, r.Source, r.Unit, r.Assignee, r.FoundAt,
		r.Measures, r.Deadline, r.Status, r.Warning, r.Percent, r.Fix, r.Verdict, r.ClosedAt, r.Reworks, r.Extensions,
		r.CreatedAt}
}

// Meta describes an export for its summary sheet.
type Meta struct {
	Title      string    // 整改台账
	ExportedAt time.Time // in the organisation's zone
	ExportedBy string
	Filter     string // the list's filters, as given
}

// Writer writes a ledger row by row.
type Writer interface {
	Write(r *Record) error
	// Close writes what follows the rows (the summary sheet) and flushes everything.
	Close(meta Meta) error
}

// Sheet names of the workbook.
const (
	SheetLedger  = "整改台账"
	SheetSummary = "汇总"
	SheetGuide   = "填写说明"
)

// Row is one data row of an imported sheet: its number in the sheet (as the
// spreadsheet shows it) and its cells by column header.
type Row struct {
	Number int
	Cells  map[string]string
}

// Get returns the trimmed cell under a header.
func (r Row) Get(col string) string { return r.Cells[col] }

// Sheet is a parsed import.
type Sheet struct {
	Name    string
	Columns map[string]string // header → column letter, for error messages
	Rows    []Row
}

// Cell names a cell for an error message: "第 5 行 C 列（类别）".
func (s *Sheet) Cell(row int, col string) string {
	letter := s.Columns[col]
	if letter == "" {
		return fmt.Sprintf("row %d, %s", row, col)
	}
	return fmt.Sprintf("row %d, column %s (%s)", row, letter, col)
}

// ParseError is an import that cannot be read at all; Field names where.
type ParseError struct {
	Field  string
	Reason string
}

func (e *ParseError) Error() string { return e.Field + ": " + e.Reason }

// RowHash identifies a row's content: the SHA-256 of its importable cells.
// The same row uploaded again has the same hash, so it is not created twice.
func RowHash(r Row) string {
	h := sha256.New()
	for _, c := range ImportColumns() {
		v := r.Cells[c]
		// a hash's Write never fails
		_, _ = fmt.Fprintf(h, "%s=%d:%s\x1f", c, len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var (
	dateDash    = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	dateHan     = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})日?$`)
	excelSerial = regexp.MustCompile(`^\d{1,6}(\.\d+)?$`)
)

// ParseDate reads a date cell: 2026-03-02, 2026/3/2, 2026.3.2, 2026年3月2日,
// or an Excel date serial number (a cell formatted as a date).
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := dateDash.FindStringSubmatch(s); m != nil {
		return ymd(m[1], m[2], m[3])
	}
	if m := dateHan.FindStringSubmatch(s); m != nil {
		return ymd(m[1], m[2], m[3])
	}
	if excelSerial.MatchString(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f >= 1 && f < 2958466 { // 1900-01-01 to 9999-12-31
			days := int64(math.Floor(f)) - excelEpochDays
			return time.Unix(days*86400, 0).UTC(), nil
		}
	}
	return time.Time{}, errors.New("is not a date; write it as 2026-03-02")
}

func ymd(y, m, d string) (time.Time, error) {
	year, _ := strconv.Atoi(y)
	month, _ := strconv.Atoi(m)
	day, _ := strconv.Atoi(d)
	t := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if year < 1900 || t.Year() != year || int(t.Month()) != month || t.Day() != day {
		return time.Time{}, errors.New("is not a calendar date")
	}
	return t, nil
}

// Guide is what the import template lists as the accepted values.
type Guide struct {
	Categories []string // e.g. SXZZ-01 思想政治/学习意识
	Units      []string // e.g. 中心/部门/一班
	Severities []string
	Sources    []string
}
