package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Milestones (挂图作战), warning levels with the fake clock, the list's
// warning filter agreeing with them, and the extension policy (issue 3).

type milestoneWire struct {
	ID     int64   `json:"id"`
	Due    string  `json:"due"`
	Title  string  `json:"title"`
	Done   bool    `json:"done"`
	DoneAt *string `json:"done_at"`
}

type problemWithPlan struct {
	ID         int64           `json:"id"`
	Warning    *string         `json:"warning"`
	Milestones []milestoneWire `json:"milestones"`
}

func (s *apiServer) plan(t *testing.T, id int64) problemWithPlan {
	t.Helper()
	var p problemWithPlan
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", id), as: "verifier"}).decode(t, &p)
	return p
}

// warningsAgree checks that the list's warning filter returns exactly the
// problems whose own warning is that level, and that want holds.
func (s *apiServer) warningsAgree(t *testing.T, want map[int64]string) {
	t.Helper()
	var all list[problemWithPlan]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?limit=200", as: "verifier"}).decode(t, &all)
	byLevel := map[string][]int64{}
	for _, p := range all.Items {
		if p.Warning != nil {
			byLevel[*p.Warning] = append(byLevel[*p.Warning], p.ID)
		}
		if w, ok := want[p.ID]; ok && (p.Warning == nil || *p.Warning != w) {
			t.Errorf("problem %d: warning %v, want %s", p.ID, p.Warning, w)
		}
	}
	for _, level := range []string{"green", "yellow", "red"} {
		var filtered list[problemWithPlan]
		q := url.Values{"warning": {level}, "limit": {"200"}}
		s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?" + q.Encode(), as: "verifier"}).decode(t, &filtered)
		var got []int64
		for _, p := range filtered.Items {
			got = append(got, p.ID)
		}
		if !slices.Equal(got, byLevel[level]) {
			t.Errorf("warning=%s lists %v; the problems that show %s are %v", level, got, level, byLevel[level])
		}
	}
}

func TestMilestonesAndWarnings(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p1 := s.register(t, "挂图作战", "一班", nil).ID
	p2 := s.register(t, "无计划", "一班", nil).ID
	p3 := s.register(t, "临近期限", "一班", nil).ID
	assign := func(id int64, body map[string]any) req {
		b := map[string]any{"assignee_id": s.id("owner1"), "measures": "措施"}
		for k, v := range body {
			b[k] = v
		}
		return req{method: "POST", path: pathf("/api/v1/problems/%d/assign", id), as: "verifier", body: b}
	}
	plan := []map[string]any{{"due": "2026-03-15", "title": "完成整改"}, {"due": "2026-03-05", "title": "制定方案"},
		{"due": "2026-03-31", "title": "验收材料"}}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"due": "2026-03-10", "title": "步骤"}
	}
	s.run(t, []row{
		{name: "milestone after the deadline", req: assign(p1, map[string]any{"deadline": "2026-03-31",
			"milestones": []map[string]any{{"due": "2026-04-01", "title": "晚了"}}}),
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestones[0].due")},
		{name: "milestone after the default deadline", req: assign(p1, map[string]any{
			"milestones": []map[string]any{{"due": "2026-04-02", "title": "晚了"}}}), // general: 30 days, 2026-04-01
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestones[0].due")},
		{name: "milestone in the past", req: assign(p1, map[string]any{"deadline": "2026-03-31",
			"milestones": []map[string]any{{"due": "2026-03-02", "title": "今天"}, {"due": "2026-03-01", "title": "昨天"}}}),
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestones[1].due")},
		{name: "milestone without a title", req: assign(p1, map[string]any{"deadline": "2026-03-31",
			"milestones": []map[string]any{{"due": "2026-03-10", "title": " "}}}),
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestones[0].title")},
		{name: "milestone with a malformed date", req: assign(p1, map[string]any{"deadline": "2026-03-31",
			"milestones": []map[string]any{{"due": "3/10", "title": "x"}}}),
			status: http.StatusBadRequest, code: "invalid_request", check: fieldIs("milestones[0].due")},
		{name: "milestone with an unknown field", req: assign(p1, map[string]any{"deadline": "2026-03-31",
			"milestones": []map[string]any{{"due": "2026-03-10", "title": "x", "owner": 1}}}),
			status: http.StatusBadRequest, code: "invalid_request"},
		{name: "too many milestones", req: assign(p1, map[string]any{"deadline": "2026-03-31", "milestones": many}),
			status: http.StatusBadRequest},
	})
	if got := s.plan(t, p1); got.Warning != nil || len(got.Milestones) != 0 {
		t.Fatalf("refused assignments changed the problem: %+v", got)
	}

	s.must(t, http.StatusOK, assign(p1, map[string]any{"deadline": "2026-03-31", "milestones": plan}))
	s.assign(t, p2, "owner1", "2026-03-31")
	s.assign(t, p3, "owner1", "2026-03-04")
	got := s.plan(t, p1)
	if len(got.Milestones) != 3 || got.Milestones[0].Title != "制定方案" || got.Milestones[0].Due != "2026-03-05" ||
		got.Milestones[0].Done || got.Milestones[0].DoneAt != nil || got.Milestones[2].Title != "验收材料" {
		t.Fatalf("milestones, by due date: %+v", got.Milestones)
	}
	m1, m2 := got.Milestones[0].ID, got.Milestones[1].ID
	s.warningsAgree(t, map[int64]string{p1: "green", p2: "green", p3: "yellow"})

	// 2026-03-06: the first milestone passed undone (序时进度落后); p3 is overdue.
	s.advance(4 * 24 * time.Hour)
	s.warningsAgree(t, map[int64]string{p1: "yellow", p2: "green", p3: "red"})

	// Ticking it off turns the light green again.
	s.act(t, "owner1", p1, "accept", nil)
	s.run(t, []row{
		{name: "tick an unknown milestone", req: req{method: "POST", path: pathf("/api/v1/problems/%d/progress", p1), as: "owner1",
			body: map[string]any{"note": "进展", "milestone_ids": []int64{m1, 99999}}},
			status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestone_ids")},
		{name: "tick another problem's milestone", req: func() req {
			s.act(t, "owner1", p2, "accept", nil)
			return req{method: "POST", path: pathf("/api/v1/problems/%d/progress", p2), as: "owner1",
				body: map[string]any{"note": "进展", "milestone_ids": []int64{m1}}}
		}(), status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("milestone_ids")},
	})
	s.act(t, "owner1", p1, "progress", map[string]any{"note": "方案已制定", "percent": 30, "milestone_ids": []int64{m1}})
	got = s.plan(t, p1)
	if !got.Milestones[0].Done || got.Milestones[0].DoneAt == nil || got.Milestones[1].Done {
		t.Fatalf("after the report: %+v", got.Milestones)
	}
	s.warningsAgree(t, map[int64]string{p1: "green", p2: "green", p3: "red"})
	// The tick is in the audit entry.
	entries := s.history(t, "leader", p1, 50)
	last := entries[len(entries)-1]
	if last.Action != "progress" || !strings.Contains(string(last.Changes), `"milestones_done"`) || !strings.Contains(string(last.Changes), "制定方案") {
		t.Fatalf("progress entry: %s", last.Changes)
	}

	// 2026-03-16: the second milestone passed undone.
	s.advance(10 * 24 * time.Hour)
	s.warningsAgree(t, map[int64]string{p1: "yellow", p2: "green"})
	// A new plan replaces the open milestones; the done one stays.
	s.must(t, http.StatusOK, assign(p1, map[string]any{"milestones": []map[string]any{{"due": "2026-03-20", "title": "返工"}}}))
	got = s.plan(t, p1)
	if len(got.Milestones) != 2 || got.Milestones[0].ID != m1 || !got.Milestones[0].Done || got.Milestones[1].ID == m2 ||
		got.Milestones[1].Title != "返工" {
		t.Fatalf("re-planned: %+v", got.Milestones)
	}
	s.warningsAgree(t, map[int64]string{p1: "green", p2: "green"})

	// 2026-03-29: within three days of the deadline; 2026-04-01: overdue.
	s.advance(13 * 24 * time.Hour)
	s.warningsAgree(t, map[int64]string{p1: "yellow", p2: "yellow"})
	s.advance(3 * 24 * time.Hour)
	s.warningsAgree(t, map[int64]string{p1: "red", p2: "red"})
}

func TestExtensionPolicy(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.register(t, "延期政策", "一班", nil).ID
	s.assign(t, id, "owner1", "2026-03-10")
	s.act(t, "owner1", id, "accept", nil)
	ask := func(deadline string) req {
		return req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", id), as: "owner1",
			body: map[string]any{"deadline": deadline, "reason": "需要时间"}}
	}
	decide := func(as string, eid int64, approved bool) req {
		return req{method: "POST", path: pathf("/api/v1/problems/%d/extensions/%d/decision", id, eid), as: as,
			body: map[string]any{"approved": approved, "note": "意见"}}
	}
	var e1, e2 struct{ ID int64 }
	s.must(t, http.StatusCreated, ask("2026-03-20")).decode(t, &e1)
	p := s.must(t, http.StatusOK, decide("verifier", e1.ID, true)).problem(t)
	if p.ExtensionCount != 1 || *p.Deadline != "2026-03-20" {
		t.Fatalf("first extension: %+v", p)
	}
	// The second is decided by a leader.
	s.must(t, http.StatusCreated, ask("2026-03-25")).decode(t, &e2)
	r := s.must(t, http.StatusForbidden, decide("verifier", e2.ID, true))
	if r.apiError(t).Error.Code != "leader_required" || !strings.Contains(r.apiError(t).Error.Message, "leader") {
		t.Fatalf("%s", r.body)
	}
	if got := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", id), as: "verifier"}).problem(t); slices.Contains(got.AvailableActions, "decide_extension") {
		t.Fatalf("a verifier is offered the second decision: %v", got.AvailableActions)
	}
	p = s.must(t, http.StatusOK, decide("leader", e2.ID, true)).problem(t)
	if p.ExtensionCount != 2 || *p.Deadline != "2026-03-25" {
		t.Fatalf("second extension: %+v", p)
	}
	// At most two.
	r = s.must(t, http.StatusConflict, ask("2026-03-30"))
	if r.apiError(t).Error.Code != "conflict" || !strings.Contains(r.apiError(t).Error.Message, "at most 2") {
		t.Fatalf("third request: %s", r.body)
	}

	// A request must come on or before the deadline.
	late := s.register(t, "逾期再申请", "一班", nil).ID
	s.assign(t, late, "owner1", "2026-03-04")
	s.advance(2 * 24 * time.Hour) // 2026-03-04: the deadline day itself is fine
	var e3 struct{ ID int64 }
	s.must(t, http.StatusCreated, req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", late), as: "owner1",
		body: map[string]any{"deadline": "2026-03-08", "reason": "当天申请"}}).decode(t, &e3)
	s.must(t, http.StatusOK, req{method: "POST", path: pathf("/api/v1/problems/%d/extensions/%d/decision", late, e3.ID), as: "verifier",
		body: map[string]any{"approved": false, "note": "不同意"}})
	s.advance(24 * time.Hour) // 2026-03-05: past the deadline
	r = s.must(t, http.StatusConflict, req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", late), as: "owner1",
		body: map[string]any{"deadline": "2026-03-08", "reason": "逾期申请"}})
	if !strings.Contains(r.apiError(t).Error.Message, "has passed") {
		t.Fatalf("late request: %s", r.body)
	}
}
