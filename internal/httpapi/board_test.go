package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/xuri/excelize/v2"

	"github.com/rectify-team/rectify/internal/ledger"
)

func init() {
	// The ledger's downloads are workbooks; the harness validates them as binary strings.
	openapi3filter.RegisterBodyDecoder(ledger.MediaTypeXLSX, openapi3filter.FileBodyDecoder)
}

// boardServer is a server with three problems of March 2026: one closed on time by owner1 in 一班, one
// overdue in 二班 (owner2), one registered in 部门.
func boardServer(t *testing.T) (*apiServer, []problem) {
	t.Helper()
	s := newServer(t)
	closed := s.register(t, "已销号的问题", "一班", nil)
	s.assign(t, closed.ID, "owner1", "2026-03-20")
	s.act(t, "owner1", closed.ID, "accept", map[string]any{"note": "签收"})
	s.act(t, "owner1", closed.ID, "submit", map[string]any{"note": "已整改"})
	s.act(t, "verifier", closed.ID, "verify", map[string]any{"passed": true, "note": "同意销号"})
	late := s.register(t, "超期的问题", "二班", nil)
	s.assign(t, late.ID, "owner2", "2026-03-03")
	open := s.register(t, "待交办的问题", "部门", nil)
	s.advance(3 * 24 * time.Hour) // 2026-03-05: the second problem is overdue
	return s, []problem{closed, late, open}
}

func TestOverviewAndTrendOverHTTP(t *testing.T) {
	t.Parallel()
	s, _ := boardServer(t)
	var o struct {
		Total       int              `json:"total"`
		ByStatus    map[string]int   `json:"by_status"`
		Overdue     int              `json:"overdue"`
		Warning     map[string]int   `json:"warning"`
		ClosureRate *float64         `json:"closure_rate"`
		OnTimeRate  *float64         `json:"on_time_rate"`
		ByUnit      []map[string]any `json:"by_unit"`
		RelapseRate *float64         `json:"relapse_rate"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/overview", as: "leader"}).decode(t, &o)
	if o.Total != 3 || o.ByStatus["closed"] != 1 || o.ByStatus["assigned"] != 1 || o.ByStatus["registered"] != 1 ||
		o.Overdue != 1 || o.Warning["red"] != 1 || o.Warning["green"] != 1 || o.ClosureRate == nil ||
		*o.ClosureRate != 0.3333 || *o.OnTimeRate != 1 || o.RelapseRate != nil || len(o.ByUnit) != 4 {
		t.Errorf("overview %+v", o)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/overview", as: "owner2"}).decode(t, &o)
	if o.Total != 1 || o.Overdue != 1 {
		t.Errorf("owner2's board %+v", o)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/stats/overview?unit_id=%d&severity=general,serious&source=inspection&from=2026-03-01&to=2026-03-31",
		s.unit("一班")), as: "verifier"}).decode(t, &o)
	if o.Total != 1 || o.ByStatus["closed"] != 1 {
		t.Errorf("filtered board %+v", o)
	}
	var tr struct {
		By      string `json:"by"`
		Periods []struct {
			Label      string `json:"label"`
			Registered int    `json:"registered"`
			Closed     int    `json:"closed"`
			Backlog    int    `json:"backlog"`
		} `json:"periods"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/trend?by=week&from=2026-03-02&to=2026-03-05", as: "leader"}).decode(t, &tr)
	if tr.By != "week" || len(tr.Periods) != 1 || tr.Periods[0].Label != "2026-W10" || tr.Periods[0].Registered != 3 ||
		tr.Periods[0].Closed != 1 || tr.Periods[0].Backlog != 2 {
		t.Errorf("trend %+v", tr)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/trend", as: "owner1"}).decode(t, &tr)
	if tr.By != "month" || len(tr.Periods) != 12 || tr.Periods[11].Label != "2026-03" {
		t.Errorf("default trend %+v", tr)
	}
	s.run(t, []row{
		{name: "unknown parameter", req: req{method: "GET", path: "/api/v1/stats/overview?colour=red", as: "leader"}, status: 400, code: "invalid_request"},
		{name: "unknown severity", req: req{method: "GET", path: "/api/v1/stats/overview?severity=huge", as: "leader"}, status: 400},
		{name: "unknown unit", req: req{method: "GET", path: "/api/v1/stats/overview?unit_id=999", as: "leader"}, status: 400, code: "invalid_input"},
		{name: "from after to", req: req{method: "GET", path: "/api/v1/stats/overview?from=2026-03-05&to=2026-03-01", as: "leader"}, status: 400},
		{name: "bad date", req: req{method: "GET", path: "/api/v1/stats/overview?from=yesterday", as: "leader"}, status: 400},
		{name: "no token", req: req{method: "GET", path: "/api/v1/stats/overview"}, status: 401},
		{name: "by day", req: req{method: "GET", path: "/api/v1/stats/trend?by=day", as: "leader"}, status: 400},
		{name: "too many weeks", req: req{method: "GET", path: "/api/v1/stats/trend?by=week&from=2020-01-01", as: "leader"}, status: 400},
	})
}

func TestEvaluationAndContributionsOverHTTP(t *testing.T) {
	t.Parallel()
	s, _ := boardServer(t)
	r := s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/contributions", as: "verifier",
		body: map[string]any{"user_id": s.id("owner2"), "points": 6, "reason": "牵头专项整治"}})
	if r.obj(t)["unit_id"] != float64(s.unit("二班")) || r.obj(t)["month"] != "2026-03" {
		t.Errorf("award %s", r.body)
	}
	s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/contributions", as: "verifier",
		body: map[string]any{"unit_id": s.unit("一班"), "points": 2, "reason": "集体攻坚", "month": "2026-03"}})
	type evaluation struct {
		Month string `json:"month"`
		Items []struct {
			UserID   *int64   `json:"user_id"`
			UnitID   *int64   `json:"unit_id"`
			Name     string   `json:"name"`
			Workload float64  `json:"workload"`
			Accuracy *float64 `json:"accuracy"`
			Score    float64  `json:"score"`
			Rank     int      `json:"rank"`
		} `json:"items"`
		ModelWorker []struct {
			Name string `json:"name"`
		} `json:"model_worker"`
		Formula struct {
			Text    string             `json:"text"`
			Weights map[string]float64 `json:"weights"`
		} `json:"formula"`
		Published bool `json:"published"`
	}
	var ev evaluation
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-03", as: "leader"}).decode(t, &ev)
	// owner1: one general problem closed, first pass, on time, accepted the same day:
	// 0.4×100 + 0.3×100 + 0.3×100 = 100. owner2: accepted nothing yet, 6 points → 6.
	if len(ev.Items) != 4 || ev.Items[0].Name != "owner1" || ev.Items[0].Score != 100 || ev.Items[0].Rank != 1 ||
		*ev.Items[0].UserID != s.id("owner1") || ev.Items[1].Name != "owner2" || ev.Items[1].Score != 6 ||
		len(ev.ModelWorker) != 1 || ev.Formula.Weights["workload"] != 0.4 || ev.Published {
		t.Errorf("evaluation %+v", ev)
	}
	ev = evaluation{} // a fresh value: decoding into a used slice keeps fields the JSON leaves out
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-03&level=unit", as: "verifier"}).decode(t, &ev)
	if ev.Items[0].Name != "一班" || ev.Items[0].Score != 102 || ev.Items[0].UserID != nil || *ev.Items[0].UnitID != s.unit("一班") {
		t.Errorf("units %+v", ev.Items)
	}
	s.run(t, []row{
		{name: "owner reads an unpublished month", req: req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-03", as: "owner1"}, status: 403, code: "role_required"},
		{name: "no month", req: req{method: "GET", path: "/api/v1/stats/evaluation", as: "leader"}, status: 400},
		{name: "month 13", req: req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-13", as: "leader"}, status: 400},
		{name: "future month", req: req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-05", as: "leader"}, status: 400},
		{name: "bad level", req: req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-03&level=team", as: "leader"}, status: 400},
		{name: "publish too early", req: req{method: "POST", path: "/api/v1/stats/evaluation/publish", as: "leader", body: map[string]any{"month": "2026-03"}}, status: 409, code: "conflict"},
		{name: "owner awards", req: req{method: "POST", path: "/api/v1/contributions", as: "owner1", body: map[string]any{"user_id": s.id("owner2"), "points": 1, "reason": "r"}}, status: 403},
		{name: "award oneself", req: req{method: "POST", path: "/api/v1/contributions", as: "ownerverifier", body: map[string]any{"user_id": s.id("ownerverifier"), "points": 1, "reason": "r"}}, status: 403, code: "four_eyes"},
		{name: "no points", req: req{method: "POST", path: "/api/v1/contributions", as: "verifier", body: map[string]any{"user_id": s.id("owner2"), "reason": "r"}}, status: 400},
		{name: "points as text", req: req{method: "POST", path: "/api/v1/contributions", as: "verifier", body: map[string]any{"user_id": s.id("owner2"), "points": "5", "reason": "r"}}, status: 400},
		{name: "unknown user", req: req{method: "POST", path: "/api/v1/contributions", as: "verifier", body: map[string]any{"user_id": 999, "points": 5, "reason": "r"}}, status: 400},
		{name: "owner lists awards", req: req{method: "GET", path: "/api/v1/contributions", as: "owner1"}, status: 403},
	})
	var list struct {
		Items []map[string]any `json:"items"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/contributions?month=2026-03&limit=1", as: "leader"}).decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("awards %+v", list)
	}

	s.advance(30 * 24 * time.Hour) // April: March may be published
	r = s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/stats/evaluation/publish", as: "leader", body: map[string]any{"month": "2026-03"}})
	if r.obj(t)["month"] != "2026-03" {
		t.Errorf("publication %s", r.body)
	}
	s.must(t, http.StatusConflict, req{method: "POST", path: "/api/v1/stats/evaluation/publish", as: "leader", body: map[string]any{"month": "2026-03"}})
	s.must(t, http.StatusForbidden, req{method: "POST", path: "/api/v1/stats/evaluation/publish", as: "verifier", body: map[string]any{"month": "2026-03"}})
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/evaluation?month=2026-03", as: "owner1"}).decode(t, &ev)
	if !ev.Published || ev.Items[0].Score != 100 {
		t.Errorf("published %+v", ev)
	}
	var entries list2
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=evaluation_publish&outcome=ok", as: "leader"}).decode(t, &entries)
	if len(entries.Items) != 1 || entries.Items[0].ObjectType != "evaluation" || entries.Items[0].ObjectID != "2026-03" {
		t.Errorf("publication entry %+v", entries)
	}
}

type list2 = list[auditEntry]

func TestDisciplineAndNoticesOverHTTP(t *testing.T) {
	t.Parallel()
	s, ps := boardServer(t)
	// A refused attempt for the report: owner1 tries to verify.
	s.must(t, http.StatusForbidden, req{method: "POST", path: pathf("/api/v1/problems/%d/verify", ps[0].ID), as: "owner1",
		body: map[string]any{"passed": true}})
	var rep struct {
		Report string `json:"report"`
		Label  string `json:"label"`
		Rows   []struct {
			SubjectType string         `json:"subject_type"`
			Name        string         `json:"name"`
			Count       int            `json:"count"`
			Details     map[string]int `json:"details"`
			Seqs        []int64        `json:"seqs"`
		} `json:"rows"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/discipline?report=refusals", as: "verifier"}).decode(t, &rep)
	if rep.Label != "违规操作被拒" || len(rep.Rows) != 1 || rep.Rows[0].Name != "owner1" || rep.Rows[0].Count != 1 ||
		rep.Rows[0].Details["verify_pass"] != 1 || len(rep.Rows[0].Seqs) != 1 {
		t.Fatalf("refusals %+v", rep)
	}
	var en list2
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/audit?actor_id=%d&outcome=refused", s.id("owner1")), as: "leader"}).decode(t, &en)
	if len(en.Items) != 1 || en.Items[0].Seq != rep.Rows[0].Seqs[0] {
		t.Errorf("the row's seq %v is not the refusal %+v", rep.Rows[0].Seqs, en.Items)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/discipline?report=overdue&by=unit&from=2026-03-01&to=2026-03-05", as: "leader"}).decode(t, &rep)
	if len(rep.Rows) != 1 || rep.Rows[0].Name != "二班" || rep.Rows[0].SubjectType != "unit" || rep.Rows[0].Details["overdue_now"] != 1 {
		t.Errorf("overdue %+v", rep)
	}
	s.run(t, []row{
		{name: "no report", req: req{method: "GET", path: "/api/v1/stats/discipline", as: "leader"}, status: 400},
		{name: "unknown report", req: req{method: "GET", path: "/api/v1/stats/discipline?report=gossip", as: "leader"}, status: 400},
		{name: "owner", req: req{method: "GET", path: "/api/v1/stats/discipline?report=overdue", as: "owner1"}, status: 403},
		{name: "bad min", req: req{method: "GET", path: "/api/v1/stats/discipline?report=send_backs&min=0", as: "leader"}, status: 400},
	})

	r := s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/notices", as: "verifier", body: map[string]any{
		"kind": "criticism", "report": map[string]any{"report": "overdue", "by": "user", "from": "2026-03-01", "to": "2026-03-05"}}})
	var n struct {
		ID        int64   `json:"id"`
		Title     string  `json:"title"`
		Body      string  `json:"body"`
		Status    string  `json:"status"`
		Version   int64   `json:"version"`
		SourceRef *string `json:"source_ref"`
	}
	r.decode(t, &n)
	if n.Status != "draft" || !strings.Contains(n.Title, "整改超期") || !strings.Contains(n.Body, "owner2：1 次") ||
		r.header.Get("Location") != pathf("/api/v1/notices/%d", n.ID) || r.header.Get("ETag") != `"1"` {
		t.Fatalf("draft %s", r.body)
	}
	path := pathf("/api/v1/notices/%d", n.ID)
	s.must(t, http.StatusNotFound, req{method: "GET", path: path, as: "owner1"})
	s.must(t, http.StatusOK, req{method: "PATCH", path: path, as: "verifier", header: map[string]string{"If-Match": `"1"`},
		body: map[string]any{"title": "关于整改超期情况的通报"}})
	s.run(t, []row{
		{name: "stale edit", req: req{method: "PATCH", path: path, as: "verifier", header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"body": "x"}}, status: 412},
		{name: "owner drafts", req: req{method: "POST", path: "/api/v1/notices", as: "owner1", body: map[string]any{"kind": "praise", "title": "t", "body": "b"}}, status: 403},
		{name: "unknown kind", req: req{method: "POST", path: "/api/v1/notices", as: "verifier", body: map[string]any{"kind": "thanks", "title": "t", "body": "b"}}, status: 400},
		{name: "unknown field", req: req{method: "POST", path: "/api/v1/notices", as: "verifier", body: map[string]any{"kind": "praise", "title": "t", "body": "b", "to": "all"}}, status: 400},
		{name: "verifier publishes", req: req{method: "POST", path: path + "/publish", as: "verifier"}, status: 403},
		{name: "no such notice", req: req{method: "GET", path: "/api/v1/notices/999", as: "leader"}, status: 404},
		{name: "bad status filter", req: req{method: "GET", path: "/api/v1/notices?status=old", as: "leader"}, status: 400},
	})
	r = s.must(t, http.StatusOK, req{method: "POST", path: path + "/publish", as: "leader"})
	if r.obj(t)["status"] != "published" || r.obj(t)["title"] != "关于整改超期情况的通报" {
		t.Errorf("published %s", r.body)
	}
	s.must(t, http.StatusConflict, req{method: "PATCH", path: path, as: "verifier", body: map[string]any{"body": "改写"}})
	s.must(t, http.StatusConflict, req{method: "POST", path: path + "/publish", as: "leader"})
	var notices struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/notices", as: "owner1"}).decode(t, &notices)
	if len(notices.Items) != 1 || notices.Items[0].ID != n.ID {
		t.Errorf("owner1's notices %+v", notices)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: path, as: "owner1"})
	var en2 list2
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?object_type=notice&outcome=ok", as: "leader"}).decode(t, &en2)
	var acts []string
	for _, e := range en2.Items {
		acts = append(acts, e.Action)
	}
	if strings.Join(acts, " ") != "notice_publish notice_update notice_create" {
		t.Errorf("notice trail %v", acts)
	}
}

func TestLedgerExportOverHTTP(t *testing.T) {
	t.Parallel()
	s, ps := boardServer(t)
	r := s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems/export.xlsx", as: "leader"})
	if r.header.Get("Content-Type") != ledger.MediaTypeXLSX || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("headers %v", r.header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	rows, _ := f.GetRows(ledger.SheetLedger)
	_ = f.Close()
	if len(rows) != 4 || rows[0][0] != "编号" || rows[1][0] != ps[2].Code || rows[3][0] != ps[0].Code || rows[3][11] != "已销号" {
		t.Errorf("rows %v", rows)
	}
	// The list's filters; the export route is not taken for a problem id.
	r = s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems/export.xlsx?status=assigned,closed&overdue=true", as: "leader"})
	f, _ = excelize.OpenReader(bytes.NewReader(r.body))
	rows, _ = f.GetRows(ledger.SheetLedger)
	_ = f.Close()
	if len(rows) != 2 || rows[1][0] != ps[1].Code {
		t.Errorf("filtered rows %v", rows)
	}
	r = s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems/export.csv?unit_id=" + itoa(s.unit("部门")), as: "owner2"})
	body, ok := bytes.CutPrefix(r.body, []byte("\ufeff"))
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if !ok || err != nil || len(recs) != 2 || recs[1][0] != ps[1].Code || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("owner2's csv: %v %v %q", ok, err, recs)
	}
	r = s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems/import-template.xlsx", as: "inspector"})
	if f, err := excelize.OpenReader(bytes.NewReader(r.body)); err != nil || !slices.Equal(f.GetSheetList(), []string{ledger.SheetLedger, ledger.SheetGuide}) {
		t.Errorf("template: %v", err)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", ps[0].ID), as: "leader"})
	s.run(t, []row{
		{name: "limit", req: req{method: "GET", path: "/api/v1/problems/export.xlsx?limit=10", as: "leader"}, status: 400},
		{name: "cursor", req: req{method: "GET", path: "/api/v1/problems/export.csv?cursor=abc", as: "leader"}, status: 400},
		{name: "unknown status", req: req{method: "GET", path: "/api/v1/problems/export.xlsx?status=lost", as: "leader"}, status: 400},
		{name: "unknown unit", req: req{method: "GET", path: "/api/v1/problems/export.csv?unit_id=999", as: "leader"}, status: 400, code: "invalid_input"},
		{name: "no token", req: req{method: "GET", path: "/api/v1/problems/export.xlsx"}, status: 401},
	})
}

// multipartFile builds a multipart body with one file part.
func multipartFile(t *testing.T, field, name string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := part.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func importWorkbook(t *testing.T, rows ...[]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	all := append([][]string{{"问题标题", "问题描述", "类别", "严重程度", "来源", "责任单位", "责任人", "整改措施", "整改时限"}}, rows...)
	for i, r := range all {
		vals := make([]any, len(r))
		for j, c := range r {
			vals[j] = c
		}
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &vals); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLedgerImportOverHTTP(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	file := importWorkbook(t,
		[]string{"学习不够", "理论学习不足", "SXZZ-01", "一般", "自查", "一班", "", "", ""},
		[]string{"守摊思想", "", "担当作为/守摊思想", "较重", "督查", "中心/部门/二班", "owner2", "制定计划", "2026-04-30"},
	)
	body, ctype := multipartFile(t, "file", "问题清单.xlsx", file)
	post := func(as string, body []byte, ctype string) req {
		return req{method: "POST", path: "/api/v1/problems/import", as: as, body: body, header: map[string]string{"Content-Type": ctype}}
	}
	var res struct {
		ImportID *int64 `json:"import_id"`
		Rows     int    `json:"rows"`
		Created  []struct {
			Row      int    `json:"row"`
			ID       int64  `json:"id"`
			Code     string `json:"code"`
			Assigned bool   `json:"assigned"`
		} `json:"created"`
		Skipped []struct {
			Row    int    `json:"row"`
			Reason string `json:"reason"`
		} `json:"skipped"`
	}
	s.must(t, http.StatusCreated, post("verifier", body, ctype)).decode(t, &res)
	if res.Rows != 2 || len(res.Created) != 2 || res.Created[0].Row != 2 || !res.Created[1].Assigned || len(res.Skipped) != 0 {
		t.Fatalf("import %+v", res)
	}
	p := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", res.Created[1].ID), as: "owner2"}).problem(t)
	if p.Status != "assigned" || *p.Deadline != "2026-04-30" || p.Measures != "制定计划" {
		t.Errorf("imported problem %+v", p)
	}
	s.must(t, http.StatusOK, post("verifier", body, ctype)).decode(t, &res)
	if len(res.Created) != 0 || len(res.Skipped) != 2 || res.Skipped[1].Reason != "imported before" {
		t.Errorf("re-upload %+v", res)
	}

	bad := importWorkbook(t,
		[]string{"好的", "", "SXZZ-01", "一般", "自查", "一班", "", "", ""},
		[]string{"坏的", "", "不存在", "一般", "自查", "一班", "", "", ""},
	)
	badBody, badType := multipartFile(t, "file", "bad.xlsx", bad)
	r := s.must(t, http.StatusBadRequest, post("verifier", badBody, badType))
	if !r.hasField(t, "row 3, column C (类别)") || r.hasField(t, "row 2, column C (类别)") {
		t.Errorf("errors %s", r.body)
	}
	var problems list[problem]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems", as: "leader"}).decode(t, &problems)
	if len(problems.Items) != 2 {
		t.Errorf("%d problems after a refused import, want 2", len(problems.Items))
	}
	notXLSX, notType := multipartFile(t, "file", "x.xlsx", []byte("not a workbook"))
	other, otherType := multipartFile(t, "document", "x.xlsx", file)
	s.run(t, []row{
		{name: "owner", req: post("owner1", body, ctype), status: 403},
		{name: "not a workbook", req: post("verifier", notXLSX, notType), status: 400},
		{name: "wrong field", req: post("verifier", other, otherType), status: 400},
		{name: "json", req: req{method: "POST", path: "/api/v1/problems/import", as: "verifier", body: map[string]any{"file": "x"}}, status: 400},
		{name: "no token", req: req{method: "POST", path: "/api/v1/problems/import", body: body, header: map[string]string{"Content-Type": ctype}}, status: 401},
	})
	huge := bytes.Repeat([]byte("0"), 17<<20)
	hugeBody, hugeType := multipartFile(t, "file", "huge.xlsx", huge)
	s.must(t, http.StatusRequestEntityTooLarge, post("verifier", hugeBody, hugeType))

	var entries list2
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?action=problem_import", as: "leader"}).decode(t, &entries)
	if len(entries.Items) < 3 || entries.Items[0].Outcome != "refused" {
		t.Errorf("import entries %+v", entries.Items)
	}
}
