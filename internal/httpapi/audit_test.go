package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// auditPages walks /audit with a filter and returns every entry.
func (s *apiServer) auditPages(t *testing.T, as string, filter url.Values, limit int) []auditEntry {
	t.Helper()
	var out []auditEntry
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
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
		var l list[auditEntry]
		s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit?" + v.Encode(), as: as}).decode(t, &l)
		if len(l.Items) > limit {
			t.Fatalf("page of %d with limit %d", len(l.Items), limit)
		}
		out = append(out, l.Items...)
		if l.NextCursor == nil {
			return out
		}
		cursor = *l.NextCursor
	}
}

func TestAuditAccess(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	var rows []row
	for _, path := range []string{"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/checkpoint"} {
		for _, who := range []string{"verifier", "leader", "admin"} {
			rows = append(rows, row{name: who + " " + path, req: req{method: "GET", path: path, as: who}, status: http.StatusOK})
		}
		for _, who := range []string{"owner1", "inspector"} {
			rows = append(rows, row{name: who + " " + path, req: req{method: "GET", path: path, as: who}, status: http.StatusForbidden, code: "role_required"})
		}
		rows = append(rows, row{name: "anonymous " + path, req: req{method: "GET", path: path}, status: http.StatusUnauthorized, code: "unauthenticated"})
	}
	s.run(t, rows)
}

func TestAuditFiltersAndCursor(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p1 := s.register(t, "三月二日的问题", "一班", nil)
	s.assign(t, p1.ID, "owner1", "")
	s.must(t, http.StatusUnauthorized, login("owner1", "not the password"))
	s.must(t, http.StatusForbidden, req{method: "POST", path: pathf("/api/v1/problems/%d/assign", p1.ID), as: "inspector", body: map[string]any{"assignee_id": s.id("owner2")}})
	s.advance(48 * time.Hour) // 2026-03-04
	p2 := s.register(t, "三月四日的问题", "二班", nil)
	s.act(t, "owner1", p1.ID, "accept", map[string]any{"note": "签收"})

	// Log in first: a login appends to the trail.
	for _, who := range []string{"leader", "verifier", "admin"} {
		s.token(t, who)
	}
	all := s.auditPages(t, "leader", nil, 200)
	if len(all) < 20 {
		t.Fatalf("only %d entries", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq >= all[i-1].Seq {
			t.Fatalf("not newest first at %d: %d then %d", i, all[i-1].Seq, all[i].Seq)
		}
	}
	// Every page size walks the same trail without duplicates.
	seqs := func(es []auditEntry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, limit := range []int{1, 3, 7} {
		if got := seqs(s.auditPages(t, "verifier", nil, limit)); !slices.Equal(got, seqs(all)) {
			t.Fatalf("limit %d walks %v, want %v", limit, got, seqs(all))
		}
	}

	type check func(e auditEntry) bool
	cases := []struct {
		name   string
		filter url.Values
		each   check
		count  int // -1: at least one
	}{
		{"logins", q("action", "login"), func(e auditEntry) bool { return e.Action == "login" }, -1},
		{"refused logins", q("action", "login", "outcome", "refused"), func(e auditEntry) bool {
			return e.Action == "login" && e.Outcome == "refused" && e.ActorID == nil && e.ObjectID == "owner1"
		}, 1},
		{"refused", q("outcome", "refused"), func(e auditEntry) bool { return e.Outcome == "refused" && e.Reason != "" }, 2},
		{"by actor", q("actor_id", itoa(s.id("owner1"))), func(e auditEntry) bool { return e.ActorID != nil && *e.ActorID == s.id("owner1") }, -1},
		{"one problem", q("object_type", "problem", "object_id", itoa(p1.ID)), func(e auditEntry) bool {
			return e.ObjectType == "problem" && e.ObjectID == itoa(p1.ID) && e.Stream == pathf("problem/%d", p1.ID)
		}, 4},
		{"admin changes", q("object_type", "user", "action", "user_create"), func(e auditEntry) bool { return e.Action == "user_create" }, 8},
		{"from a day", q("action", "register", "from", "2026-03-03"), func(e auditEntry) bool { return e.ObjectID == itoa(p2.ID) }, 1},
		{"to a day", q("action", "register", "to", "2026-03-02"), func(e auditEntry) bool { return e.ObjectID == itoa(p1.ID) }, 1},
		{"instant range", q("from", "2026-03-04T01:00:00Z", "to", "2026-03-04T01:00:01Z", "object_type", "problem"), func(e auditEntry) bool {
			return e.ObjectID == itoa(p2.ID) || e.ObjectID == itoa(p1.ID)
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.auditPages(t, "admin", c.filter, 2)
			if (c.count >= 0 && len(got) != c.count) || (c.count < 0 && len(got) == 0) {
				t.Fatalf("%d entries, want %d", len(got), c.count)
			}
			for _, e := range got {
				if !c.each(e) {
					t.Fatalf("entry %+v does not match %s", e, c.filter.Encode())
				}
			}
		})
	}
	// A misspelt filter value is an error, not a silently empty list.
	for _, bad := range []string{"action=teleport", "outcome=maybe", "object_type=planet"} {
		r := s.must(t, 400, req{method: "GET", path: "/api/v1/audit?" + bad, as: "admin"})
		if field := strings.SplitN(bad, "=", 2)[0]; !r.hasField(t, field) {
			t.Fatalf("%s: %s does not name the field", bad, r)
		}
	}

	problemCursor := base64.RawURLEncoding.EncodeToString([]byte("p:5"))
	get := func(v url.Values) req { return req{method: "GET", path: "/api/v1/audit?" + v.Encode(), as: "leader"} }
	s.run(t, []row{
		{name: "unknown parameter", req: get(q("user", "owner1")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("user")},
		{name: "bad actor", req: get(q("actor_id", "owner1")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("actor_id")},
		{name: "bad from", req: get(q("from", "03/04/2026")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("from")},
		{name: "bad to", req: get(q("to", "2026-02-30")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("to")},
		{name: "overlong action", req: get(q("action", string(make([]byte, 65)))), status: http.StatusBadRequest, code: "invalid_request", check: wantField("action")},
		{name: "bad limit", req: get(q("limit", "500")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("limit")},
		{name: "garbage cursor", req: get(q("cursor", "%%%")), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
		{name: "cursor of the problem list", req: get(q("cursor", problemCursor)), status: http.StatusBadRequest, code: "invalid_request", check: wantField("cursor")},
	})
}

func TestAuditVerifyAndCheckpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(t, "审计链", "一班", nil)
	s.assign(t, p.ID, "owner1", "")
	s.act(t, "owner1", p.ID, "accept", nil)

	type verification struct {
		OK          bool   `json:"ok"`
		Checked     int    `json:"checked"`
		FirstBad    *int64 `json:"first_bad"`
		Reason      string `json:"reason"`
		Checkpoints int    `json:"checkpoints"`
		Logged      int    `json:"logged_checkpoints"`
		Findings    []struct {
			FirstBad *int64 `json:"first_bad"`
			Stream   string `json:"stream"`
			Reason   string `json:"reason"`
		} `json:"findings"`
	}
	verify := func(t *testing.T) verification {
		var v verification
		s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit/verify", as: "leader"}).decode(t, &v)
		return v
	}
	type checkpoint struct {
		Number      int64  `json:"number"`
		Root        string `json:"root"`
		VerifierKey string `json:"verifier_key"`
	}

	all := s.auditPages(t, "leader", nil, 200)
	v := verify(t)
	if !v.OK || v.FirstBad != nil || v.Reason != "" || v.Checked != len(all) || v.Checkpoints != 0 {
		t.Fatalf("clean trail: %+v (trail has %d entries)", v, len(all))
	}
	var cp checkpoint
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit/checkpoint", as: "verifier"}).decode(t, &cp)
	if cp.Number != 0 || cp.Root != "" || cp.VerifierKey == "" {
		t.Fatalf("no checkpoint yet: %+v", cp)
	}
	if _, err := s.env.Svc.Trail.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.must(t, http.StatusOK, req{method: "GET", path: "/api/v1/audit/checkpoint", as: "admin"}).decode(t, &cp)
	if cp.Number != 1 || cp.Root == "" {
		t.Fatalf("after a checkpoint: %+v", cp)
	}
	if v := verify(t); !v.OK || v.Checkpoints != 1 || v.Logged != 1 || len(v.Findings) != 0 {
		t.Fatalf("with a checkpoint: %+v", v)
	}

	// An entry altered out of band is found and named.
	victim := all[len(all)/2].Seq
	if _, err := s.env.DB.SQL().Exec("UPDATE audit_entries SET reason = ? WHERE id = ?", "篡改", victim); err != nil {
		t.Fatal(err)
	}
	v = verify(t)
	if v.OK || v.FirstBad == nil || *v.FirstBad != victim || v.Reason == "" || len(v.Findings) == 0 ||
		v.Findings[0].FirstBad == nil || *v.Findings[0].FirstBad != victim || v.Findings[0].Stream == "" {
		t.Fatalf("tampered entry %d: %+v", victim, v)
	}

	// Checkpoint rows deleted from the database are still in the checkpoint log.
	for _, q := range []string{"DELETE FROM audit_checkpoint_heads", "DELETE FROM audit_checkpoints"} {
		if _, err := s.env.DB.SQL().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	v = verify(t)
	var found bool
	for _, f := range v.Findings {
		found = found || (f.Stream == "" && f.FirstBad != nil && *f.FirstBad == all[len(all)-1].Seq)
	}
	if v.OK || v.Logged != 1 || !found {
		t.Fatalf("checkpoint rows deleted: %+v", v)
	}
}
