package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// listFixture is six problems at various stages, dates and units:
//
//	A 会议纪律松散   一班 general  inspection  cat 5  created 03-02  owner1  deadline 03-10  rectifying
//	B 学习笔记缺失   二班 critical spot_check  cat 8  created 03-02  owner2  deadline 03-14  assigned
//	C 值班记录不全   部门 serious  report      cat 5  created 03-02  -       -               registered
//	D 纪律问题（二） 一班 general  self_check  cat 5  created 03-04  owner1  deadline 03-05  assigned
//	E 已销号的问题   一班 general  inspection  cat 5  created 03-04  owner1  deadline 03-06  closed on time
//	F 不予立项的问题 二班 general  inspection  cat 5  created 03-04  -       -               dismissed
type listFixture struct {
	s  *apiServer
	id map[string]int64 // letter → id
	by map[int64]string // id → letter
	p  map[string]problem
}

func newListFixture(t *testing.T) *listFixture {
	s := newServer(t)
	f := &listFixture{s: s, id: map[string]int64{}, by: map[int64]string{}, p: map[string]problem{}}
	add := func(letter, title, unit string, extra map[string]any) {
		p := s.register(t, title, unit, extra)
		f.id[letter], f.by[p.ID], f.p[letter] = p.ID, letter, p
	}
	add("A", "会议纪律松散", "一班", nil)
	add("B", "学习笔记缺失", "二班", map[string]any{"severity": "critical", "source": "spot_check", "category_id": 8})
	add("C", "值班记录不全", "部门", map[string]any{"severity": "serious", "source": "report"})
	s.assign(t, f.id["A"], "owner1", "2026-03-10")
	s.act(t, "owner1", f.id["A"], "accept", nil)
	s.assign(t, f.id["B"], "owner2", "2026-03-14")

	s.advance(48 * time.Hour) // 2026-03-04 in Shanghai
	add("D", "纪律问题（二）", "一班", map[string]any{"source": "self_check"})
	add("E", "已销号的问题", "一班", nil)
	add("F", "不予立项的问题", "二班", nil)
	s.assign(t, f.id["D"], "owner1", "2026-03-05")
	s.assign(t, f.id["E"], "owner1", "2026-03-06")
	s.act(t, "owner1", f.id["E"], "accept", nil)
	s.act(t, "owner1", f.id["E"], "submit", map[string]any{"note": "已整改"})
	s.act(t, "verifier", f.id["E"], "verify", map[string]any{"passed": true})
	s.act(t, "verifier", f.id["F"], "dismiss", map[string]any{"reason": "不属实"})
	return f
}

// list fetches one page and returns it.
func (f *listFixture) list(t *testing.T, as string, q url.Values) list[problem] {
	t.Helper()
	var l list[problem]
	f.s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/problems?" + q.Encode(), as: as}).decode(t, &l)
	return l
}

// letters maps a page to sorted letters.
func (f *listFixture) letters(t *testing.T, l list[problem]) string {
	t.Helper()
	var out []string
	for _, p := range l.Items {
		letter, ok := f.by[p.ID]
		if !ok {
			t.Fatalf("unknown problem %d", p.ID)
		}
		out = append(out, letter)
	}
	sort.Strings(out)
	return strings.Join(out, "")
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestListFiltersAndWarnings(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	s := f.s

	// On 2026-03-04: A green (6 days), B green (10), D yellow (1), E green (closed on time), C and F none.
	warnings := func(t *testing.T, want map[string]string) {
		t.Helper()
		for _, p := range f.list(t, "verifier", q("limit", "200")).Items {
			got := ""
			if p.Warning != nil {
				got = *p.Warning
			}
			if letter := f.by[p.ID]; got != want[letter] {
				t.Errorf("%s: warning %q, want %q", letter, got, want[letter])
			}
		}
	}
	warnings(t, map[string]string{"A": "green", "B": "green", "D": "yellow", "E": "green"})
	if got := f.letters(t, f.list(t, "verifier", q("warning", "yellow"))); got != "D" {
		t.Fatalf("yellow on 03-04: %s", got)
	}
	if got := f.letters(t, f.list(t, "verifier", q("overdue", "true"))); got != "" {
		t.Fatalf("overdue on 03-04: %s", got)
	}

	// On 2026-03-12: A red (overdue), B yellow (2 days), D red (overdue), E still green.
	s.advance(8 * 24 * time.Hour)
	warnings(t, map[string]string{"A": "red", "B": "yellow", "D": "red", "E": "green"})
	a := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", f.id["A"]), as: "owner1"}).problem(t)
	if !a.Overdue || *a.Warning != "red" {
		t.Fatalf("A on 03-12: %+v", a)
	}

	cases := []struct {
		name  string
		as    string
		query url.Values
		want  string
	}{
		{"everything", "verifier", nil, "ABCDEF"},
		{"status", "verifier", q("status", "registered"), "C"},
		{"status comma-separated", "verifier", q("status", "assigned,rectifying"), "ABD"},
		{"status repeated", "verifier", q("status", "closed", "status", "dismissed"), "EF"},
		{"severity", "verifier", q("severity", "critical"), "B"},
		{"severities", "verifier", q("severity", "general,serious"), "ACDEF"},
		{"source", "verifier", q("source", "spot_check"), "B"},
		{"category subtree", "verifier", q("category_id", "2"), "B"},
		{"category leaf", "verifier", q("category_id", "5"), "ACDEF"},
		{"unit subtree 部门", "verifier", q("unit_id", itoa(s.unit("部门"))), "ABCDEF"},
		{"unit 一班", "verifier", q("unit_id", itoa(s.unit("一班"))), "ADE"},
		{"unit 二班", "verifier", q("unit_id", itoa(s.unit("二班"))), "BF"},
		{"assignee", "verifier", q("assignee_id", itoa(s.id("owner1"))), "ADE"},
		{"warning red", "verifier", q("warning", "red"), "AD"},
		{"warning yellow", "verifier", q("warning", "yellow"), "B"},
		{"warning green keeps closed on time", "verifier", q("warning", "green"), "E"},
		{"warning yellow or red", "verifier", q("warning", "yellow,red"), "ABD"},
		{"overdue", "verifier", q("overdue", "true"), "AD"},
		{"not overdue", "verifier", q("overdue", "false"), "BCEF"},
		{"text in Chinese", "verifier", q("q", "纪律"), "AD"},
		{"text in the description", "verifier", q("q", "描述：学习"), "B"},
		{"text by code", "verifier", q("q", f.p["C"].Code), "C"},
		{"text with LIKE wildcards", "verifier", q("q", "%"), ""},
		{"deadline range", "verifier", q("deadline_from", "2026-03-06", "deadline_to", "2026-03-14"), "ABE"},
		{"deadline upper bound inclusive", "verifier", q("deadline_to", "2026-03-05"), "D"},
		{"created on a day", "verifier", q("created_to", "2026-03-02"), "ABC"},
		{"created from a day", "verifier", q("created_from", "2026-03-03"), "DEF"},
		{"created from an instant", "verifier", q("created_from", "2026-03-04T00:00:00+08:00"), "DEF"},
		{"created before an instant", "verifier", q("created_to", "2026-03-03T16:00:00Z"), "ABC"},
		{"combined", "verifier", q("unit_id", itoa(s.unit("一班")), "overdue", "true", "severity", "general"), "AD"},
		{"owner1 sees 一班", "owner1", nil, "ADE"},
		{"owner2 sees 二班", "owner2", nil, "BF"},
		{"ownerdept sees the subtree", "ownerdept", nil, "ABCDEF"},
		{"scope and filter combine", "owner1", q("unit_id", itoa(s.unit("二班"))), ""},
		{"leader sees all", "leader", q("status", "closed"), "E"},
		{"inspector sees all", "inspector", q("overdue", "true"), "AD"},
		{"admin sees none", "admin", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := f.list(t, c.as, c.query)
			if got := f.letters(t, l); got != c.want {
				t.Fatalf("%s: %s, want %s", c.query.Encode(), got, c.want)
			}
			if l.NextCursor != nil {
				t.Fatalf("a cursor on a short list")
			}
			for i := 1; i < len(l.Items); i++ {
				if l.Items[i].ID >= l.Items[i-1].ID {
					t.Fatalf("not newest first: %d then %d", l.Items[i-1].ID, l.Items[i].ID)
				}
			}
		})
	}
}

func TestListInputErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.register(t, "一个问题", "一班", nil)
	get := func(v url.Values) req {
		return req{method: "GET", path: "/api/v1/problems?" + v.Encode(), as: "verifier"}
	}
	auditCursor := base64.RawURLEncoding.EncodeToString([]byte("a:5"))
	userCursor := base64.RawURLEncoding.EncodeToString([]byte("u:5"))
	s.run(t, []row{
		{name: "unknown parameter", req: get(q("colour", "red")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("colour")},
		{name: "misspelt filter", req: get(q("statuses", "closed")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("statuses")},
		{name: "unknown status", req: get(q("status", "open")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("status")},
		{name: "one unknown status among many", req: get(q("status", "closed,open")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("status")},
		{name: "unknown severity", req: get(q("severity", "fatal")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("severity")},
		{name: "unknown source", req: get(q("source", "rumour")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("source")},
		{name: "unknown warning", req: get(q("warning", "purple")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("warning")},
		{name: "bad overdue", req: get(q("overdue", "maybe")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("overdue")},
		{name: "bad unit id", req: get(q("unit_id", "一班")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("unit_id")},
		{name: "negative assignee", req: get(q("assignee_id", "-1")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("assignee_id")},
		{name: "unknown unit", req: get(q("unit_id", "99999")), status: http.StatusBadRequest, code: "invalid_input", check: wantField("unit_id")},
		{name: "unknown category", req: get(q("category_id", "99999")), status: http.StatusBadRequest, code: "invalid_input", check: wantField("category_id")},
		{name: "bad deadline", req: get(q("deadline_from", "2026-13-01")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("deadline_from")},
		{name: "bad created", req: get(q("created_to", "yesterday")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("created_to")},
		{name: "text too long", req: get(q("q", strings.Repeat("字", 101))), status: http.StatusBadRequest, code: "invalid_request", check: wantField("q")},
		{name: "limit 0", req: get(q("limit", "0")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("limit")},
		{name: "limit 201", req: get(q("limit", "201")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("limit")},
		{name: "limit not a number", req: get(q("limit", "ten")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("limit")},
		{name: "limit 200", req: get(q("limit", "200")), status: http.StatusOK},
		{name: "garbage cursor", req: get(q("cursor", "!!!")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "cursor of the audit list", req: get(q("cursor", auditCursor)), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "cursor of the user list", req: get(q("cursor", userCursor)), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "overlong cursor", req: get(q("cursor", strings.Repeat("A", 65))), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "history: unknown parameter", req: req{method: "GET", path: "/api/v1/problems/1/history?status=closed", as: "verifier"},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("status")},
		{name: "history: cursor of another list", req: req{method: "GET", path: "/api/v1/problems/1/history?cursor=" + auditCursor, as: "verifier"},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
	})
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	f := newListFixture(t)
	s := f.s
	for i := range 7 {
		s.register(t, pathf("分页问题 %d", i), []string{"一班", "二班"}[i%2], nil)
	}
	all := f.list(t, "verifier", q("limit", "200")).Items
	if len(all) != 13 {
		t.Fatalf("%d problems, want 13", len(all))
	}
	walk := func(t *testing.T, as string, filter url.Values, limit int) []int64 {
		t.Helper()
		var ids []int64
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("too many pages")
			}
			v := url.Values{}
			for k, vs := range filter {
				v[k] = vs
			}
			v.Set("limit", itoa(int64(limit)))
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			l := f.list(t, as, v)
			if len(l.Items) > limit || (l.NextCursor != nil && len(l.Items) != limit) {
				t.Fatalf("page of %d with limit %d, cursor %v", len(l.Items), limit, l.NextCursor)
			}
			for _, p := range l.Items {
				ids = append(ids, p.ID)
			}
			if l.NextCursor == nil {
				return ids
			}
			cursor = *l.NextCursor
		}
	}
	ids := func(ps []problem) []int64 {
		out := []int64{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, limit := range []int{1, 2, 4, 5, 13, 50} {
		got := walk(t, "verifier", nil, limit)
		if !slices.Equal(got, ids(all)) {
			t.Fatalf("limit %d: %v, want %v", limit, got, ids(all))
		}
		seen := map[int64]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("limit %d: %d twice", limit, id)
			}
			seen[id] = true
		}
	}
	// With a filter and a scope.
	filtered := ids(f.list(t, "owner1", q("status", "registered,assigned,rectifying", "limit", "200")).Items)
	if got := walk(t, "owner1", q("status", "registered,assigned,rectifying"), 2); !slices.Equal(got, filtered) || len(got) < 4 {
		t.Fatalf("owner1 filtered pages %v, want %v", got, filtered)
	}
	// A cursor stays valid while problems are added: no duplicates, nothing skipped.
	first := f.list(t, "verifier", q("limit", "5"))
	s.register(t, "翻页时新增", "一班", nil)
	rest := walk(t, "verifier", q("cursor", *first.NextCursor), 5)
	if got := append(ids(first.Items), rest...); !slices.Equal(got, ids(all)) {
		t.Fatalf("pages across an insert: %v, want %v", got, ids(all))
	}
}
