package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestErrorClasses has one or more rows for every error class of PRODUCT.md.
func TestErrorClasses(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	yiban := s.register(t, "一班的问题", "一班", nil)
	s.assign(t, yiban.ID, "owner1", "")
	closed := s.register(t, "已销号的问题", "一班", nil)
	s.assign(t, closed.ID, "owner1", "")
	s.act(t, "owner1", closed.ID, "accept", nil)
	s.act(t, "owner1", closed.ID, "submit", map[string]any{"note": "done"})
	s.act(t, "verifier", closed.ID, "verify", map[string]any{"passed": true})

	problem := pathf("/api/v1/problems/%d", yiban.ID)
	valid := map[string]any{"title": "标题", "category_id": 5, "severity": "general", "source": "self_check", "unit_id": s.unit("一班")}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range valid {
			m[a] = b
		}
		m[k] = v
		return m
	}
	register := func(body any) req { return req{method: "POST", path: "/api/v1/problems", as: "inspector", body: body} }

	s.run(t, []row{
		// 400: malformed JSON, field by field.
		{name: "400 unknown field", req: register(with("colour", "red")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("colour")},
		{name: "400 wrong type string", req: register(with("title", 123)), status: http.StatusBadRequest, code: "invalid_request",
			check: func(t *testing.T, r res) {
				fs := r.fields(t)
				if len(fs) != 1 || fs[0].Field != "title" || fs[0].Reason != "must be a string" {
					t.Fatalf("details %+v", fs)
				}
			}},
		{name: "400 wrong type integer", req: register(with("category_id", "五")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("category_id")},
		{name: "400 fractional id", req: register(with("unit_id", 1.5)), status: http.StatusBadRequest, code: "invalid_request", check: wantField("unit_id")},
		{name: "400 missing required fields", req: register(map[string]any{"description": "只有描述"}), status: http.StatusBadRequest, code: "invalid_input",
			check: func(t *testing.T, r res) {
				for _, f := range []string{"title", "category_id", "severity", "source", "unit_id"} {
					if !r.hasField(t, f) {
						t.Errorf("details do not name %s: %s", f, r.body)
					}
				}
			}},
		{name: "400 unknown enum", req: register(with("severity", "fatal")), status: http.StatusBadRequest, code: "invalid_input", check: wantField("severity")},
		{name: "400 unknown category", req: register(with("category_id", 99999)), status: http.StatusBadRequest, code: "invalid_input", check: wantField("category_id")},
		{name: "400 unknown unit", req: register(with("unit_id", 99999)), status: http.StatusBadRequest, code: "invalid_input", check: wantFields("unit_id")},
		{name: "400 unknown unit and category", req: register(map[string]any{"title": "标题", "category_id": 99999, "severity": "general", "source": "self_check", "unit_id": 99999}), status: http.StatusBadRequest,
			code: "invalid_input", check: wantFields("category_id", "unit_id")},
		{name: "400 found in the future", req: register(with("found_at", "2026-03-03")), status: http.StatusBadRequest, code: "invalid_input", check: wantField("found_at")},
		{name: "400 malformed date", req: register(with("found_at", "2026/03/01")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("found_at")},
		{name: "400 title too long", req: register(with("title", strings.Repeat("长", 201))), status: http.StatusBadRequest, code: "invalid_input",
			check: func(t *testing.T, r res) {
				fs := r.fields(t)
				if len(fs) != 1 || fs[0].Field != "title" || !strings.Contains(fs[0].Reason, "200") {
					t.Fatalf("the limit is not named: %+v", fs)
				}
			}},
		{name: "400 not JSON", req: register(`{"title": `), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "400 syntax error", req: register(`{"title" "x"}`), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "400 an array", req: register(`[1,2]`), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "400 two values", req: register(`{"title":"a"} {"title":"b"}`), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "400 empty body", req: req{method: "POST", path: "/api/v1/problems", as: "inspector"}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "400 verify without passed", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", closed.ID), as: "verifier", body: map[string]any{"note": "x"}},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("passed")},
		{name: "400 send back without a note", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", closed.ID), as: "verifier", body: map[string]any{"passed": false}},
			status: http.StatusConflict, code: "invalid_transition"}, // closed: the state is checked before the payload
		{name: "400 assign deadline in the past", req: req{method: "POST", path: problem + "/assign", as: "verifier",
			body: map[string]any{"assignee_id": s.id("owner1"), "deadline": "2026-03-01"}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("deadline")},
		{name: "400 assign to a non-owner", req: req{method: "POST", path: problem + "/assign", as: "verifier",
			body: map[string]any{"assignee_id": s.id("leader")}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("assignee_id")},
		{name: "400 assign to nobody", req: req{method: "POST", path: problem + "/assign", as: "verifier",
			body: map[string]any{"assignee_id": 99999}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("assignee_id")},
		{name: "400 percent out of range", req: req{method: "POST", path: problem + "/progress", as: "owner1", body: map[string]any{"note": "x", "percent": 101}},
			status: http.StatusConflict, code: "invalid_transition"}, // assigned, not yet rectifying: the state is checked first
		{name: "400 unknown field on an action", req: req{method: "POST", path: problem + "/accept", as: "owner1", body: map[string]any{"note": "x", "attachment": 1}},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("attachment")},

		// 401.
		{name: "401 no token", req: req{method: "GET", path: problem}, status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "401 garbage token", req: req{method: "POST", path: problem + "/accept", token: "garbage"}, status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "401 before 400", req: req{method: "POST", path: "/api/v1/problems", body: `{"nonsense":`}, status: http.StatusUnauthorized, code: "unauthenticated"},

		// 403.
		{name: "403 role", req: req{method: "POST", path: problem + "/assign", as: "inspector", body: map[string]any{"assignee_id": s.id("owner1")}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "403 audit for owners", req: req{method: "GET", path: "/api/v1/audit", as: "owner1"}, status: http.StatusForbidden, code: "role_required"},

		// 404: absent, out of scope, malformed ids.
		{name: "404 absent problem", req: req{method: "GET", path: "/api/v1/problems/999999", as: "verifier"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 absent problem action", req: req{method: "POST", path: "/api/v1/problems/999999/urge", as: "verifier", body: map[string]any{"note": "x"}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "404 non-numeric id", req: req{method: "GET", path: "/api/v1/problems/abc", as: "verifier"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 zero id", req: req{method: "GET", path: "/api/v1/problems/0", as: "verifier"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope", req: req{method: "GET", path: problem, as: "owner2"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope action", req: req{method: "POST", path: problem + "/accept", as: "owner2"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope history", req: req{method: "GET", path: problem + "/history", as: "owner2"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope comments", req: req{method: "GET", path: problem + "/comments", as: "owner2"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope comment", req: req{method: "POST", path: problem + "/comments", as: "owner2", body: map[string]any{"text": "x"}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope extensions", req: req{method: "GET", path: problem + "/extensions", as: "owner2"}, status: http.StatusNotFound, code: "not_found"},
		{name: "404 out of scope looks like absent", req: req{method: "POST", path: problem + "/submit", as: "owner2", body: map[string]any{"note": "x"}},
			status: http.StatusNotFound, code: "not_found", check: func(t *testing.T, r res) {
				absent := s.must(t, http.StatusNotFound, req{method: "POST", path: "/api/v1/problems/999999/submit", as: "owner2", body: map[string]any{"note": "x"}})
				if string(absent.body) != string(r.body) {
					t.Fatalf("out of scope %s differs from absent %s", r.body, absent.body)
				}
			}},

		// 409: invalid transitions name the state and the allowed actions.
		{name: "409 accept a closed problem", req: req{method: "POST", path: pathf("/api/v1/problems/%d/accept", closed.ID), as: "owner1"},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("closed", "accept", "reopen", "comment")},
		{name: "409 verify a closed problem", req: req{method: "POST", path: pathf("/api/v1/problems/%d/verify", closed.ID), as: "verifier", body: map[string]any{"passed": true}},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("closed", "verify_pass", "reopen", "comment")},
		{name: "409 submit an assigned problem", req: req{method: "POST", path: problem + "/submit", as: "owner1", body: map[string]any{"note": "x"}},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("assigned", "submit", "assign", "accept", "dismiss", "request_extension", "decide_extension", "urge", "comment")},
		{name: "409 edit after assignment", req: req{method: "PATCH", path: problem, as: "verifier", body: map[string]any{"title": "x"}},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("assigned", "edit", "assign", "accept", "dismiss", "request_extension", "decide_extension", "urge", "comment")},
		{name: "409 reopen an open problem", req: req{method: "POST", path: problem + "/reopen", as: "verifier", body: map[string]any{"reason": "x", "deadline": "2026-04-01"}},
			status: http.StatusConflict, code: "invalid_transition", check: wantTransition("assigned", "reopen", "assign", "accept", "dismiss", "request_extension", "decide_extension", "urge", "comment")},
	})
}

// TestPreconditions covers If-Match (412), ETag and If-None-Match (304).
func TestPreconditions(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "并发修改", "一班", nil)
	path := pathf("/api/v1/problems/%d", p.ID)

	r := s.must(t, http.StatusOK, req{method: "GET", path: path, as: "verifier"})
	if r.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q", r.header.Get("ETag"))
	}
	s.run(t, []row{
		{name: "304 when unchanged", req: req{method: "GET", path: path, as: "verifier", header: map[string]string{"If-None-Match": `"1"`}},
			status: http.StatusNotModified, check: func(t *testing.T, r res) {
				if r.header.Get("ETag") != `"1"` {
					t.Fatalf("ETag %q", r.header.Get("ETag"))
				}
			}},
		{name: "304 with a weak tag", req: req{method: "GET", path: path, as: "verifier", header: map[string]string{"If-None-Match": `W/"1"`}},
			status: http.StatusNotModified},
		{name: "200 when changed", req: req{method: "GET", path: path, as: "verifier", header: map[string]string{"If-None-Match": `"7"`}}, status: http.StatusOK},
		{name: "out of scope is 404 even with If-None-Match", req: req{method: "GET", path: path, as: "owner2", header: map[string]string{"If-None-Match": `"1"`}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "edit with the current version", req: req{method: "PATCH", path: path, as: "inspector", header: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"description": "v2"}}, status: http.StatusOK},
		{name: "412 edit with a stale version", req: req{method: "PATCH", path: path, as: "inspector", header: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"description": "v3"}}, status: http.StatusPreconditionFailed, code: "precondition_failed"},
		{name: "412 assign with a stale version", req: req{method: "POST", path: path + "/assign", as: "verifier", header: map[string]string{"If-Match": "1"},
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "x"}}, status: http.StatusPreconditionFailed, code: "precondition_failed"},
		{name: "412 If-Match that names no version", req: req{method: "POST", path: path + "/assign", as: "verifier", header: map[string]string{"If-Match": `"abc"`},
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "x"}}, status: http.StatusPreconditionFailed, code: "precondition_failed"},
		{name: "If-Match * is no precondition", req: req{method: "POST", path: path + "/assign", as: "verifier", header: map[string]string{"If-Match": "*"},
			body: map[string]any{"assignee_id": s.id("owner1"), "measures": "x"}}, status: http.StatusOK, check: func(t *testing.T, r res) {
			if p := r.problem(t); p.Version != 3 || r.header.Get("ETag") != `"3"` {
				t.Fatalf("version %d ETag %q", p.Version, r.header.Get("ETag"))
			}
		}},
		{name: "weak If-Match matches", req: req{method: "POST", path: path + "/urge", as: "verifier", header: map[string]string{"If-Match": `W/"3"`},
			body: map[string]any{"note": "快"}}, status: http.StatusOK},
		{name: "412 before 409", req: req{method: "POST", path: path + "/dismiss", as: "verifier", header: map[string]string{"If-Match": `"1"`},
			body: map[string]any{"reason": "x"}}, status: http.StatusPreconditionFailed, code: "precondition_failed"},
		{name: "412 on an extension request", req: req{method: "POST", path: path + "/extensions", as: "owner1", header: map[string]string{"If-Match": `"2"`},
			body: map[string]any{"deadline": "2026-12-01", "reason": "x"}}, status: http.StatusPreconditionFailed, code: "precondition_failed"},
	})
}

// TestBodyLimit: an oversize body is a 413, with or without Content-Length.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, setup{maxBodyBytes: 256})
	p := s.register(t, "小", "一班", nil)
	big := map[string]any{"text": strings.Repeat("很长的评论", 40)}
	s.run(t, []row{
		{name: "within the limit", req: req{method: "POST", path: pathf("/api/v1/problems/%d/comments", p.ID), as: "owner1", body: map[string]any{"text": "短"}},
			status: http.StatusOK},
		{name: "413 with Content-Length", req: req{method: "POST", path: pathf("/api/v1/problems/%d/comments", p.ID), as: "owner1", body: big},
			status: http.StatusRequestEntityTooLarge, code: "too_large", check: func(t *testing.T, r res) {
				if !strings.Contains(r.apiError(t).Error.Message, "256") {
					t.Fatalf("the limit is not named: %s", r.body)
				}
			}},
		{name: "413 chunked", req: req{method: "POST", path: pathf("/api/v1/problems/%d/comments", p.ID), as: "owner1", body: big, chunked: true},
			status: http.StatusRequestEntityTooLarge, code: "too_large"},
		{name: "413 on login", req: req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "owner1", "password": strings.Repeat("x", 300)}},
			status: http.StatusRequestEntityTooLarge, code: "too_large"},
		{name: "413 on register, chunked", req: req{method: "POST", path: "/api/v1/problems", as: "inspector", chunked: true,
			body: map[string]any{"title": "t", "description": strings.Repeat("描述", 100), "category_id": 5, "severity": "general", "source": "report", "unit_id": s.unit("一班")}},
			status: http.StatusRequestEntityTooLarge, code: "too_large"},
	})
	// Nothing was half-applied.
	var l list[map[string]any]
	s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d/comments", p.ID), as: "owner1"}).decode(t, &l)
	if len(l.Items) != 1 {
		t.Fatalf("%d comments, want 1", len(l.Items))
	}
}

// TestNoServerErrorForBadInput sends malformed bodies, headers and ids to
// every operation that takes them; do() fails the test on any 5xx, and the
// answers must be 4xx.
func TestNoServerErrorForBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "坏输入", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	s.act(t, "owner1", p.ID, "accept", nil)
	r := s.must(t, http.StatusCreated, req{method: "POST", path: pathf("/api/v1/problems/%d/extensions", p.ID), as: "owner1",
		body: map[string]any{"deadline": "2026-12-01", "reason": "x"}})
	eid := int64(r.obj(t)["id"].(float64))

	bodies := []string{
		`[]`, `"x"`, `123`, `true`, `{`, `}`, `{"a":1}`, `{"title":null}`, `{"note":{}}`, `{"note":["x"]}`,
		`{"passed":"yes"}`, `{"approved":1}`, `{"deadline":"tomorrow"}`, `{"deadline":"2026-02-30"}`, `{"deadline":"99999-01-01"}`,
		`{"assignee_id":-1}`, `{"assignee_id":1e40}`, `{"percent":-5,"note":"x"}`, `{"percent":1.5,"note":"x"}`,
		`{"unit_id":0,"assignee_id":1}`, `{"roles":[1]}`, `{"parent_id":-3,"name":"x"}`, `{"found_at":"0000-01-01"}`,
		"{\"text\":\"\xff\xfe\"}", `{"text":"` + strings.Repeat("字", 2001) + `"}`, `{"reason":"` + strings.Repeat("r", 1001) + `"}`,
		`{"username":"","password":""}`, `{"password":"` + strings.Repeat("p", 100) + `"}`,
	}
	targets := []struct{ method, path, as string }{
		{"POST", "/api/v1/auth/login", ""},
		{"POST", "/api/v1/units", "admin"},
		{"PATCH", pathf("/api/v1/units/%d", s.unit("二班")), "admin"},
		{"POST", "/api/v1/users", "admin"},
		{"PATCH", pathf("/api/v1/users/%d", s.id("owner2")), "admin"},
		{"POST", pathf("/api/v1/users/%d/password", s.id("owner2")), "admin"},
		{"POST", "/api/v1/categories", "admin"},
		{"PATCH", "/api/v1/categories/14", "admin"},
		{"POST", "/api/v1/problems", "verifier"},
		{"PATCH", pathf("/api/v1/problems/%d", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/assign", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/accept", p.ID), "owner1"},
		{"POST", pathf("/api/v1/problems/%d/progress", p.ID), "owner1"},
		{"POST", pathf("/api/v1/problems/%d/submit", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/urge", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/verify", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/dismiss", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/reopen", p.ID), "verifier"},
		{"POST", pathf("/api/v1/problems/%d/comments", p.ID), "owner1"},
		{"POST", pathf("/api/v1/problems/%d/extensions", p.ID), "owner1"},
		{"POST", pathf("/api/v1/problems/%d/extensions/%d/decision", p.ID, eid), "verifier2"},
	}
	for _, tg := range targets {
		for _, b := range bodies {
			r := s.do(t, req{method: tg.method, path: tg.path, as: tg.as, body: b})
			if r.status < 400 || r.status >= 500 {
				// A few bodies are valid for some endpoints; those must still be
				// objects. Anything that is not an object must be refused.
				if !strings.HasPrefix(strings.TrimSpace(b), "{") {
					t.Errorf("%s %s with body %.40q: %d, want a 4xx", tg.method, tg.path, b, r.status)
				}
			}
		}
	}
	// Malformed ids and headers.
	for _, path := range []string{"/api/v1/problems/-1", "/api/v1/problems/1e3", "/api/v1/problems/99999999999999999999",
		"/api/v1/problems/%E4%B8%80", "/api/v1/users/x", pathf("/api/v1/problems/%d/extensions/x/decision", p.ID)} {
		method := "GET"
		if strings.HasSuffix(path, "decision") {
			method = "POST"
		}
		r := s.do(t, req{method: method, path: path, as: "verifier", body: map[string]any{"approved": true}})
		if r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", method, path, r.status)
		}
	}
	for _, h := range []map[string]string{
		{"If-Match": strings.Repeat("9", 40)}, {"If-Match": `""`}, {"If-Match": "W/"}, {"If-None-Match": "garbage"},
		{"X-Request-ID": strings.Repeat("x", 500)}, {"X-Request-ID": "bad id with spaces"}, {"Authorization": "Bearer " + strings.Repeat("t", 5000)},
	} {
		r := s.do(t, req{method: "POST", path: pathf("/api/v1/problems/%d/urge", p.ID), as: "verifier", header: h, body: map[string]any{"note": "x"}})
		if r.status >= 500 {
			t.Errorf("headers %v: %d", h, r.status)
		}
		if id := r.header.Get("X-Request-ID"); len(id) > 64 || strings.Contains(id, " ") {
			t.Errorf("an insane request id was echoed: %q", id)
		}
	}
}

// TestBodyMustBeAnObject: a JSON body that is not an object is malformed
// input (400), even the literal null, which encoding/json would otherwise
// decode into an empty request.
func TestBodyMustBeAnObject(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "空请求", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	reg := s.register(t, "已登记", "一班", nil)
	accept := pathf("/api/v1/problems/%d/accept", p.ID)
	rows := []row{
		{name: "array", req: req{method: "POST", path: accept, as: "owner1", body: `[]`}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "string", req: req{method: "POST", path: accept, as: "owner1", body: `"{}"`}, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "number", req: req{method: "POST", path: accept, as: "owner1", body: `0`}, status: http.StatusBadRequest, code: "invalid_request"},
	}
	for _, tg := range []struct{ method, path, as string }{
		{"POST", accept, "owner1"},
		{"PATCH", pathf("/api/v1/problems/%d", reg.ID), "verifier"},
		{"PATCH", pathf("/api/v1/units/%d", s.unit("二班")), "admin"},
		{"PATCH", pathf("/api/v1/users/%d", s.id("owner2")), "admin"},
		{"PATCH", "/api/v1/categories/14", "admin"},
	} {
		rows = append(rows, row{name: "null " + tg.method + " " + tg.path, req: req{method: tg.method, path: tg.path, as: tg.as, body: `null`},
			status: http.StatusBadRequest, code: "invalid_request"})
	}
	s.run(t, rows)
	// Nothing changed.
	if got := s.must(t, http.StatusOK, req{method: "GET", path: pathf("/api/v1/problems/%d", p.ID), as: "verifier"}).problem(t); got.Status != "assigned" {
		t.Fatalf("a non-object body accepted the problem: %+v", got)
	}
}

// A field given as null is refused by name rather than read as "absent".
func TestNullFieldIsRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "空字段", "一班", nil)
	path := pathf("/api/v1/problems/%d", p.ID)
	s.run(t, []row{
		{name: "patch title null", req: req{method: "PATCH", path: path, as: "verifier", body: `{"title":null,"severity":"critical"}`},
			status: http.StatusBadRequest, code: "invalid_request", check: func(t *testing.T, r res) {
				if !r.hasField(t, "title") || r.hasField(t, "severity") {
					t.Fatalf("details should name title only: %s", r)
				}
			}},
		{name: "unit parent null", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", s.unit("二班")), as: "admin", body: `{"parent_id":null}`},
			status: http.StatusBadRequest, code: "invalid_request"},
	})
	if got := s.must(t, http.StatusOK, req{method: "GET", path: path, as: "verifier"}).problem(t); got.Version != p.Version {
		t.Fatalf("a refused patch changed the problem: version %d → %d", p.Version, got.Version)
	}
}
