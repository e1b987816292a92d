package ledger

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Limits of an import besides table.MaxImportRows.
const (
	MaxUnzipped  = 64 << 20 // bytes the workbook may unpack to (against zip bombs)
	headerSearch = 10       // the header row is looked for in the first rows (a title row may come first)
	maxCellRunes = 5000
)

// Parse reads the ledger sheet of an .xlsx workbook: the sheet named 整改台账,
// or else the first. The header row is the first of the first ten rows that
// has a 问题标题 column; columns are found by header, in any order, and
// unknown ones are ignored. Blank rows are skipped.
func Parse(r io.Reader) (*Sheet, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(body), excelize.Options{UnzipSizeLimit: MaxUnzipped, UnzipXMLSizeLimit: MaxUnzipped})
	if err != nil {
		return nil, &ParseError{Field: "file", Reason: "is not an .xlsx workbook (save it as Excel Workbook .xlsx; the import template shows the layout)"}
	}
	defer func() { _ = f.Close() }()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &ParseError{Field: "file", Reason: "the workbook has no sheet"}
	}
	name := sheets[0]
	if slices.Contains(sheets, SheetLedger) {
		name = SheetLedger
	}
	rows, err := f.Rows(name)
	if err != nil {
		return nil, &ParseError{Field: "file", Reason: "the sheet " + name + " cannot be read"}
	}
	defer func() { _ = rows.Close() }()
	out := &Sheet{Name: name, Columns: map[string]string{}}
	var header []string
	for n := 1; rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, &ParseError{Field: fmt.Sprintf("row %d", n), Reason: "cannot be read"}
		}
		if header == nil {
			if n > headerSearch {
				return nil, &ParseError{Field: "file", Reason: "no header row with a 问题标题 column in the first ten rows of sheet " + name}
			}
			if slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) == ColTitle }) {
				if header, err = readHeader(out, cells, n); err != nil {
					return nil, err
				}
			}
			continue
		}
		row := Row{Number: n, Cells: map[string]string{}}
		blank := true
		for i, h := range header {
			if h == "" || i >= len(cells) {
				continue
			}
			v := strings.TrimSpace(strings.ReplaceAll(cells[i], "\r\n", "\n"))
			if !utf8.ValidString(v) {
				return nil, &ParseError{Field: out.Cell(n, h), Reason: "is not valid UTF-8 text"}
			}
			if utf8.RuneCountInString(v) > maxCellRunes {
				return nil, &ParseError{Field: out.Cell(n, h), Reason: fmt.Sprintf("is longer than %d characters", maxCellRunes)}
			}
			row.Cells[h] = v
			if v != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		if len(out.Rows) == MaxImportRows {
			return nil, &ParseError{Field: "file", Reason: fmt.Sprintf("holds more than %d rows; split it into several files", MaxImportRows)}
		}
		out.Rows = append(out.Rows, row)
	}
	if err := rows.Error(); err != nil {
		return nil, &ParseError{Field: "file", Reason: "the sheet " + name + " cannot be read"}
	}
	if header == nil {
		return nil, &ParseError{Field: "file", Reason: "no header row with a 问题标题 column in sheet " + name}
	}
	return out, nil
}

// readHeader maps the importable columns of the header row; it keeps "" for the others.
func readHeader(s *Sheet, cells []string, rowNumber int) ([]string, error) {
	header := make([]string, len(cells))
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if !slices.Contains(ImportColumns(), c) {
			continue
		}
		letter, _ := excelize.ColumnNumberToName(i + 1)
		if prev, dup := s.Columns[c]; dup {
			return nil, &ParseError{Field: fmt.Sprintf("row %d", rowNumber),
				Reason: fmt.Sprintf("the column %s appears twice (%s and %s)", c, prev, letter)}
		}
		s.Columns[c] = letter
		header[i] = c
	}
	var missing []string
	for _, c := range RequiredColumns() {
		if _, ok := s.Columns[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, &ParseError{Field: fmt.Sprintf("row %d", rowNumber), Reason: "missing the column(s) " + strings.Join(missing, ", ")}
	}
	return header, nil
}

// Template writes the import template: the ledger sheet with the importable
// headers and drop-down lists for severity and source, and a guide sheet
// that explains each column and lists the accepted categories and units.
func Template(out io.Writer, g Guide) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName("Sheet1", SheetLedger); err != nil {
		return err
	}
	// A small sheet: the ordinary API, which (unlike the stream writer) keeps the drop-down lists.
	style, err := f.NewStyle(headerStyle())
	if err != nil {
		return err
	}
	header := make([]any, len(ImportColumns()))
	for i, c := range ImportColumns() {
		header[i] = c
	}
	if err := f.SetSheetRow(SheetLedger, "A1", &header); err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(len(header))
	if err := f.SetCellStyle(SheetLedger, "A1", last+"1", style); err != nil {
		return err
	}
	for i, width := range columnWidths[:len(header)] {
		name, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColWidth(SheetLedger, name, name, width); err != nil {
			return err
		}
	}
	if err := f.SetPanes(SheetLedger, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	lists := map[string][]string{ColSeverity: g.Severities, ColSource: g.Sources}
	for i, col := range ImportColumns() {
		values, ok := lists[col]
		if !ok || len(values) == 0 {
			continue
		}
		letter, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("%s2:%s%d", letter, letter, MaxImportRows+1))
		if err := dv.SetDropList(values); err != nil {
			return err
		}
		if err := f.AddDataValidation(SheetLedger, dv); err != nil {
			return err
		}
	}
	if _, err := f.NewSheet(SheetGuide); err != nil {
		return err
	}
	guide := [][]any{
		{"列", "必填", "说明"},
		{ColCode, "否", "留空则自动编号（WT-年份-序号）；填写已有编号且标题、责任单位相同的行视为已导入，跳过"},
		{ColTitle, "是", "问题的简要表述，至多 200 字"},
		{ColDescription, "否", "问题的具体表现"},
		{ColCategory, "是", "类别编码（如 SXZZ-01）、路径（如 思想政治/学习意识）或唯一的类别名称，见下表"},
		{ColSeverity, "是", "一般、较重 或 严重"},
		{ColSource, "是", "自查、抽查、检查、督查 或 反映"},
		{ColUnit, "是", "单位路径（如 中心/部门/一班）或唯一的单位名称，见下表"},
		{ColAssignee, "否", "填写则同时交办（需工作小组权限）：用户名，或 姓名 (用户名)，或唯一的姓名"},
		{ColFoundAt, "否", "发现问题的日期，如 2026-03-02；留空为导入当天"},
		{ColMeasures, "交办时必填", "整改措施"},
		{ColDeadline, "否", "整改时限，如 2026-04-01；交办时留空按严重程度默认（一般 30 天、较重 15 天、严重 7 天）"},
		{"", "", ""},
		{"说明", "", fmt.Sprintf("每个文件至多 %d 行；任何一行有误则整个文件不导入，并逐行逐列列出错误；同一文件重复上传不会重复登记。", MaxImportRows)},
		{"", "", ""},
		{"类别", "", ""},
	}
	for _, c := range g.Categories {
		guide = append(guide, []any{"", "", c})
	}
	guide = append(guide, []any{"", "", ""}, []any{"责任单位", "", ""})
	for _, u := range g.Units {
		guide = append(guide, []any{"", "", u})
	}
	for i, row := range guide {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(SheetGuide, cell, &row); err != nil {
			return err
		}
	}
	for col, width := range map[string]float64{"A": 12, "B": 10, "C": 90} {
		if err := f.SetColWidth(SheetGuide, col, col, width); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(out)
}
