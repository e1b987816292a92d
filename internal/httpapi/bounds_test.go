package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
)

// A request must not cost the server more than it cost the client: every
// array of a request body is bounded as the body is decoded, so an oversized
// one is a 400 naming the field before any transaction opens.
func TestArraysAreBoundedAtDecoding(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "数组上限", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	p = s.act(t, "owner1", p.ID, "accept", nil)
	s.token(t, "admin") // logins are audited; log in before counting
	s.token(t, "verifier")
	before := s.auditCount(t)

	// 150,000 ids held SQLite's writer for seconds through a quadratic
	// de-duplication; now the list is refused as it is read.
	huge := slices.Repeat([]int64{7}, 150_000)
	ms := slices.Repeat([]map[string]string{{"due": "2030-01-01", "title": "步"}}, 21)
	action := func(a string) string { return pathf("/api/v1/problems/%d/%s", p.ID, a) }
	fieldIs := func(field string) func(t *testing.T, r res) {
		return func(t *testing.T, r res) {
			if fs := r.fields(t); len(fs) != 1 || fs[0].Field != field {
				t.Fatalf("details %+v, want one naming %s", fs, field)
			}
		}
	}
	s.run(t, []row{
		{name: "progress attachment_ids", req: req{method: "POST", path: action("progress"), as: "owner1",
			body: map[string]any{"note": "进展", "attachment_ids": huge}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("attachment_ids")},
		{name: "progress milestone_ids", req: req{method: "POST", path: action("progress"), as: "owner1",
			body: map[string]any{"note": "进展", "milestone_ids": huge[:21]}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("milestone_ids")},
		{name: "submit attachment_ids", req: req{method: "POST", path: action("submit"), as: "owner1",
			body: map[string]any{"note": "整改完成", "attachment_ids": huge[:21]}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("attachment_ids")},
		{name: "assign milestones", req: req{method: "POST", path: action("assign"), as: "verifier",
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "措施", "milestones": ms}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("milestones")},
		{name: "user roles", req: req{method: "POST", path: "/api/v1/users", as: "admin",
			body: map[string]any{"username": "many", "name": "多", "password": "a-long-enough-passphrase", "unit_id": s.unit("一班"),
				"roles": slices.Repeat([]string{"owner"}, 21)}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("roles")},
		{name: "notification ids", req: req{method: "POST", path: "/api/v1/notifications/read", as: "owner1",
			body: map[string]any{"ids": huge[:1001]}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("ids")},
		{name: "recheck attachment_ids", req: req{method: "POST", path: recordPath(1), as: "verifier",
			body: map[string]any{"result": "holds", "note": "看过", "attachment_ids": huge[:21]}},
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("attachment_ids")},
	})
	// Nothing was attempted: no entry, not even a refusal, and the problem is as it was.
	if after := s.auditCount(t); after != before {
		t.Fatalf("audit entries %d → %d: a refused-at-decoding request reached the use case", before, after)
	}
	if got := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "owner1"}).problem(t); got.Version != p.Version {
		t.Fatalf("version %d → %d", p.Version, got.Version)
	}

	// Within the bound, duplicates collapse: twenty copies of one unknown id
	// are one finding.
	r := s.must(t, http.StatusBadRequest, req{method: "POST", path: action("progress"), as: "owner1",
		body: map[string]any{"note": "进展", "attachment_ids": huge[:20]}})
	if fs := r.fields(t); len(fs) != 1 || fs[0].Field != "attachment_ids" {
		t.Fatalf("twenty copies of one unknown id: %s", r.body)
	}
}
