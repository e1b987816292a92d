package app_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
)

// exportXLSX exports the ledger as who sees it and reads the workbook back.
func exportXLSX(t *testing.T, svc *wire.Services, c app.Caller, f app.ProblemFilter, pageSize int) (rows [][]string, summary map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	w, err := ledger.NewXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ledger.ExportLedger(t.Context(), c, f, pageSize, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ledger.Meta{Title: "整改台账", ExportedAt: svc.Core.Now(), ExportedBy: c.Actor.Name}); err != nil {
		t.Fatal(err)
	}
	return readWorkbook(t, buf.Bytes())
}

func readWorkbook(t *testing.T, b []byte) ([][]string, map[string]string) {
	t.Helper()
	wb, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the export is not a workbook: %v", err)
	}
	defer func() { _ = wb.Close() }() // read-only
	if got := wb.GetSheetList(); !slices.Equal(got, []string{ledger.SheetLedger, ledger.SheetSummary}) {
		t.Fatalf("sheets %v", got)
	}
	rows, err := wb.GetRows(ledger.SheetLedger)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], ledger.Columns()) {
		t.Fatalf("header %v, want %v", rows, ledger.Columns())
	}
	for i := range rows {
		for len(rows[i]) < len(ledger.Columns()) { // excelize drops trailing empty cells
			rows[i] = append(rows[i], "")
		}
	}
	sum, err := wb.GetRows(ledger.SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	summary := map[string]string{}
	for _, r := range sum {
		if len(r) == 2 {
			summary[r[0]] = r[1]
		}
	}
	return rows[1:], summary
}

func col(name string) int { return slices.Index(ledger.Columns(), name) }

func TestLedgerExportMatchesList(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	list, _, err := b.svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	rows, summary := exportXLSX(t, b.svc, e.Caller("leader"), app.ProblemFilter{}, 3) // three pages of three
	if len(rows) != len(list) || len(rows) != 7 {
		t.Fatalf("%d rows, the list has %d", len(rows), len(list))
	}
	unitPath := map[int64]string{e.Units["一班"].ID: "中心/部门/一班", e.Units["二班"].ID: "中心/部门/二班", e.Units["部门"].ID: "中心/部门"}
	for i, p := range list {
		r := rows[i]
		want := map[string]string{ledger.ColCode: p.Code, ledger.ColTitle: p.Title, ledger.ColDescription: p.Description,
			ledger.ColStatus: p.Status.Label(), ledger.ColUnit: unitPath[p.UnitID], ledger.ColDeadline: p.Deadline.String(),
			ledger.ColFoundAt: p.FoundAt.String(), ledger.ColMeasures: p.Measures}
		for c, v := range want {
			if r[col(c)] != v {
				t.Errorf("row %d (%s) %s = %q, want %q", i+2, p.Title, c, r[col(c)], v)
			}
		}
	}
	byTitle := map[string][]string{}
	for _, r := range rows {
		byTitle[r[col(ledger.ColTitle)]] = r
	}
	for _, c := range []struct{ title, column, want string }{
		{"P1", ledger.ColCategory, "思想政治/学习意识"}, {"P1", ledger.ColSeverity, "一般"}, {"P1", ledger.ColSource, "检查"},
		{"P1", ledger.ColAssignee, "owner1"}, {"P1", ledger.ColWarning, "绿灯"}, {"P1", ledger.ColFix, "已整改"},
		{"P1", ledger.ColVerdict, "同意销号"}, {"P1", ledger.ColClosedAt, "2026-03-06 09:00"}, {"P1", ledger.ColPercent, "0%"},
		{"P2", ledger.ColFix, "补充记录"}, {"P2", ledger.ColVerdict, "验收通过"}, {"P2", ledger.ColWarning, "红灯"},
		{"P2", ledger.ColReworks, "1"}, {"P3", ledger.ColExtensions, "1"}, {"P3", ledger.ColWarning, "黄灯"},
		{"P4", ledger.ColWarning, "红灯"}, {"P6", ledger.ColWarning, ""}, {"P6", ledger.ColAssignee, ""},
		{"P7", ledger.ColFix, ""}, {"P7", ledger.ColVerdict, ""}, // reopened: the earlier fix no longer stands
		{"P5", ledger.ColStatus, "不予立项"}, {"P7", ledger.ColCreatedAt, "2026-03-02 09:00"},
	} {
		if got := byTitle[c.title][col(c.column)]; got != c.want {
			t.Errorf("%s %s = %q, want %q", c.title, c.column, got, c.want)
		}
	}
	for k, v := range map[string]string{"问题总数": "7", "已销号": "2", "按期销号": "1", "超期未销号": "1", "销号率": "33.3%"} {
		if summary[k] != v {
			t.Errorf("summary %s = %q, want %q", k, summary[k], v)
		}
	}
	if summary["中心/部门/一班"] != "4" || summary["思想政治"] != "4" || summary["红灯"] != "2" {
		t.Errorf("summary %v", summary)
	}

	// The list's filters and the caller's scope apply.
	rows, _ = exportXLSX(t, b.svc, e.Caller("leader"), app.ProblemFilter{UnitID: e.Units["二班"].ID}, 500)
	if len(rows) != 2 {
		t.Errorf("二班: %d rows", len(rows))
	}
	rows, _ = exportXLSX(t, b.svc, e.Caller("owner1"), app.ProblemFilter{}, 2)
	if len(rows) != 4 {
		t.Errorf("owner1: %d rows", len(rows))
	}
	overdue := true
	rows, _ = exportXLSX(t, b.svc, e.Caller("leader"), app.ProblemFilter{Overdue: &overdue}, 500)
	if len(rows) != 1 || rows[0][col(ledger.ColTitle)] != "P4" {
		t.Errorf("overdue: %v", rows)
	}

	// CSV: the same rows, with a byte-order mark.
	var buf bytes.Buffer
	w, err := ledger.NewCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Ledger.ExportLedger(ctx, e.Caller("leader"), app.ProblemFilter{}, 4, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ledger.Meta{}); err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(buf.Bytes(), []byte("\ufeff"))
	if !ok {
		t.Fatal("no byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 8 || !slices.Equal(recs[0], ledger.Columns()) || recs[1][col(ledger.ColCode)] != list[0].Code {
		t.Errorf("csv: %v", recs)
	}
}

// workbook builds an .xlsx with a header row and data rows.
func workbook(t testing.TB, header []string, rows ...[]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }() // in memory; written with WriteToBuffer
	put := func(n int, cells []string) {
		vals := make([]any, len(cells))
		for i, c := range cells {
			vals[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		if err := f.SetSheetRow("Sheet1", cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	put(1, header)
	for i, r := range rows {
		put(i+2, r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var importHeader = []string{"编号", "问题标题", "问题描述", "类别", "严重程度", "来源", "责任单位", "责任人", "发现日期", "整改措施", "整改时限"}

func importFile(t *testing.T, e *apptest.Env, who string, body []byte) (*app.ImportResult, error) {
	t.Helper()
	return e.Svc.Ledger.ImportLedger(t.Context(), e.Caller(who), "台账.xlsx", bytes.NewReader(body))
}

func TestLedgerImportCreatesOnce(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	file := workbook(t, importHeader,
		[]string{"", "学习不够", "理论学习不足", "SXZZ-01", "一般", "自查", "一班", "", "", "", ""},
		[]string{"", "大局意识欠缺", "", "思想政治/大局意识", "较重", "检查", "中心/部门/二班", "owner2", "2026/3/1", "开展专题学习", "2026-04-15"},
		[]string{"", "", "", "", "", "", "", "", "", "", ""}, // blank: skipped
		[]string{"wt-2025-000042", "=1+1", "", "规矩意识", "general", "report", "部门", "", "2026年2月27日", "", ""},
		[]string{"", "学习不够", "理论学习不足", "SXZZ-01", "一般", "自查", "一班", "", "", "", ""}, // repeats row 2
	)
	res, err := importFile(t, e, "verifier", file)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || len(res.Created) != 3 || len(res.Skipped) != 1 || res.Skipped[0].Row != 6 ||
		res.Skipped[0].Reason != "repeats row 2" {
		t.Fatalf("result %+v", res)
	}
	codes := []string{res.Created[0].Code, res.Created[1].Code, res.Created[2].Code}
	if !slices.Equal(codes, []string{"WT-2026-000001", "WT-2026-000002", "WT-2025-000042"}) || res.Created[2].Row != 5 {
		t.Errorf("codes %v", codes)
	}
	p := load(t, e, res.Created[1].ID)
	if p.Status != domain.StatusAssigned || p.AssigneeID != e.Users["owner2"].ID || p.Deadline.String() != "2026-04-15" ||
		p.FoundAt.String() != "2026-03-01" || p.CategoryID != 6 || p.Severity != domain.SeveritySerious ||
		p.Source != domain.SourceInspection || p.UnitID != e.Units["二班"].ID || p.Measures != "开展专题学习" || p.Version != 2 {
		t.Errorf("assigned row: %+v", p)
	}
	p = load(t, e, res.Created[2].ID)
	if p.Title != "=1+1" || p.CategoryID != 14 || p.FoundAt.String() != "2026-02-27" || p.Status != domain.StatusRegistered ||
		p.UnitID != e.Units["部门"].ID {
		t.Errorf("kept-code row: %+v", p)
	}
	var actions []string
	for _, en := range problemEntries(t, e, res.Created[1].ID) {
		actions = append(actions, en.Action)
	}
	if strings.Join(actions, " ") != "register assign" || !strings.Contains(problemEntries(t, e, res.Created[1].ID)[0].Changes, `"import_row":3`) {
		t.Errorf("imported problem's trail %v", actions)
	}
	if lastEntry(t, e, "import/"+fmtInt(res.ImportID)).Action != app.ActionProblemImport {
		t.Error("no import entry")
	}

	// The same file again creates nothing; nor does the exported ledger of these problems.
	again, err := importFile(t, e, "verifier", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Created) != 0 || len(again.Skipped) != 4 || again.Skipped[0].Reason != "imported before" ||
		again.Skipped[0].ProblemID != res.Created[0].ID {
		t.Errorf("re-upload %+v", again)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM problems"); n != 3 {
		t.Errorf("%d problems after the re-upload, want 3", n)
	}
	var buf bytes.Buffer
	w, _ := ledger.NewXLSX(&buf)
	if _, err := e.Svc.Ledger.ExportLedger(ctx, e.Caller("verifier"), app.ProblemFilter{}, 500, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ledger.Meta{}); err != nil {
		t.Fatal(err)
	}
	exported, err := importFile(t, e, "verifier", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(exported.Created) != 0 || len(exported.Skipped) != 3 || !strings.HasPrefix(exported.Skipped[0].Reason, "already in the ledger as WT-") {
		t.Errorf("the exported ledger re-imported: %+v", exported)
	}
	// The counters: 2026 goes on from 2; 2025 was moved to 42.
	if p := e.Register(t, "新问题"); p.Code != "WT-2026-000003" {
		t.Errorf("next code %s", p.Code)
	}
	if n := count(t, e, "SELECT last_seq FROM problem_counters WHERE year = 2025"); n != 42 {
		t.Errorf("2025 counter %d", n)
	}
	mustVerifyOK(t, e)
}

func TestLedgerImportBadRowChangesNothing(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	good := []string{"", "好的一行", "", "SXZZ-01", "一般", "自查", "一班", "", "", "", ""}
	file := workbook(t, importHeader, good,
		[]string{"", "类别不对", "", "不存在的类别", "一般", "自查", "一班", "", "", "", ""},
		[]string{"", "", "", "SXZZ-01", "很严重", "自查", "", "", "", "", ""},
		[]string{"", "交办不全", "", "SXZZ-01", "一般", "自查", "一班", "owner1", "2026-13-01", "", "2026-01-01"},
		[]string{"WT-2026-1", "编号不对", "", "思想政治", "一般", "自查", "班", "nobody", "", "", ""},
	)
	before := count(t, e, "SELECT COUNT(*) FROM audit_entries")
	_, err := importFile(t, e, "verifier", file)
	var val *domain.ValidationError
	if !errors.As(err, &val) {
		t.Fatalf("import: %v, want a validation error", err)
	}
	var fields []string
	for _, f := range val.Fields {
		fields = append(fields, f.Field+": "+f.Reason)
	}
	got := strings.Join(fields, "\n")
	for _, want := range []string{
		"row 3, column D (类别): no category is named \"不存在的类别\"",
		"row 4, column E (严重程度): \"很严重\" is not one of 一般, 较重, 严重",
		"row 4, column G (责任单位): is required",
		"row 4, column B (问题标题): is required",
		"row 5, column I (发现日期): \"2026-13-01\" is not a calendar date",
		"row 6, column A (编号): \"WT-2026-1\" is not a problem code",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "row 2") {
		t.Errorf("the good row is blamed:\n%s", got)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM problems"); n != 0 {
		t.Errorf("%d problems created", n)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM problem_imports"); n != 0 {
		t.Errorf("%d imports recorded", n)
	}
	if after := count(t, e, "SELECT COUNT(*) FROM audit_entries"); after != before+1 ||
		lastEntry(t, e, "system").Outcome != "refused" || lastEntry(t, e, "system").Action != app.ActionProblemImport {
		t.Errorf("audit: %d entries before, %d after; want one refusal", before, after)
	}

	// The deadline of row 5 lies in the past and the measures are missing: once its date is fixed, those show.
	fixed := workbook(t, importHeader, []string{"", "交办不全", "", "SXZZ-01", "一般", "自查", "一班", "owner1", "", "", "2026-01-01"})
	_, err = importFile(t, e, "verifier", fixed)
	if !errors.As(err, &val) || !strings.Contains(val.Error(), "row 2, column K (整改时限): lies in the past") ||
		!strings.Contains(val.Error(), "row 2, column J (整改措施): is required") {
		t.Errorf("assignment errors: %v", err)
	}
	// An inspector registers but may not assign.
	_, err = importFile(t, e, "inspector", workbook(t, importHeader, []string{"", "t", "", "SXZZ-01", "一般", "自查", "一班", "owner1", "", "m", ""}))
	if !errors.As(err, &val) || !strings.Contains(val.Error(), "row 2, column H (责任人): assigning (交办) requires the verifier role") {
		t.Errorf("inspector assigns: %v", err)
	}
	if _, err := importFile(t, e, "owner1", workbook(t, importHeader, good)); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("owner imports: %v", err)
	}
	for name, body := range map[string][]byte{
		"not a workbook":   []byte("编号,问题标题\n"),
		"no header":        workbook(t, []string{"a", "b"}, []string{"c", "d"}),
		"missing a column": workbook(t, []string{"问题标题", "类别"}, []string{"x", "SXZZ-01"}),
		"no rows":          workbook(t, importHeader),
	} {
		if _, err := importFile(t, e, "verifier", body); !errors.As(err, &val) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := count(t, e, "SELECT COUNT(*) FROM problems"); n != 0 {
		t.Errorf("%d problems created", n)
	}
}

func TestLedgerRoundTrip(t *testing.T) {
	t.Parallel()
	a := apptest.New(t)
	ctx := t.Context()
	mk := func(title, unit string, cat int64, sev domain.Severity, src domain.Source) *domain.Problem {
		p, err := a.Svc.Lifecycle.Register(ctx, a.Caller("inspector"), app.ProblemInput{Title: title, Description: "描述 " + title,
			CategoryID: cat, Severity: sev, Source: src, UnitID: a.Units[unit].ID, FoundAt: domain.NewDate(2026, 2, 20)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	assign := func(p *domain.Problem, owner string, deadline domain.Date) {
		if _, err := a.Svc.Lifecycle.Assign(ctx, a.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: a.Users[owner].ID,
			Deadline: deadline, Measures: "措施：" + p.Title}); err != nil {
			t.Fatal(err)
		}
	}
	mk("只登记", "部门", 7, domain.SeverityGeneral, domain.SourceReport)
	assign(mk("已交办", "一班", 9, domain.SeveritySerious, domain.SourceSpotCheck), "owner1", domain.NewDate(2026, 4, 1))
	assign(mk("默认时限", "二班", 13, domain.SeverityCritical, domain.SourceSupervision), "owner2", domain.Date{})
	closed := mk("已销号", "一班", 12, domain.SeverityGeneral, domain.SourceSelfCheck)
	assign(closed, "ownerverifier", domain.NewDate(2026, 3, 30))
	for _, step := range []func() error{
		func() error {
			_, err := a.Svc.Lifecycle.Accept(ctx, a.Caller("ownerverifier"), closed.ID, 0, "")
			return err
		},
		func() error {
			_, err := a.Svc.Lifecycle.Submit(ctx, a.Caller("ownerverifier"), closed.ID, 0, "完成")
			return err
		},
		func() error {
			_, err := a.Svc.Lifecycle.Verify(ctx, a.Caller("verifier"), closed.ID, 0, true, "同意")
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	var first bytes.Buffer
	w, _ := ledger.NewXLSX(&first)
	if _, err := a.Svc.Ledger.ExportLedger(ctx, a.Caller("leader"), app.ProblemFilter{}, 500, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ledger.Meta{}); err != nil {
		t.Fatal(err)
	}

	b := apptest.New(t) // an empty database with the same organisation
	b.Clock.Set(a.Clock.Now().Add(time.Hour))
	res, err := b.Svc.Ledger.ImportLedger(ctx, b.Caller("verifier"), "export.xlsx", bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 4 {
		t.Fatalf("imported %+v", res)
	}
	var second bytes.Buffer
	w, _ = ledger.NewXLSX(&second)
	if _, err := b.Svc.Ledger.ExportLedger(ctx, b.Caller("leader"), app.ProblemFilter{}, 500, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(ledger.Meta{}); err != nil {
		t.Fatal(err)
	}
	x, _ := readWorkbook(t, first.Bytes())
	y, _ := readWorkbook(t, second.Bytes())
	key := func(rows [][]string) map[string][]string {
		out := map[string][]string{}
		for _, r := range rows {
			out[r[0]] = r[:len(ledger.ImportColumns())]
		}
		return out
	}
	kx, ky := key(x), key(y)
	if len(kx) != 4 || len(ky) != 4 {
		t.Fatalf("%d and %d rows", len(kx), len(ky))
	}
	for code, want := range kx {
		if got := ky[code]; !slices.Equal(got, want) {
			t.Errorf("%s after the round trip:\n got %q\nwant %q", code, got, want)
		}
	}
	// Progress is not imported: the closed problem comes back assigned, with its assignee and deadline.
	for _, r := range y {
		if r[col(ledger.ColTitle)] == "已销号" && r[col(ledger.ColStatus)] != "已交办" {
			t.Errorf("closed problem imported as %s", r[col(ledger.ColStatus)])
		}
	}
}

// One import of a 5000-row workbook (the most a file may hold), half of the
// rows assigned: parse, check, and create everything in one transaction.
func BenchmarkImportLedger(b *testing.B) {
	e := apptest.New(b)
	n := 0
	for b.Loop() {
		b.StopTimer()
		var rows [][]string
		for i := range ledger.MaxImportRows {
			row := []string{"", fmt.Sprintf("问题 %d-%d", n, i), "描述", "SXZZ-01", "一般", "自查", "一班", "", "", "", ""}
			if i%2 == 0 {
				row[7], row[9], row[10] = "owner1", "措施", "2026-04-30"
			}
			rows = append(rows, row)
		}
		file := workbook(b, importHeader, rows...)
		n++
		b.StartTimer()
		res, err := e.Svc.Ledger.ImportLedger(b.Context(), e.Caller("verifier"), "bench.xlsx", bytes.NewReader(file))
		if err != nil || len(res.Created) != ledger.MaxImportRows {
			b.Fatalf("import: %v", err)
		}
	}
}
