package httpapi_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// Re-checks (回头看) over HTTP: scheduled by closing, listed by due date,
// recorded once by a verifier other than the assignee, a relapse reopening
// the problem, and the board's relapse rate.

// recheck is the wire form of a re-check, as far as the tests read it.
type recheck struct {
	ID         int64   `json:"id"`
	ProblemID  int64   `json:"problem_id"`
	Round      int     `json:"round"`
	OffsetDays int     `json:"offset_days"`
	DueOn      string  `json:"due_on"`
	Status     string  `json:"status"`
	Note       *string `json:"note"`
	CheckedBy  *int64  `json:"checked_by"`
	CheckedAt  *string `json:"checked_at"`
	Problem    struct {
		ID       int64   `json:"id"`
		Code     string  `json:"code"`
		Status   string  `json:"status"`
		Deadline *string `json:"deadline"`
	} `json:"problem"`
}

type recheckResult struct {
	Recheck recheck `json:"recheck"`
	Problem problem `json:"problem"`
}

// closeProblem drives a problem of this severity, assigned to owner in unit,
// to closed over HTTP; verifier closes it.
func (s *apiServer) closeProblem(t testing.TB, title, severity, unit, owner string) problem {
	t.Helper()
	p := s.register(t, title, unit, map[string]any{"severity": severity})
	s.assign(t, p.ID, owner, "")
	s.act(t, owner, p.ID, "accept", map[string]any{"note": "签收"})
	ev := s.upload(t, owner, "整改报告.pdf", append(slices.Clone(samplePDF), title...))
	s.act(t, owner, p.ID, "submit", map[string]any{"note": "已整改", "attachment_ids": []int64{ev.ID}})
	return s.act(t, "verifier", p.ID, "verify", map[string]any{"passed": true, "note": "同意销号"})
}

// rechecks lists re-checks with a raw query as user as.
func (s *apiServer) rechecks(t testing.TB, as, query string) list[recheck] {
	t.Helper()
	var l list[recheck]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/rechecks?" + query, as: as}).decode(t, &l)
	return l
}

func recordPath(id int64) string { return pathf("/api/v1/rechecks/%d/result", id) }

func TestRechecksOverHTTP(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	held := s.closeProblem(t, "会议纪律松散", "serious", "一班", "owner1") // closed 2026-03-02: due 2026-04-01
	if l := s.rechecks(t, "verifier", "due=2026-03-02"); len(l.Items) != 0 || l.NextCursor != nil {
		t.Fatalf("due today, before the re-check's date: %+v", l)
	}
	l := s.rechecks(t, "verifier", "due=2026-04-01")
	if len(l.Items) != 1 {
		t.Fatalf("due on the 30th day: %+v", l)
	}
	rc := l.Items[0]
	if rc.ProblemID != held.ID || rc.Problem.ID != held.ID || rc.Problem.Code != held.Code || rc.Problem.Status != "closed" ||
		rc.OffsetDays != 30 || rc.DueOn != "2026-04-01" || rc.Round != 0 || rc.Status != "pending" || rc.Note != nil ||
		rc.CheckedBy != nil || rc.CheckedAt != nil {
		t.Fatalf("the scheduled re-check: %+v", rc)
	}
	if l := s.rechecks(t, "owner1", ""); len(l.Items) != 1 {
		t.Fatalf("the assignee sees the re-check of their problem: %+v", l)
	}
	if l := s.rechecks(t, "owner2", ""); len(l.Items) != 0 {
		t.Fatalf("another unit's owner sees %+v", l)
	}

	relapsing := s.closeProblem(t, "台账不全", "serious", "一班", "owner1")
	critical := s.closeProblem(t, "安全隐患", "critical", "一班", "owner1") // due after 30 and 90 days
	own := s.closeProblem(t, "本人问题", "serious", "一班", "ownerverifier")
	s.closeProblem(t, "一般问题", "general", "一班", "owner1") // general problems are not re-checked
	s.advance(30 * 24 * time.Hour)                       // 2026-04-01
	due := s.rechecks(t, "verifier", "due=2026-04-01")
	if len(due.Items) != 4 {
		t.Fatalf("due by 2026-04-01: %+v", due)
	}
	ids := map[int64]int64{} // problem → its first re-check
	for _, x := range due.Items {
		ids[x.ProblemID] = x.ID
	}
	var later recheck // the critical problem's second re-check
	for _, x := range s.rechecks(t, "verifier", pathf("problem_id=%d", critical.ID)).Items {
		if x.OffsetDays == 90 {
			later = x
		}
	}
	if later.ID == 0 || later.DueOn != "2026-05-31" || later.Status != "pending" {
		t.Fatalf("the critical problem's second re-check: %+v", later)
	}

	holds := map[string]any{"result": "holds", "note": "回头看：制度执行良好"}
	relapse := map[string]any{"result": "relapsed", "note": "回头看：问题反弹", "deadline": "2026-04-16"}
	s.run(t, []row{
		{name: "owner", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "owner1", body: holds},
			status: http.StatusForbidden, code: "role_required"},
		{name: "verifier who is the assignee", req: req{method: "POST", path: recordPath(ids[own.ID]), as: "ownerverifier", body: holds},
			status: http.StatusForbidden, code: "four_eyes"},
		{name: "owner out of scope", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "owner2", body: holds},
			status: http.StatusNotFound, code: "not_found"},
		{name: "unknown re-check", req: req{method: "POST", path: recordPath(999999), as: "verifier", body: holds},
			status: http.StatusNotFound, code: "not_found"},
		{name: "relapsed without a deadline", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "relapsed", "note": "反弹"}}, status: http.StatusBadRequest, code: "invalid_input", check: fieldIs("deadline")},
		{name: "holds with a deadline", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "holds", "note": "好", "deadline": "2026-05-01"}}, status: http.StatusBadRequest, check: fieldIs("deadline")},
		{name: "relapsed with a past deadline", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "relapsed", "note": "反弹", "deadline": "2026-03-31"}}, status: http.StatusBadRequest, check: fieldIs("deadline")},
		{name: "unknown result", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "maybe", "note": "?"}}, status: http.StatusBadRequest, check: fieldIs("result")},
		{name: "no note", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "holds"}}, status: http.StatusBadRequest, check: fieldIs("note")},
		{name: "malformed deadline", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "relapsed", "note": "反弹", "deadline": "4/16"}}, status: http.StatusBadRequest, check: fieldIs("deadline")},
		{name: "unknown field", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier",
			body: map[string]any{"result": "holds", "note": "好", "passed": true}}, status: http.StatusBadRequest, check: fieldIs("passed")},
		{name: "no token", req: req{method: "POST", path: recordPath(ids[held.ID]), body: holds}, status: http.StatusUnauthorized},
	})
	if l := s.rechecks(t, "verifier", "status=held,relapsed"); len(l.Items) != 0 {
		t.Fatalf("refused attempts recorded something: %+v", l)
	}

	// The fix holds: recorded with its evidence; the problem stays closed.
	ev := s.upload(t, "verifier2", "回头看记录.pdf", append(slices.Clone(samplePDF), "回头看"...))
	var got recheckResult
	s.must(t, http.StatusOK, req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier2",
		body: map[string]any{"result": "holds", "note": "回头看：制度执行良好", "attachment_ids": []int64{ev.ID}}}).decode(t, &got)
	if got.Recheck.Status != "held" || got.Recheck.Note == nil || *got.Recheck.Note != "回头看：制度执行良好" ||
		got.Recheck.CheckedBy == nil || *got.Recheck.CheckedBy != s.id("verifier2") || got.Recheck.CheckedAt == nil ||
		got.Problem.ID != held.ID || got.Problem.Status != "closed" || got.Problem.Version != held.Version ||
		got.Problem.ReopenCount != 0 {
		t.Fatalf("holds: %+v", got)
	}
	var atts list[attachment]
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d/attachments", held.ID), as: "verifier"}).decode(t, &atts)
	if !slices.ContainsFunc(atts.Items, func(a attachment) bool { return a.ID == ev.ID && a.Action == "recheck" }) {
		t.Fatalf("the re-check's evidence is not attached: %+v", atts)
	}
	s.run(t, []row{
		{name: "recorded again", req: req{method: "POST", path: recordPath(ids[held.ID]), as: "verifier", body: holds},
			status: http.StatusConflict, code: "conflict"},
	})

	// The problem relapsed: reopened with the new deadline, the re-check linked to it.
	s.must(t, http.StatusOK, req{method: "POST", path: recordPath(ids[relapsing.ID]), as: "verifier", body: relapse}).decode(t, &got)
	if got.Recheck.Status != "relapsed" || got.Problem.Status != "rectifying" || got.Problem.ReopenCount != 1 ||
		got.Problem.Deadline == nil || *got.Problem.Deadline != "2026-04-16" || got.Problem.Version != relapsing.Version+1 ||
		got.Recheck.Problem.Status != "rectifying" || got.Recheck.Problem.Deadline == nil || *got.Recheck.Problem.Deadline != "2026-04-16" {
		t.Fatalf("relapsed: %+v", got)
	}
	if p := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", relapsing.ID), as: "verifier"}).problem(t); p.Status != "rectifying" || p.ReopenCount != 1 {
		t.Fatalf("the relapsed problem: %+v", p)
	}
	if !hasNotification(s.inbox(t, "owner1", ""), "problem.relapsed", relapsing.ID) {
		t.Fatalf("the assignee was not told of the relapse")
	}
	var history list[auditEntry]
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d/history", relapsing.ID), as: "verifier"}).decode(t, &history)
	actions := make([]string, 0, len(history.Items))
	for _, e := range history.Items {
		if e.Outcome == "ok" {
			actions = append(actions, e.Action)
		}
	}
	if n := len(actions); n < 2 || actions[n-2] != "recheck" || actions[n-1] != "reopen" {
		t.Fatalf("the relapse's timeline: %v", actions)
	}

	// A relapse cancels the closure's other pending re-checks.
	s.must(t, http.StatusOK, req{method: "POST", path: recordPath(ids[critical.ID]), as: "verifier", body: relapse})
	l = s.rechecks(t, "verifier", pathf("problem_id=%d&status=cancelled", critical.ID))
	if len(l.Items) != 1 || l.Items[0].ID != later.ID || l.Items[0].Note != nil {
		t.Fatalf("the critical problem's later re-check: %+v", l)
	}
	s.run(t, []row{
		{name: "cancelled re-check", req: req{method: "POST", path: recordPath(later.ID), as: "verifier", body: holds},
			status: http.StatusConflict, code: "conflict"},
	})

	// The board: 1 held, 2 relapsed.
	var o struct {
		RecheckHeld     int64    `json:"recheck_held"`
		RecheckRelapsed int64    `json:"recheck_relapsed"`
		RelapseRate     *float64 `json:"relapse_rate"`
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/overview", as: "leader"}).decode(t, &o)
	if o.RecheckHeld != 1 || o.RecheckRelapsed != 2 || o.RelapseRate == nil || *o.RelapseRate != 0.6667 {
		t.Fatalf("overview after the re-checks: %+v", o)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/stats/overview?severity=serious"), as: "leader"}).decode(t, &o)
	if o.RecheckHeld != 1 || o.RecheckRelapsed != 1 || o.RelapseRate == nil || *o.RelapseRate != 0.5 {
		t.Fatalf("overview of serious problems: %+v", o)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/stats/overview", as: "owner2"}).decode(t, &o)
	if o.RecheckHeld != 0 || o.RecheckRelapsed != 0 || o.RelapseRate != nil {
		t.Fatalf("owner2's board counts re-checks it cannot see: %+v", o)
	}
}

func TestRecheckListPagingAndFilters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for i := range 3 {
		s.closeProblem(t, pathf("问题 %d", i), "critical", "二班", "owner2") // two re-checks each: 2026-04-01 and 2026-05-31
	}
	var all []recheck
	query := "limit=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatalf("the cursor does not end")
		}
		l := s.rechecks(t, "leader", query)
		all = append(all, l.Items...)
		if l.NextCursor == nil {
			break
		}
		if len(l.Items) != 2 {
			t.Fatalf("a page that is not the last is short: %+v", l)
		}
		query = "limit=2&cursor=" + url.QueryEscape(*l.NextCursor)
	}
	if len(all) != 6 {
		t.Fatalf("paged %d re-checks, want 6: %+v", len(all), all)
	}
	if !slices.IsSortedFunc(all, func(a, b recheck) int {
		if a.DueOn != b.DueOn {
			return cmpString(a.DueOn, b.DueOn)
		}
		return int(a.ID - b.ID)
	}) || all[0].DueOn != "2026-04-01" || all[5].DueOn != "2026-05-31" {
		t.Fatalf("not earliest due first: %+v", all)
	}
	if l := s.rechecks(t, "leader", "due=2026-05-30"); len(l.Items) != 3 {
		t.Fatalf("due by 2026-05-30: %d", len(l.Items))
	}
	if l := s.rechecks(t, "leader", "due=2026-05-31&status=pending,held"); len(l.Items) != 6 {
		t.Fatalf("due by 2026-05-31: %d", len(l.Items))
	}
	if l := s.rechecks(t, "leader", "status=held"); len(l.Items) != 0 {
		t.Fatalf("held: %d", len(l.Items))
	}
	other := *encodedOtherCursor(t, s)
	s.run(t, []row{
		{name: "unknown status", req: req{method: "GET", path: "/api/v1/rechecks?status=done", as: "leader"}, status: http.StatusBadRequest, check: fieldIs("status")},
		{name: "malformed due", req: req{method: "GET", path: "/api/v1/rechecks?due=2026-13-01", as: "leader"}, status: http.StatusBadRequest, check: fieldIs("due")},
		{name: "bad problem id", req: req{method: "GET", path: "/api/v1/rechecks?problem_id=0", as: "leader"}, status: http.StatusBadRequest},
		{name: "garbage cursor", req: req{method: "GET", path: "/api/v1/rechecks?cursor=%21%21", as: "leader"}, status: http.StatusBadRequest, check: fieldIs("cursor")},
		{name: "cursor of another list", req: req{method: "GET", path: "/api/v1/rechecks?cursor=" + other, as: "leader"}, status: http.StatusBadRequest, check: fieldIs("cursor")},
		{name: "unknown parameter", req: req{method: "GET", path: "/api/v1/rechecks?overdue=true", as: "leader"}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "limit too large", req: req{method: "GET", path: "/api/v1/rechecks?limit=201", as: "leader"}, status: http.StatusBadRequest},
		{name: "no token", req: req{method: "GET", path: "/api/v1/rechecks"}, status: http.StatusUnauthorized},
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// encodedOtherCursor returns a next_cursor of the problem list.
func encodedOtherCursor(t *testing.T, s *apiServer) *string {
	t.Helper()
	var l list[problem]
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?limit=1", as: "leader"}).decode(t, &l)
	if l.NextCursor == nil {
		t.Fatalf("no second page of problems")
	}
	return l.NextCursor
}

func TestRecheckResultIdempotent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.closeProblem(t, "重试回头看", "serious", "一班", "owner1")
	rc := s.rechecks(t, "verifier", "").Items[0]
	record := withKey(req{method: "POST", path: recordPath(rc.ID), as: "verifier",
		body: map[string]any{"result": "relapsed", "note": "反弹", "deadline": "2026-03-20"}}, "recheck-1")
	first := s.must(t, http.StatusOK, record)
	entries := s.auditCount(t)
	again := s.must(t, http.StatusOK, record)
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay\n got %v %s\nwant %s", again.header, again.body, first.body)
	}
	if s.auditCount(t) != entries {
		t.Fatalf("the replay was audited or done again")
	}
	if q := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "verifier"}).problem(t); q.ReopenCount != 1 || q.Version != p.Version+1 {
		t.Fatalf("reopened twice: %+v", q)
	}
	// The same key with another body is a conflict; a new key meets the recorded re-check.
	s.must(t, http.StatusConflict, withKey(req{method: "POST", path: recordPath(rc.ID), as: "verifier",
		body: map[string]any{"result": "holds", "note": "好"}}, "recheck-1"))
	r := s.must(t, http.StatusConflict, withKey(req{method: "POST", path: recordPath(rc.ID), as: "verifier",
		body: map[string]any{"result": "relapsed", "note": "反弹", "deadline": "2026-03-20"}}, "recheck-2"))
	if r.apiError(t).Error.Code != "conflict" {
		t.Fatalf("%s", r.body)
	}
}
