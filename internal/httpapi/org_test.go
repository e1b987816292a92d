package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestUnitsAdmin(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	dept := s.unit("部门")
	var created struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		ParentID *int64 `json:"parent_id"`
		Path     string `json:"path"`
	}
	s.run(t, []row{
		{name: "admin creates", req: req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": "三班", "parent_id": dept}},
			status: http.StatusCreated, check: func(t *testing.T, r res) {
				r.decode(t, &created)
				if created.Name != "三班" || created.ParentID == nil || *created.ParentID != dept ||
					created.Path != s.env.Units["部门"].Path+itoa(created.ID)+"/" {
					t.Fatalf("created %s", r.body)
				}
			}},
		{name: "duplicate name under the parent", req: req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": "三班", "parent_id": dept}},
			status: http.StatusConflict, code: "conflict"},
		{name: "unknown parent", req: req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"name": "四班", "parent_id": 99999}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("parent_id")},
		{name: "missing name", req: req{method: "POST", path: "/api/v1/units", as: "admin", body: map[string]any{"parent_id": dept}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("name")},
		{name: "verifier may not", req: req{method: "POST", path: "/api/v1/units", as: "verifier", body: map[string]any{"name": "五班", "parent_id": dept}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "leader may not", req: req{method: "POST", path: "/api/v1/units", as: "leader", body: map[string]any{"name": "五班", "parent_id": dept}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "anyone signed in lists", req: req{method: "GET", path: "/api/v1/units", as: "owner2"}, status: http.StatusOK,
			check: func(t *testing.T, r res) {
				var l list[map[string]any]
				r.decode(t, &l)
				if len(l.Items) != 5 || l.NextCursor != nil {
					t.Fatalf("units: %s", r.body)
				}
				if l.Items[0]["parent_id"] != nil {
					t.Fatalf("the root comes first with a null parent: %s", r.body)
				}
			}},
	})
	s.run(t, []row{
		{name: "admin renames", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", created.ID), as: "admin", body: map[string]any{"name": "三班（新）"}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				if u := r.obj(t); u["name"] != "三班（新）" || u["parent_id"] != float64(dept) {
					t.Fatalf("renamed: %s", r.body)
				}
			}},
		{name: "admin moves under 一班", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", created.ID), as: "admin", body: map[string]any{"parent_id": s.unit("一班")}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				if u := r.obj(t); u["path"] != s.env.Units["一班"].Path+itoa(created.ID)+"/" {
					t.Fatalf("moved: %s", r.body)
				}
			}},
		{name: "not below itself", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", dept), as: "admin", body: map[string]any{"parent_id": s.unit("一班")}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("parent_id")},
		{name: "to a sibling's name", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", s.unit("二班")), as: "admin", body: map[string]any{"name": "一班"}},
			status: http.StatusConflict, code: "conflict"},
		{name: "absent unit", req: req{method: "PATCH", path: "/api/v1/units/99999", as: "admin", body: map[string]any{"name": "x"}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "owner may not", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", created.ID), as: "owner1", body: map[string]any{"name": "x"}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "unknown field", req: req{method: "PATCH", path: pathf("/api/v1/units/%d", created.ID), as: "admin", body: map[string]any{"title": "x"}},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("title")},
	})
}

func TestCategoriesAdmin(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var id int64
	s.run(t, []row{
		{name: "seeded tree", req: req{method: "GET", path: "/api/v1/categories", as: "owner1"}, status: http.StatusOK,
			check: func(t *testing.T, r res) {
				var l list[struct {
					ID       int64  `json:"id"`
					Code     string `json:"code"`
					Name     string `json:"name"`
					ParentID *int64 `json:"parent_id"`
				}]
				r.decode(t, &l)
				if len(l.Items) != 14 {
					t.Fatalf("%d categories, want the 14 seeded", len(l.Items))
				}
				var roots []string
				for _, c := range l.Items {
					if c.ParentID == nil {
						roots = append(roots, c.Name)
					}
				}
				if !slices.Equal(roots, []string{"思想政治", "担当作为", "争先求进", "遵规守纪"}) {
					t.Fatalf("dimensions %v", roots)
				}
			}},
		{name: "admin creates", req: req{method: "POST", path: "/api/v1/categories", as: "admin", body: map[string]any{"code": "ZGSJ-03", "name": "工作纪律", "parent_id": 4}},
			status: http.StatusCreated, check: func(t *testing.T, r res) {
				c := r.obj(t)
				if c["code"] != "ZGSJ-03" || c["name"] != "工作纪律" || c["parent_id"] != float64(4) {
					t.Fatalf("created %s", r.body)
				}
				id = int64(c["id"].(float64))
			}},
		{name: "code taken", req: req{method: "POST", path: "/api/v1/categories", as: "admin", body: map[string]any{"code": "SXZZ-01", "name": "x"}},
			status: http.StatusConflict, code: "conflict"},
		{name: "bad code", req: req{method: "POST", path: "/api/v1/categories", as: "admin", body: map[string]any{"code": "坏 代码", "name": "x"}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("code")},
		{name: "inspector may not", req: req{method: "POST", path: "/api/v1/categories", as: "inspector", body: map[string]any{"code": "X1", "name": "x"}},
			status: http.StatusForbidden, code: "role_required"},
	})
	s.run(t, []row{
		{name: "admin renames", req: req{method: "PATCH", path: pathf("/api/v1/categories/%d", id), as: "admin", body: map[string]any{"name": "工作纪律（新）"}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				if r.obj(t)["name"] != "工作纪律（新）" {
					t.Fatalf("renamed %s", r.body)
				}
			}},
		{name: "admin makes it top-level", req: req{method: "PATCH", path: pathf("/api/v1/categories/%d", id), as: "admin", body: map[string]any{"parent_id": 0}},
			status: http.StatusOK, check: func(t *testing.T, r res) {
				if c := r.obj(t); c["parent_id"] != nil || c["path"] != "/"+itoa(id)+"/" {
					t.Fatalf("moved %s", r.body)
				}
			}},
		{name: "recode to a taken code", req: req{method: "PATCH", path: pathf("/api/v1/categories/%d", id), as: "admin", body: map[string]any{"code": "SXZZ"}},
			status: http.StatusConflict, code: "conflict"},
		{name: "absent", req: req{method: "PATCH", path: "/api/v1/categories/99999", as: "admin", body: map[string]any{"name": "x"}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "verifier may not", req: req{method: "PATCH", path: pathf("/api/v1/categories/%d", id), as: "verifier", body: map[string]any{"name": "x"}},
			status: http.StatusForbidden, code: "role_required"},
	})
}

func TestUsersAdmin(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var id int64
	newUser := map[string]any{"username": "Owner3", "name": "王五", "password": "initial password", "roles": []string{"owner", "inspector"},
		"unit_id": s.unit("二班")}
	s.run(t, []row{
		{name: "admin creates", req: req{method: "POST", path: "/api/v1/users", as: "admin", body: newUser}, status: http.StatusCreated,
			check: func(t *testing.T, r res) {
				u := r.obj(t)
				if u["username"] != "owner3" || u["name"] != "王五" || u["unit_id"] != float64(s.unit("二班")) || u["disabled"] != false {
					t.Fatalf("created %s", r.body)
				}
				if roles := u["roles"].([]any); len(roles) != 2 || roles[0] != "inspector" || roles[1] != "owner" {
					t.Fatalf("roles %v, want sorted [inspector owner]", roles)
				}
				if _, ok := u["password"]; ok {
					t.Fatalf("password returned: %s", r.body)
				}
				id = int64(u["id"].(float64))
			}},
		{name: "username taken", req: req{method: "POST", path: "/api/v1/users", as: "admin", body: newUser}, status: http.StatusConflict, code: "conflict"},
		{name: "invalid fields", req: req{method: "POST", path: "/api/v1/users", as: "admin", body: map[string]any{"username": "x", "name": "", "password": "short",
			"roles": []string{"boss"}, "unit_id": 99999}}, status: http.StatusBadRequest, code: "invalid_input", check: func(t *testing.T, r res) {
			for _, f := range []string{"username", "name", "roles", "unit_id"} {
				if !r.hasField(t, f) {
					t.Errorf("details do not name %s: %s", f, r.body)
				}
			}
		}},
		{name: "short password", req: req{method: "POST", path: "/api/v1/users", as: "admin", body: map[string]any{"username": "owner4", "name": "x",
			"password": "short", "roles": []string{"owner"}, "unit_id": s.unit("二班")}}, status: http.StatusBadRequest, code: "invalid_input", check: wantField("password")},
		{name: "roles must be an array", req: req{method: "POST", path: "/api/v1/users", as: "admin", body: `{"username":"owner4","name":"x","password":"long enough","roles":"owner","unit_id":1}`},
			status: http.StatusBadRequest, code: "invalid_request", check: wantField("roles")},
		{name: "verifier may not create", req: req{method: "POST", path: "/api/v1/users", as: "verifier", body: newUser}, status: http.StatusForbidden, code: "role_required"},
	})
	s.run(t, []row{
		{name: "new user logs in", req: login("OWNER3", "initial password"), status: http.StatusOK},
		{name: "anyone reads one", req: req{method: "GET", path: pathf("/api/v1/users/%d", id), as: "owner1"}, status: http.StatusOK},
		{name: "absent user", req: req{method: "GET", path: "/api/v1/users/99999", as: "owner1"}, status: http.StatusNotFound, code: "not_found"},
		{name: "admin changes name, roles and unit", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", id), as: "admin",
			body: map[string]any{"name": "王五五", "roles": []string{"owner"}, "unit_id": s.unit("一班")}}, status: http.StatusOK,
			check: func(t *testing.T, r res) {
				u := r.obj(t)
				if u["name"] != "王五五" || len(u["roles"].([]any)) != 1 || u["unit_id"] != float64(s.unit("一班")) {
					t.Fatalf("updated %s", r.body)
				}
			}},
		{name: "empty roles", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", id), as: "admin", body: map[string]any{"roles": []string{}}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("roles")},
		{name: "admin may not disable itself", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("admin")), as: "admin", body: map[string]any{"disabled": true}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("disabled")},
		{name: "admin may not drop its own admin role", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", s.id("admin")), as: "admin", body: map[string]any{"roles": []string{"leader"}}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("roles")},
		{name: "leader may not update", req: req{method: "PATCH", path: pathf("/api/v1/users/%d", id), as: "leader", body: map[string]any{"name": "x"}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "absent user update", req: req{method: "PATCH", path: "/api/v1/users/99999", as: "admin", body: map[string]any{"name": "x"}},
			status: http.StatusNotFound, code: "not_found"},
		{name: "owner may not reset a password", req: req{method: "POST", path: pathf("/api/v1/users/%d/password", id), as: "owner1", body: map[string]any{"password": "another password"}},
			status: http.StatusForbidden, code: "role_required"},
		{name: "reset to a short password", req: req{method: "POST", path: pathf("/api/v1/users/%d/password", id), as: "admin", body: map[string]any{"password": "short"}},
			status: http.StatusBadRequest, code: "invalid_input", check: wantField("password")},
		{name: "reset for an absent user", req: req{method: "POST", path: "/api/v1/users/99999/password", as: "admin", body: map[string]any{"password": "another password"}},
			status: http.StatusNotFound, code: "not_found"},
	})
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	get := func(q url.Values) req { return req{method: "GET", path: "/api/v1/users?" + q.Encode(), as: "owner1"} }
	usernames := func(t *testing.T, r res) []string {
		var l list[struct {
			Username string `json:"username"`
		}]
		r.decode(t, &l)
		out := []string{}
		for _, u := range l.Items {
			out = append(out, u.Username)
		}
		return out
	}
	want := func(names ...string) func(t *testing.T, r res) {
		return func(t *testing.T, r res) {
			if got := usernames(t, r); !slices.Equal(got, names) {
				t.Fatalf("users %v, want %v", got, names)
			}
		}
	}
	s.run(t, []row{
		{name: "by role", req: get(url.Values{"role": {"verifier"}}), status: http.StatusOK, check: want("verifier", "verifier2", "ownerverifier")},
		{name: "by unit subtree", req: get(url.Values{"unit_id": {itoa(s.unit("一班"))}}), status: http.StatusOK, check: want("owner1", "ownerverifier")},
		{name: "by role and unit", req: get(url.Values{"role": {"owner"}, "unit_id": {itoa(s.unit("部门"))}}), status: http.StatusOK,
			check: want("owner1", "owner2", "ownerdept", "ownerverifier")},
		{name: "by text", req: get(url.Values{"q": {"verifier"}}), status: http.StatusOK, check: want("verifier", "verifier2", "ownerverifier")},
		{name: "unknown role", req: get(url.Values{"role": {"boss"}}), status: http.StatusBadRequest, code: "invalid_request", check: wantField("role")},
		{name: "unknown unit", req: get(url.Values{"unit_id": {"99999"}}), status: http.StatusBadRequest, code: "invalid_request", check: wantField("unit_id")},
		{name: "unknown parameter", req: get(url.Values{"name": {"x"}}), status: http.StatusBadRequest, code: "invalid_request", check: wantField("name")},
		{name: "bad cursor", req: get(url.Values{"cursor": {"nope"}}), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "no token", req: req{method: "GET", path: "/api/v1/users"}, status: http.StatusUnauthorized, code: "unauthenticated"},
	})
	// Walk all pages two at a time.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := s.must(t, http.StatusOK, get(q))
		var l list[struct {
			Username string `json:"username"`
		}]
		r.decode(t, &l)
		for _, u := range l.Items {
			seen = append(seen, u.Username)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	all := usernames(t, s.must(t, http.StatusOK, get(url.Values{"limit": {"200"}})))
	if len(all) != len(apptestUsers) || !slices.Equal(seen, all) {
		t.Fatalf("paged %v, all %v", seen, all)
	}
}

var apptestUsers = []string{"admin", "inspector", "verifier", "verifier2", "leader", "owner1", "owner2", "ownerdept", "ownerverifier"}

// wantField checks that a 400's details name the field.
// wantFields checks that the details name exactly these fields, in this order.
func wantFields(fields ...string) func(t *testing.T, r res) {
	return func(t *testing.T, r res) {
		t.Helper()
		var got []string
		for _, f := range r.fields(t) {
			got = append(got, f.Field)
		}
		if !slices.Equal(got, fields) {
			t.Fatalf("details name %v, want %v: %s", got, fields, r.body)
		}
	}
}

func wantField(field string) func(t *testing.T, r res) {
	return func(t *testing.T, r res) {
		t.Helper()
		if !r.hasField(t, field) {
			t.Fatalf("details do not name %q: %s", field, r.body)
		}
	}
}
