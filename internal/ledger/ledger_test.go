package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func sheetBytes(t testing.TB, sheet string, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseFindsHeaderAndColumns(t *testing.T) {
	body := sheetBytes(t, SheetLedger,
		[]any{"某单位作风建设问题整改台账"}, // a title row above the header
		[]any{},
		[]any{"备注", "问题标题", "类别", "来源", "责任单位", "严重程度", "发现日期"}, // any order; 备注 is ignored
		[]any{"x", "  标题一 ", "SXZZ-01", "自查", "一班", "一般", 46083},
		[]any{"", "", "", "", "", "", ""},
		[]any{"y", "标题二", "SXZZ-02", "检查", "二班", "较重", "2026-03-03"},
	)
	s, err := Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 2 || s.Rows[0].Number != 4 || s.Rows[1].Number != 6 {
		t.Fatalf("rows %+v", s.Rows)
	}
	if s.Rows[0].Get(ColTitle) != "标题一" || s.Rows[0].Get(ColUnit) != "一班" || s.Rows[0].Get("备注") != "" {
		t.Errorf("row %+v", s.Rows[0])
	}
	if d, err := ParseDate(s.Rows[0].Get(ColFoundAt)); err != nil || d.Format(time.DateOnly) != "2026-03-02" {
		t.Errorf("an Excel date serial: %v %v (%q)", d, err, s.Rows[0].Get(ColFoundAt))
	}
	if got := s.Cell(4, ColCategory); got != "row 4, column C (类别)" {
		t.Errorf("cell name %q", got)
	}
}

func TestParseRefuses(t *testing.T) {
	many := [][]any{{"问题标题", "类别", "严重程度", "来源", "责任单位"}}
	for i := range MaxImportRows + 1 {
		many = append(many, []any{fmt.Sprint("t", i), "c", "一般", "自查", "u"})
	}
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"not a workbook", []byte("PK\x03\x04 not really"), "is not an .xlsx workbook"},
		{"no header", sheetBytes(t, "Sheet1", []any{"a"}, []any{"b"}), "no header row"},
		{"header too low", sheetBytes(t, "Sheet1", []any{}, []any{}, []any{}, []any{}, []any{}, []any{}, []any{}, []any{},
			[]any{}, []any{}, []any{"x"}, []any{"问题标题", "类别", "严重程度", "来源", "责任单位"}), "no header row"},
		{"missing columns", sheetBytes(t, "Sheet1", []any{"问题标题", "类别"}), "missing the column(s) 严重程度, 来源, 责任单位"},
		{"twice", sheetBytes(t, "Sheet1", []any{"问题标题", "类别", "严重程度", "来源", "责任单位", "类别"}), "the column 类别 appears twice (B and F)"},
		{"too many rows", sheetBytes(t, "Sheet1", many...), "more than 5000 rows"},
	} {
		_, err := Parse(bytes.NewReader(c.body))
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-02": "2026-03-02", "2026/3/2": "2026-03-02", "2026.03.02": "2026-03-02", "2026年3月2日": "2026-03-02",
		"2026年12月31": "2026-12-31", "46083": "2026-03-02", "46083.75": "2026-03-02", "2024-02-29": "2024-02-29",
	} {
		d, err := ParseDate(in)
		if err != nil || d.Format(time.DateOnly) != want {
			t.Errorf("ParseDate(%q) = %v %v, want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "昨天", "2026-02-30", "2025-02-29", "3/2/2026", "0", "99999999", "2026-3"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}

func TestRowHash(t *testing.T) {
	a := Row{Number: 2, Cells: map[string]string{ColTitle: "t", ColCategory: "c", "备注": "ignored"}}
	b := Row{Number: 9, Cells: map[string]string{ColTitle: "t", ColCategory: "c"}}
	c := Row{Cells: map[string]string{ColTitle: "tc", ColCategory: ""}}
	if RowHash(a) != RowHash(b) {
		t.Error("the row number or an ignored column changes the hash")
	}
	if RowHash(a) == RowHash(c) {
		t.Error("moving text between cells keeps the hash")
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{Code: "WT-2026-000001", Title: "=HYPERLINK(\"http://x\")", Description: "-1", Measures: "@SUM"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(Meta{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeff编号,问题标题") || !strings.Contains(out, `"'=HYPERLINK(""http://x"")",'-1`) ||
		!strings.Contains(out, "'@SUM") || !strings.HasSuffix(out, "\r\n") {
		t.Errorf("csv %q", out)
	}
}

func TestXLSXAndTemplateOpen(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Write(&Record{Code: fmt.Sprintf("WT-2026-%06d", i+1), Title: "=1+1", Status: "整改中", Unit: "一班",
			Dimension: "思想政治", Overdue: i == 0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(Meta{Title: "整改台账", ExportedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), ExportedBy: "leader"}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows, _ := f.GetRows(SheetLedger)
	if len(rows) != 4 || rows[1][1] != "=1+1" {
		t.Errorf("rows %v", rows)
	}
	if formula, _ := f.GetCellFormula(SheetLedger, "B2"); formula != "" {
		t.Errorf("a title became the formula %q", formula)
	}
	sum, _ := f.GetRows(SheetSummary)
	if !slices.ContainsFunc(sum, func(r []string) bool { return len(r) == 2 && r[0] == "超期未销号" && r[1] == "1" }) {
		t.Errorf("summary %v", sum)
	}

	buf.Reset()
	if err := Template(&buf, Guide{Categories: []string{"SXZZ-01  思想政治/学习意识"}, Units: []string{"中心/部门/一班"},
		Severities: []string{"一般", "较重", "严重"}, Sources: []string{"自查"}}); err != nil {
		t.Fatal(err)
	}
	template := slices.Clone(buf.Bytes())
	tf, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tf.Close() }() // read-only
	header, _ := tf.GetRows(SheetLedger)
	if len(header) != 1 || !slices.Equal(header[0], ImportColumns()) {
		t.Errorf("template header %v", header)
	}
	dvs, err := tf.GetDataValidations(SheetLedger)
	if err != nil || len(dvs) != 2 {
		t.Errorf("drop-down lists: %v %d", err, len(dvs))
	}
	guide, _ := tf.GetRows(SheetGuide)
	if !slices.ContainsFunc(guide, func(r []string) bool { return len(r) == 3 && r[2] == "中心/部门/一班" }) {
		t.Errorf("guide %v", guide)
	}
	// The template parses as an empty import.
	s, err := Parse(bytes.NewReader(template))
	if err != nil || len(s.Rows) != 0 {
		t.Errorf("template parse: %v %+v", err, s)
	}
}
