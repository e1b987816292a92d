// Package ledger writes and reads the 整改台账, the problem ledger the working
// group hands to its superiors: an .xlsx workbook (streamed with excelize's
// StreamWriter, so that a large ledger never sits in memory) or CSV, and the
// import template and its parser. It deals in display strings only; app
// decides what goes into a row and what a parsed row means.
package ledger

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rectify-team/rectify/internal/domain"
)

// Summary counts the rows written, for the summary sheet (汇总).
type Summary struct {
	Total        int
	Closed       int
	ClosedOnTime int
	Overdue      int
	ByStatus     map[string]int
	ByWarning    map[string]int
	ByUnit       map[string]int
	ByDimension  map[string]int
}

func newSummary() *Summary {
	return &Summary{ByStatus: map[string]int{}, ByWarning: map[string]int{}, ByUnit: map[string]int{}, ByDimension: map[string]int{}}
}

func (s *Summary) add(r *Record) {
	s.Total++
	if r.Closed {
		s.Closed++
		if r.ClosedOnTime {
			s.ClosedOnTime++
		}
	}
	if r.Overdue {
		s.Overdue++
	}
	s.ByStatus[r.Status]++
	warning := r.Warning
	if warning == "" {
		warning = "无"
	}
	s.ByWarning[warning]++
	s.ByUnit[r.Unit]++
	s.ByDimension[r.Dimension]++
}

// MediaTypeXLSX is the media type of an .xlsx workbook.
const MediaTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// columnWidths are the ledger's column widths, in characters.
var columnWidths = []float64{16, 28, 40, 20, 10, 8, 20, 16, 12, 36, 12, 10, 8, 10, 36, 28, 18, 10, 10, 18}

type xlsxWriter struct {
	out     io.Writer
	f       *excelize.File
	sw      *excelize.StreamWriter
	row     int
	summary *Summary
}

// NewXLSX starts a workbook on out. Rows go through excelize's StreamWriter,
// which keeps a bounded buffer in memory and spills the rest to a temporary
// file; the workbook is written to out on Close.
func NewXLSX(out io.Writer) (Writer, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", SheetLedger); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(SheetLedger)
	if err != nil {
		return nil, err
	}
	w := &xlsxWriter{out: out, f: f, sw: sw, row: 1, summary: newSummary()}
	if err := w.header(sw, Columns(), columnWidths); err != nil {
		_ = f.Close()
		return nil, err
	}
	return w, nil
}

func (w *xlsxWriter) header(sw *excelize.StreamWriter, cols []string, widths []float64) error {
	style, err := w.f.NewStyle(headerStyle())
	if err != nil {
		return err
	}
	for i, width := range widths {
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cells := make([]any, len(cols))
	for i, c := range cols {
		cells[i] = excelize.Cell{StyleID: style, Value: c}
	}
	return sw.SetRow("A1", cells, excelize.RowOpts{Height: 22})
}

func (w *xlsxWriter) Write(r *Record) error {
	w.row++
	cells := r.Cells()
	values := make([]any, len(cells))
	for i, c := range cells {
		values[i] = c // strings stay strings: a value such as =1+1 is text, never a formula
	}
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	if err := w.sw.SetRow(cell, values); err != nil {
		return fmt.Errorf("ledger row %d: %w", w.row, err)
	}
	w.summary.add(r)
	return nil
}

func (w *xlsxWriter) Close(meta Meta) (err error) {
	// Close removes the stream writers' temporary files; its failure is
	// worth reporting when the workbook itself was written.
	defer func() {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := w.sw.Flush(); err != nil {
		return err
	}
	if _, err := w.f.NewSheet(SheetSummary); err != nil {
		return err
	}
	sw, err := w.f.NewStreamWriter(SheetSummary)
	if err != nil {
		return err
	}
	if err := w.header(sw, []string{"项目", "数量"}, []float64{28, 14}); err != nil {
		return err
	}
	row := 1
	put := func(label string, value any) error {
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, []any{label, value})
	}
	for _, line := range summaryLines(meta, w.summary) {
		if err := put(line.label, line.value); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	w.f.SetActiveSheet(0)
	if err := w.f.SetDocProps(&excelize.DocProperties{Title: meta.Title, Creator: "Rectify", Created: meta.ExportedAt.Format(time.RFC3339)}); err != nil {
		return err
	}
	return w.f.Write(w.out)
}

func headerStyle() *excelize.Style {
	return &excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}}
}

type summaryLine struct {
	label string
	value any
}

// summaryLines is the content of the summary sheet: the export's particulars,
// the totals, then counts by status, warning, unit and dimension.
func summaryLines(meta Meta, s *Summary) []summaryLine {
	rate := func(n, d int) string {
		if d == 0 {
			return "—"
		}
		return strconv.FormatFloat(float64(n)*100/float64(d), 'f', 1, 64) + "%"
	}
	filter := meta.Filter
	if filter == "" {
		filter = "全部"
	}
	lines := []summaryLine{
		{"台账", meta.Title},
		{"导出时间", meta.ExportedAt.Format("2006-01-02 15:04")},
		{"导出人", meta.ExportedBy},
		{"筛选条件", filter},
		{"问题总数", s.Total},
		{domain.StatusClosed.Label(), s.Closed},
		{"按期销号", s.ClosedOnTime},
		{"超期未销号", s.Overdue},
		{"销号率", rate(s.Closed, s.Total-s.ByStatus[domain.StatusDismissed.Label()])},
		{"按期销号率", rate(s.ClosedOnTime, s.Closed)},
	}
	section := func(title string, m map[string]int, order []string) {
		lines = append(lines, summaryLine{"", ""}, summaryLine{title, ""})
		for _, k := range sortedKeys(m, order) {
			lines = append(lines, summaryLine{k, m[k]})
		}
	}
	var statuses []string
	for _, st := range domain.Statuses() {
		statuses = append(statuses, st.Label())
	}
	section("按状态", s.ByStatus, statuses)
	section("按预警", s.ByWarning, []string{domain.WarningRed.Label(), domain.WarningYellow.Label(), domain.WarningGreen.Label(), "无"})
	section("按责任单位", s.ByUnit, nil)
	section("按类别", s.ByDimension, nil)
	return lines
}

// sortedKeys lists the keys of m: those in order first, in that order, then the rest by name.
func sortedKeys(m map[string]int, order []string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(order, k); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return keys
}

type csvWriter struct {
	w *csv.Writer
}

// NewCSV starts a CSV ledger on out: UTF-8 with a byte-order mark (so that
// Excel reads the Chinese right), CRLF line ends, the same columns as the
// workbook, and no summary. Cells that a spreadsheet would run as a formula
// are prefixed with an apostrophe.
func NewCSV(out io.Writer) (Writer, error) {
	if _, err := io.WriteString(out, "\ufeff"); err != nil {
		return nil, err
	}
	w := csv.NewWriter(out)
	w.UseCRLF = true
	if err := w.Write(Columns()); err != nil {
		return nil, err
	}
	return &csvWriter{w: w}, nil
}

func (c *csvWriter) Write(r *Record) error {
	cells := r.Cells()
	for i, v := range cells {
		cells[i] = defuse(v)
	}
	if err := c.w.Write(cells); err != nil {
		return err
	}
	c.w.Flush() // stream each row out rather than buffering the ledger
	return c.w.Error()
}

func (c *csvWriter) Close(Meta) error {
	c.w.Flush()
	return c.w.Error()
}

// defuse keeps a spreadsheet from reading a cell as a formula (CSV injection).
func defuse(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
