package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app/apptest"
)

// TestLifecycleThroughHTTP drives one problem through every state over HTTP:
// register → edit → assign → accept → progress → submit → verify fail →
// submit → verify pass → reopen → extension → urge → comments → submit →
// verify pass, and checks its timeline.
func TestLifecycleThroughHTTP(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	owner1 := s.id("owner1")

	// Register (登记).
	r := s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/problems", as: "inspector", body: map[string]any{
		"title": "例会迟到现象较多", "description": "部分同志例会迟到", "category_id": 5, "severity": "general",
		"source": "inspection", "unit_id": s.unit("一班")}})
	p := r.problem(t)
	if p.Status != "registered" || p.StatusLabel != "已登记" || p.Version != 1 || !strings.HasPrefix(p.Code, "WT-2026-") ||
		p.AssigneeID != nil || p.Deadline != nil || p.Warning != nil || p.CreatedBy != s.id("inspector") {
		t.Fatalf("registered: %s", r.body)
	}
	if r.header.Get("Location") != pathf("/api/v1/problems/%d", p.ID) || r.header.Get("ETag") != `"1"` {
		t.Fatalf("Location %q ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
	}
	if !slices.Equal(p.AvailableActions, []string{"edit", "comment"}) {
		t.Fatalf("inspector's actions on a registered problem: %v", p.AvailableActions)
	}
	if r.obj(t)["found_at"] != "2026-03-02" {
		t.Fatalf("found_at defaults to today: %s", r.body)
	}
	id := p.ID
	probe := func(action string) string { return pathf("/api/v1/problems/%d/%s", id, action) }

	// Edit while registered, with If-Match.
	r = s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/problems/%d", id), as: "inspector",
		header: map[string]string{"If-Match": `"1"`}, body: map[string]any{"title": "例会迟到现象较多（已核实）", "severity": "serious"}})
	p = r.problem(t)
	if p.Version != 2 || p.Title != "例会迟到现象较多（已核实）" || r.obj(t)["severity"] != "serious" || r.header.Get("ETag") != `"2"` {
		t.Fatalf("edited: %s", r.body)
	}
	// The text search follows the edit: the new title's words find it.
	var found struct{ Items []problem }
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?q=%E5%B7%B2%E6%A0%B8%E5%AE%9E", as: "inspector"}).decode(t, &found)
	if len(found.Items) != 1 || found.Items[0].ID != id {
		t.Fatalf("a search for the edited title's 已核实 found %+v", found.Items)
	}

	// Assign (交办) with If-Match.
	r = s.must(t, http.StatusOK, req{method: "POST", path: probe("assign"), as: "verifier", header: map[string]string{"If-Match": `"2"`},
		body: map[string]any{"assignee_id": owner1, "deadline": "2026-03-20", "measures": "建立签到制度"}})
	p = r.problem(t)
	if p.Status != "assigned" || p.AssigneeID == nil || *p.AssigneeID != owner1 || *p.Deadline != "2026-03-20" ||
		p.Measures != "建立签到制度" || p.Warning == nil || *p.Warning != "green" || p.Version != 3 {
		t.Fatalf("assigned: %s", r.body)
	}
	// The owner sees its buttons.
	p = s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", id), as: "owner1"}).problem(t)
	if !slices.Equal(p.AvailableActions, []string{"accept", "request_extension", "comment"}) {
		t.Fatalf("owner1's actions on an assigned problem: %v", p.AvailableActions)
	}

	// Accept (签收) without a body.
	p = s.act(t, "owner1", id, "accept", nil)
	if p.Status != "rectifying" || p.StatusLabel != "整改中" {
		t.Fatalf("accepted: %+v", p)
	}
	p = s.act(t, "owner1", id, "progress", map[string]any{"note": "已制定制度", "percent": 40})
	if p.Status != "rectifying" || p.Percent != 40 {
		t.Fatalf("progress: %+v", p)
	}
	sheet := s.upload(t, "owner1", "签到表.pdf", samplePDF) // serious: evidence required
	p = s.act(t, "owner1", id, "submit", map[string]any{"note": "已整改，附签到表", "attachment_ids": []int64{sheet.ID}})
	if p.Status != "submitted" {
		t.Fatalf("submitted: %+v", p)
	}
	// Verify fail (退回).
	p = s.act(t, "verifier", id, "verify", map[string]any{"passed": false, "note": "证据不足"})
	if p.Status != "rectifying" || p.ReworkCount != 1 {
		t.Fatalf("sent back: %+v", p)
	}
	p = s.act(t, "owner1", id, "submit", map[string]any{"note": "已补充证据", "attachment_ids": []int64{sheet.ID}})
	// Verify pass (销号).
	p = s.act(t, "verifier", id, "verify", map[string]any{"passed": true, "note": "验收通过"})
	if p.Status != "closed" || p.StatusLabel != "已销号" || p.ClosedAt == nil || p.ClosedOnTime == nil || !*p.ClosedOnTime ||
		*p.Warning != "green" || p.Overdue {
		t.Fatalf("closed: %+v", p)
	}
	// Reopen (回头看).
	p = s.act(t, "verifier", id, "reopen", map[string]any{"reason": "回头看发现反弹", "deadline": "2026-04-15"})
	if p.Status != "rectifying" || p.ReopenCount != 1 || *p.Deadline != "2026-04-15" || p.ClosedAt != nil || p.ClosedOnTime != nil {
		t.Fatalf("reopened: %+v", p)
	}

	// Extension (延期): request, a second one is refused, the owner may not decide, the verifier approves.
	r = s.must(t, http.StatusCreated, req{method: "POST", path: probe("extensions"), as: "owner1", body: map[string]any{"deadline": "2026-04-30", "reason": "需采购设备"}})
	var ext struct {
		ID          int64   `json:"id"`
		ProblemID   int64   `json:"problem_id"`
		RequestedBy int64   `json:"requested_by"`
		OldDeadline string  `json:"old_deadline"`
		Deadline    string  `json:"deadline"`
		Status      string  `json:"status"`
		DecidedBy   *int64  `json:"decided_by"`
		DecidedAt   *string `json:"decided_at"`
	}
	r.decode(t, &ext)
	if ext.ProblemID != id || ext.RequestedBy != owner1 || ext.OldDeadline != "2026-04-15" || ext.Deadline != "2026-04-30" ||
		ext.Status != "pending" || ext.DecidedBy != nil || ext.DecidedAt != nil {
		t.Fatalf("extension: %s", r.body)
	}
	s.run(t, []row{
		{name: "second pending extension", req: req{method: "POST", path: probe("extensions"), as: "owner1", body: map[string]any{"deadline": "2026-05-30", "reason": "再延"}},
			status: http.StatusConflict, code: "conflict"},
		{name: "owner may not decide", req: req{method: "POST", path: probe(pathf("extensions/%d/decision", ext.ID)), as: "owner1", body: map[string]any{"approved": true}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "rejection needs a note", req: req{method: "POST", path: probe(pathf("extensions/%d/decision", ext.ID)), as: "verifier", body: map[string]any{"approved": false}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("note")},
		{name: "approved is required", req: req{method: "POST", path: probe(pathf("extensions/%d/decision", ext.ID)), as: "verifier", body: map[string]any{"note": "同意"}},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("approved")},
		{name: "absent extension", req: req{method: "POST", path: probe("extensions/99999/decision"), as: "verifier", body: map[string]any{"approved": true}},
			status: http.StatusNotFound, code: "not_found"},
	})
	p = s.act(t, "verifier", id, pathf("extensions/%d/decision", ext.ID), map[string]any{"approved": true, "note": "同意延期"})
	if *p.Deadline != "2026-04-30" || p.ExtensionCount != 1 {
		t.Fatalf("after approval: %+v", p)
	}
	s.run(t, []row{
		{name: "decided twice", req: req{method: "POST", path: probe(pathf("extensions/%d/decision", ext.ID)), as: "leader", body: map[string]any{"approved": true}},
			status: http.StatusConflict, code: "conflict"},
		// After one approved extension, the working group no longer decides (issue 3).
		{name: "a verifier after the first extension", req: req{method: "POST", path: probe(pathf("extensions/%d/decision", ext.ID)), as: "verifier2", body: map[string]any{"approved": true}},
			status: http.StatusForbidden, code: "leader_required"},
		{name: "extension list", req: req{method: "GET", path: probe("extensions"), as: "owner1"}, status: http.StatusOK, check: func(t *testing.T, r res) {
			var l list[map[string]any]
			r.decode(t, &l)
			if len(l.Items) != 1 || l.Items[0]["status"] != "approved" || l.Items[0]["decided_by"] != float64(s.id("verifier")) ||
				l.Items[0]["note"] != "同意延期" || l.Items[0]["decided_at"] == nil || l.NextCursor != nil {
				t.Fatalf("extensions: %s", r.body)
			}
		}},
		// Urge (督办) needs a note.
		{name: "urge without note", req: req{method: "POST", path: probe("urge"), as: "verifier", body: map[string]any{}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("note")},
		{name: "owner may not urge", req: req{method: "POST", path: probe("urge"), as: "owner1", body: map[string]any{"note": "x"}},
			status: http.StatusForbidden, code: "role_required"},
	})
	before := p.Version
	p = s.act(t, "verifier", id, "urge", map[string]any{"note": "请加快进度"})
	if p.Status != "rectifying" || p.Version != before+1 {
		t.Fatalf("urged: %+v", p)
	}

	// Comments do not change the version.
	p = s.act(t, "owner1", id, "comments", map[string]any{"text": "收到，马上办 ✅"})
	if p.Version != before+1 {
		t.Fatalf("a comment changed the version: %+v", p)
	}
	s.act(t, "leader", id, "comments", map[string]any{"text": "领导关注"})
	r = s.must(t, http.StatusOK, req{method: "GET", path: probe("comments"), as: "verifier"})
	var comments list[struct {
		AuthorID int64  `json:"author_id"`
		Text     string `json:"text"`
	}]
	r.decode(t, &comments)
	if len(comments.Items) != 2 || comments.Items[0].Text != "收到，马上办 ✅" || comments.Items[0].AuthorID != owner1 ||
		comments.Items[1].AuthorID != s.id("leader") {
		t.Fatalf("comments: %s", r.body)
	}

	s.act(t, "owner1", id, "submit", map[string]any{"note": "再次提交", "attachment_ids": []int64{sheet.ID}})
	p = s.act(t, "verifier2", id, "verify", map[string]any{"passed": true})
	if p.Status != "closed" || p.ReworkCount != 1 || p.ReopenCount != 1 || p.ExtensionCount != 1 {
		t.Fatalf("closed again: %+v", p)
	}

	// The timeline holds every action and every refused attempt, in order.
	type step struct{ action, outcome, from, to string }
	want := []step{
		{"register", "ok", "", "registered"},
		{"edit", "ok", "registered", "registered"},
		{"assign", "ok", "registered", "assigned"},
		{"accept", "ok", "assigned", "rectifying"},
		{"progress", "ok", "rectifying", "rectifying"},
		{"submit", "ok", "rectifying", "submitted"},
		{"verify_fail", "ok", "submitted", "rectifying"},
		{"submit", "ok", "rectifying", "submitted"},
		{"verify_pass", "ok", "submitted", "closed"},
		{"reopen", "ok", "closed", "rectifying"},
		{"request_extension", "ok", "rectifying", "rectifying"},
		{"request_extension", "refused", "rectifying", ""},
		{"decide_extension", "refused", "rectifying", ""},
		{"decide_extension", "refused", "rectifying", ""},
		{"decide_extension", "refused", "rectifying", ""},
		{"decide_extension", "ok", "rectifying", "rectifying"},
		{"decide_extension", "refused", "rectifying", ""},
		{"decide_extension", "refused", "rectifying", ""}, // leader_required
		{"urge", "refused", "rectifying", ""},
		{"urge", "refused", "rectifying", ""},
		{"urge", "ok", "rectifying", "rectifying"},
		{"comment", "ok", "rectifying", "rectifying"},
		{"comment", "ok", "rectifying", "rectifying"},
		{"submit", "ok", "rectifying", "submitted"},
		{"verify_pass", "ok", "submitted", "closed"},
	}
	entries := s.history(t, "leader", id, 5)
	var got []step
	for i, e := range entries {
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		got = append(got, step{e.Action, e.Outcome, str(e.FromState), str(e.ToState)})
		if e.StreamSeq != int64(i+1) || e.Stream != pathf("problem/%d", id) || e.ObjectType != "problem" || e.ObjectID != itoa(id) {
			t.Errorf("entry %d: stream %s seq %d object %s/%s", i, e.Stream, e.StreamSeq, e.ObjectType, e.ObjectID)
		}
		if i > 0 && e.Seq <= entries[i-1].Seq {
			t.Errorf("entry %d: seq %d not after %d", i, e.Seq, entries[i-1].Seq)
		}
		if e.Outcome == "refused" && e.Reason == "" {
			t.Errorf("entry %d: refused without a reason", i)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("timeline\n got %v\nwant %v", got, want)
	}
	// What changed is recorded: the reopen names the new deadline.
	var changes map[string]any
	if err := json.Unmarshal(entries[9].Changes, &changes); err != nil || changes["reason"] != "回头看发现反弹" {
		t.Fatalf("reopen changes %s", entries[9].Changes)
	}
}

// history walks a problem's timeline page by page.
func (s *apiServer) history(t testing.TB, as string, id int64, pageSize int) []auditEntry {
	t.Helper()
	var out []auditEntry
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("too many pages")
		}
		path := pathf("/api/v1/problems/%d/history?limit=%d", id, pageSize)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var l list[auditEntry]
		s.must(t, http.StatusOK, req{method: "GET", path: path, as: as}).decode(t, &l)
		if len(l.Items) > pageSize {
			t.Fatalf("page of %d > limit %d", len(l.Items), pageSize)
		}
		out = append(out, l.Items...)
		if l.NextCursor == nil {
			return out
		}
		cursor = *l.NextCursor
	}
}

func TestDismiss(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	registered := s.register(t, "不予立项的问题", "一班", nil)
	assigned := s.register(t, "交办后不予立项", "二班", nil)
	s.assign(t, assigned.ID, "owner2", "")
	rectifying := s.register(t, "整改中", "一班", nil)
	s.assign(t, rectifying.ID, "owner1", "")
	s.act(t, "owner1", rectifying.ID, "accept", map[string]any{"note": "签收"})

	dismiss := func(id int64, as string, body any) req {
		return req{method: "POST", path: pathf("/api/v1/problems/%d/dismiss", id), as: as, body: body}
	}
	s.run(t, []row{
		{name: "reason is required", req: dismiss(registered.ID, "verifier", map[string]any{}), status: http.StatusBadRequest, code: "invalid_input", check: wantField("reason")},
		{name: "inspector may not", req: dismiss(registered.ID, "inspector", map[string]any{"reason": "x"}), status: http.StatusForbidden, code: "role_required"},
		{name: "registered", req: dismiss(registered.ID, "verifier", map[string]any{"reason": "不属实"}), status: http.StatusOK, check: func(t *testing.T, r res) {
			p := r.problem(t)
			if p.Status != "dismissed" || p.StatusLabel != "不予立项" || p.Warning != nil || len(p.AvailableActions) != 0 {
				t.Fatalf("dismissed: %s", r.body)
			}
		}},
		{name: "assigned", req: dismiss(assigned.ID, "verifier", map[string]any{"reason": "重复登记"}), status: http.StatusOK, check: func(t *testing.T, r res) {
			if p := r.problem(t); p.Status != "dismissed" || p.Overdue || p.Warning != nil {
				t.Fatalf("dismissed: %s", r.body)
			}
		}},
		{name: "not from rectifying", req: dismiss(rectifying.ID, "verifier", map[string]any{"reason": "x"}), status: http.StatusConflict, code: "invalid_transition",
			check: wantTransition("rectifying", "dismiss", "assign", "progress", "submit", "request_extension", "decide_extension", "urge", "comment")},
		{name: "dismissed is terminal", req: dismiss(registered.ID, "verifier", map[string]any{"reason": "again"}), status: http.StatusConflict, code: "invalid_transition",
			check: wantTransition("dismissed", "dismiss")},
		{name: "no comments on a dismissed problem", req: req{method: "POST", path: pathf("/api/v1/problems/%d/comments", registered.ID), as: "verifier", body: map[string]any{"text": "x"}},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("dismissed", "comment")},
		{name: "no assignment of a dismissed problem", req: req{method: "POST", path: pathf("/api/v1/problems/%d/assign", registered.ID), as: "verifier",
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "x"}}, status: http.StatusConflict, code: "invalid_transition", check: wantTransition("dismissed", "assign")},
	})
}

// wantTransition checks a 409's details: the current status, the action and the allowed actions.
func wantTransition(status, action string, allowed ...string) func(t *testing.T, r res) {
	return func(t *testing.T, r res) {
		t.Helper()
		var d transitionDetails
		if err := json.Unmarshal(r.apiError(t).Error.Details, &d); err != nil {
			t.Fatalf("details: %v: %s", err, r.body)
		}
		if allowed == nil {
			allowed = []string{}
		}
		if d.Status != status || d.Action != action || !slices.Equal(d.AllowedActions, allowed) {
			t.Fatalf("details %+v, want status %s action %s allowed %v", d, status, action, allowed)
		}
		if msg := r.apiError(t).Error.Message; !strings.Contains(msg, status) {
			t.Fatalf("message %q does not name the state", msg)
		}
	}
}

// TestRelationshipRules covers four-eyes and the assignee rules over HTTP.
func TestRelationshipRules(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	own := s.register(t, "分给工作小组成员的问题", "一班", nil)
	s.assign(t, own.ID, "ownerverifier", "2026-03-30")
	s.act(t, "ownerverifier", own.ID, "accept", nil)
	r := s.must(t, http.StatusCreated, req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", own.ID), as: "ownerverifier",
		body: map[string]any{"deadline": "2026-04-10", "reason": "自己申请"}})
	eid := int64(r.obj(t)["id"].(float64))
	s.act(t, "ownerverifier", own.ID, "submit", map[string]any{"note": "自己整改"})
	p := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", own.ID), as: "ownerverifier"}).problem(t)
	if slices.Contains(p.AvailableActions, "verify_pass") || slices.Contains(p.AvailableActions, "verify_fail") {
		t.Fatalf("ownerverifier is offered to verify its own problem: %v", p.AvailableActions)
	}

	other := s.register(t, "一班的另一个问题", "一班", nil)
	s.assign(t, other.ID, "owner1", "")

	s.run(t, []row{
		{name: "four-eyes: verifier may not pass a problem assigned to them", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", own.ID), as: "ownerverifier",
			body: map[string]any{"passed": true, "note": "自己验收"}}, status: http.StatusForbidden, code: "four_eyes"},
		{name: "four-eyes: nor send it back", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", own.ID), as: "ownerverifier",
			body: map[string]any{"passed": false, "note": "自己退回"}}, status: http.StatusForbidden, code: "four_eyes"},
		{name: "four-eyes: nobody decides their own extension", req: req{method: "POST", path: pathf("/api/v1/problems/%d/extensions/%d/decision", own.ID, eid),
			as: "ownerverifier", body: map[string]any{"approved": true}}, status: http.StatusForbidden, code: "four_eyes"},
		{name: "an extension of another problem is absent here", req: req{method: "POST", path: pathf("/api/v1/problems/%d/extensions/%d/decision", other.ID, eid),
			as: "verifier", body: map[string]any{"approved": true}}, status: http.StatusNotFound, code: "not_found"},
		{name: "another verifier decides", req: req{method: "POST", path: pathf("/api/v1/problems/%d/extensions/%d/decision", own.ID, eid),
			as: "verifier", body: map[string]any{"approved": false, "note": "不同意"}}, status: http.StatusOK, check: func(t *testing.T, r res) {
			if p := r.problem(t); *p.Deadline != "2026-03-30" || p.ExtensionCount != 0 {
				t.Fatalf("a rejection moved the deadline: %s", r.body)
			}
		}},
		{name: "sending back needs a note", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", own.ID), as: "verifier",
			body: map[string]any{"passed": false}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("note")},
		{name: "another verifier verifies", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", own.ID), as: "verifier",
			body: map[string]any{"passed": true}}, status: http.StatusOK},
		{name: "unit owner above may accept", req: req{method: "POST", path: pathf("/api/v1/problems/%d/accept", other.ID), as: "ownerdept"},
			status: http.StatusOK},
		{name: "but only the assignee reports progress", req: req{method: "POST", path: pathf("/api/v1/problems/%d/progress", other.ID), as: "ownerdept",
			body: map[string]any{"note": "代为报告"}}, status: http.StatusForbidden, code: "not_assignee"},
		{name: "and only the assignee submits", req: req{method: "POST", path: pathf("/api/v1/problems/%d/submit", other.ID), as: "ownerdept",
			body: map[string]any{"note": "代为提交"}}, status: http.StatusForbidden, code: "not_assignee"},
		{name: "owner of another unit sees nothing", req: req{method: "POST", path: pathf("/api/v1/problems/%d/submit", other.ID), as: "owner2",
			body: map[string]any{"note": "x"}}, status: http.StatusNotFound, code: "not_found"},
		{name: "leader reads but may not act", req: req{method: "POST", path: pathf("/api/v1/problems/%d/urge", other.ID), as: "leader",
			body: map[string]any{"note": "x"}}, status: http.StatusForbidden, code: "role_required"},
		{name: "admin has no lifecycle powers", req: req{method: "POST", path: pathf("/api/v1/problems/%d/urge", other.ID), as: "admin",
			body: map[string]any{"note": "x"}}, status: http.StatusNotFound, code: "not_found"},
	})

	// Only the inspector who registered a problem (or a verifier) edits it.
	s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/users", as: "admin", body: map[string]any{"username": "inspector2",
		"name": "检查人二", "password": "inspector2 password", "roles": []string{"inspector"}, "unit_id": s.unit("部门")}})
	s.must(t, http.StatusOK, login("inspector2", "inspector2 password"))
	fresh := s.register(t, "待编辑", "一班", nil)
	tok := s.must(t, http.StatusOK, login("inspector2", "inspector2 password")).obj(t)["token"].(string)
	s.run(t, []row{
		{name: "another inspector may not edit", req: req{method: "PATCH", path: pathf("/api/v1/problems/%d", fresh.ID), token: tok, body: map[string]any{"title": "改"}},
			status: http.StatusForbidden, code: "not_creator"},
		{name: "a verifier may edit", req: req{method: "PATCH", path: pathf("/api/v1/problems/%d", fresh.ID), as: "verifier", body: map[string]any{"title": "改"}},
			status: http.StatusOK},
		{name: "an owner may not edit", req: req{method: "PATCH", path: pathf("/api/v1/problems/%d", fresh.ID), as: "owner1", body: map[string]any{"title": "改"}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "an owner may not register", req: req{method: "POST", path: "/api/v1/problems", as: "owner1", body: map[string]any{"title": "x", "category_id": 5,
			"severity": "general", "source": "self_check", "unit_id": s.unit("一班")}}, status: http.StatusForbidden, code: "role_required"},
	})
}

// TestDeadlines: default deadlines by severity, reassignment, and a problem
// closed late stays red (红灯) without being overdue.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	want := map[string]string{"general": "2026-04-01", "serious": "2026-03-17", "critical": "2026-03-09"}
	ids := map[string]int64{}
	for sev, deadline := range want {
		p := s.register(t, "期限 "+sev, "一班", map[string]any{"severity": sev})
		got := s.assign(t, p.ID, "owner1", "")
		if got.Deadline == nil || *got.Deadline != deadline {
			t.Errorf("%s: default deadline %v, want %s", sev, got.Deadline, deadline)
		}
		ids[sev] = p.ID
	}
	// Reassignment keeps the deadline unless a new one is given, and may move the unit.
	p := s.act(t, "verifier", ids["critical"], "assign", map[string]any{"assignee_id": s.id("owner2"), "unit_id": s.unit("二班")})
	if *p.Deadline != "2026-03-09" || *p.AssigneeID != s.id("owner2") || p.UnitID != s.unit("二班") || p.Measures != "整改措施" {
		t.Fatalf("reassigned: %+v", p)
	}
	// owner1 lost sight of it; owner2 sees it.
	s.must(t, http.StatusNotFound, req{method: "GET", path: pathf("/api/v1/problems/%d", ids["critical"]), as: "owner1"})
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", ids["critical"]), as: "owner2"})

	// Close the critical problem two days late.
	s.act(t, "owner2", ids["critical"], "accept", nil)
	s.advance(9 * 24 * time.Hour) // 2026-03-11
	p = s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", ids["critical"]), as: "owner2"}).problem(t)
	if !p.Overdue || *p.Warning != "red" {
		t.Fatalf("late and open: %+v", p)
	}
	s.act(t, "owner2", ids["critical"], "submit", map[string]any{"note": "迟交",
		"attachment_ids": []int64{s.upload(t, "owner2", "整改报告.pdf", samplePDF).ID}})
	p = s.act(t, "verifier", ids["critical"], "verify", map[string]any{"passed": true})
	if p.Overdue || p.ClosedOnTime == nil || *p.ClosedOnTime || *p.Warning != "red" {
		t.Fatalf("closed late: %+v", p)
	}
	var l list[problem]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?warning=red", as: "leader"}).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != ids["critical"] {
		t.Fatalf("red list: %+v", l.Items)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?overdue=true", as: "leader"}).decode(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("a closed problem is listed as overdue: %+v", l.Items)
	}
	// Reopening needs a deadline, not in the past.
	s.run(t, []row{
		{name: "reopen without deadline", req: req{method: "POST", path: pathf("/api/v1/problems/%d/reopen", ids["critical"]), as: "verifier",
			body: map[string]any{"reason": "复查"}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("deadline")},
		{name: "reopen into the past", req: req{method: "POST", path: pathf("/api/v1/problems/%d/reopen", ids["critical"]), as: "verifier",
			body: map[string]any{"reason": "复查", "deadline": "2026-03-10"}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("deadline")},
		{name: "extension must be later", req: req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", ids["general"]), as: "owner1",
			body: map[string]any{"deadline": "2026-04-01", "reason": "x"}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("deadline")},
	})
}

// TestRacingActions: of concurrent actions on one problem exactly one wins;
// the others get 409 or 412, and the problem is not half-applied.
func TestRacingActions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	verifiers := []string{"verifier", "verifier2", "ownerverifier"}
	for _, v := range append(verifiers, "owner1", "owner2") {
		s.token(t, v)
	}
	p := s.register(t, "并发", "一班", nil)

	race := func(n int, mk func(i int) req) (wins int, codes []int) {
		var wg sync.WaitGroup
		out := make([]res, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = s.do(t, mk(i))
			}()
		}
		wg.Wait()
		for _, r := range out {
			if r.status == http.StatusOK {
				wins++
			} else {
				codes = append(codes, r.status)
			}
		}
		return wins, codes
	}
	owners := []string{"owner1", "owner2"}
	wins, codes := race(6, func(i int) req {
		return req{method: "POST", path: pathf("/api/v1/problems/%d/assign", p.ID), as: verifiers[i%3], header: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"assignee_id": s.id(owners[i%2]), "measures": fmt.Sprintf("措施 %d", i)}}
	})
	if wins != 1 {
		t.Fatalf("%d assignments won; others %v", wins, codes)
	}
	for _, c := range codes {
		if c != http.StatusPreconditionFailed && c != http.StatusConflict {
			t.Fatalf("a loser got %d", c)
		}
	}
	got := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "verifier"}).problem(t)
	if got.Version != 2 || got.Status != "assigned" {
		t.Fatalf("after the race: %+v", got)
	}
	// Without If-Match: the losers find the state changed.
	assignee := "owner1"
	if *got.AssigneeID == s.id("owner2") {
		assignee = "owner2"
	}
	wins, codes = race(4, func(int) req {
		return req{method: "POST", path: pathf("/api/v1/problems/%d/accept", p.ID), as: assignee}
	})
	if wins != 1 {
		t.Fatalf("%d accepts won; others %v", wins, codes)
	}
	for _, c := range codes {
		if c != http.StatusConflict {
			t.Fatalf("a losing accept got %d", c)
		}
	}
	hist := s.history(t, "leader", p.ID, 200)
	ok := 0
	for _, e := range hist {
		if e.Outcome == "ok" {
			ok++
		}
	}
	if ok != 3 { // register, assign, accept
		t.Fatalf("%d successful entries in the timeline, want 3", ok)
	}
}

// TestDeadlineInTheOrganisationsZone: a deadline is a calendar date in
// Asia/Shanghai, so it passes at midnight there, not at midnight UTC.
func TestDeadlineInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "时区", "一班", nil)
	s.assign(t, p.ID, "owner1", "2026-03-05")
	get := func() problem {
		s.mu.Lock()
		clear(s.tokens) // the clock jumps; log in afresh
		s.mu.Unlock()
		return s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "owner1"}).problem(t)
	}
	for _, c := range []struct {
		at      time.Time
		warning string
		overdue bool
	}{
		{time.Date(2026, 3, 5, 15, 59, 0, 0, time.UTC), "yellow", false}, // 03-05 23:59 in Shanghai: the last day
		{time.Date(2026, 3, 5, 16, 1, 0, 0, time.UTC), "red", true},      // 03-06 00:01 in Shanghai: overdue, though still 03-05 in UTC
	} {
		s.env.Clock.Set(c.at)
		got := get()
		if got.Warning == nil || *got.Warning != c.warning || got.Overdue != c.overdue {
			t.Errorf("at %s: warning %v overdue %v, want %s %v", c.at, got.Warning, got.Overdue, c.warning, c.overdue)
		}
	}
	// On 03-02 in Shanghai the deadline is 3 days away: yellow (within 3 days).
	s.env.Clock.Set(apptest.Start)
	if got := get(); *got.Warning != "yellow" {
		t.Errorf("3 days before: %s", *got.Warning)
	}
	// 4 days before would be green: reassign with a later deadline.
	s.act(t, "verifier", p.ID, "assign", map[string]any{"assignee_id": s.id("owner1"), "deadline": "2026-03-06"})
	if got := get(); *got.Warning != "green" {
		t.Errorf("4 days before: %s", *got.Warning)
	}
}

// TestScopeFollowsTheUnitTree: moving a unit moves its problems into the new
// parent's owners' scope.
func TestScopeFollowsTheUnitTree(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "二班的问题", "二班", nil)
	path := pathf("/api/v1/problems/%d", p.ID)
	s.must(t, http.StatusNotFound, req{method: "GET", path: path, as: "owner1"})
	s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/units/%d", s.unit("二班")), as: "admin", body: map[string]any{"parent_id": s.unit("一班")}})
	s.must(t, http.StatusOK, req{method: "GET", path: path, as: "owner1"})
	var l list[problem]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?unit_id=" + itoa(s.unit("一班")), as: "owner1"}).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != p.ID {
		t.Fatalf("owner1's list after the move: %+v", l.Items)
	}
	// A user moved to another unit sees that unit's problems at once, with the same token.
	s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner2")), as: "admin", body: map[string]any{"unit_id": s.unit("部门")}})
	s.must(t, http.StatusOK, req{method: "GET", path: path, as: "owner2"})
	// A user who loses the owner role loses the unit's problems.
	s.must(t, http.StatusOK, req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("owner2")), as: "admin", body: map[string]any{"roles": []string{"inspector"}}})
	r := s.must(t, http.StatusOK, req{method: "GET", path: path, as: "owner2"}) // inspectors read all
	if slices.Contains(r.problem(t).AvailableActions, "accept") {
		t.Fatalf("an inspector is offered accept")
	}
}
