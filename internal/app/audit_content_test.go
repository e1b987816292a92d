package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

func changesOf(t *testing.T, en *audit.Entry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(en.Changes), &m); err != nil {
		t.Fatalf("entry %d: changes %q are not JSON: %v", en.Seq, en.Changes, err)
	}
	return m
}

// checkEntry compares an entry with who did what; changes lists keys that must be present.
func checkEntry(t *testing.T, e *apptest.Env, en *audit.Entry, c app.Caller, action, objectID string, from, to domain.Status, changes ...string) {
	t.Helper()
	want := audit.Entry{ActorID: c.Actor.UserID, ActorName: c.Actor.Username, ActorRoles: domain.RoleNames(c.Actor.Roles),
		IP: c.IP, RequestID: c.RequestID, Action: action, ObjectType: "problem", ObjectID: objectID,
		FromState: string(from), ToState: string(to), Outcome: audit.OutcomeOK}
	got := audit.Entry{ActorID: en.ActorID, ActorName: en.ActorName, ActorRoles: en.ActorRoles, IP: en.IP, RequestID: en.RequestID,
		Action: en.Action, ObjectType: en.ObjectType, ObjectID: en.ObjectID, FromState: en.FromState, ToState: en.ToState,
		Outcome: en.Outcome}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s entry:\n got %+v\nwant %+v", action, got, want)
	}
	if en.Reason != "" {
		t.Errorf("%s: ok entry with reason %q", action, en.Reason)
	}
	if !en.At.Equal(e.Clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("%s: entry at %v, clock at %v", action, en.At, e.Clock.Now())
	}
	m := changesOf(t, en)
	for _, k := range changes {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: changes %s lack %q", action, en.Changes, k)
		}
	}
}

func TestEachLifecycleActionAppendsOneEntry(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	caller := func(user string, n int) app.Caller {
		return with(e.Caller(user), fmt.Sprintf("10.0.%d.%d", n, n), fmt.Sprintf("req-%s-%d", user, n))
	}
	unit := e.Units["一班"].ID
	var p *domain.Problem
	var extID int64
	deadline := e.Svc.Core.Today().AddDays(20)
	steps := []struct {
		user     string
		action   string
		from, to domain.Status
		changes  []string
		do       func(c app.Caller) (*domain.Problem, error)
	}{
		{"inspector", "register", "", domain.StatusRegistered, []string{"title", "code", "category_id", "severity", "source", "unit_id", "found_at"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Register(ctx, c, app.ProblemInput{Title: "作风问题", Description: "描述", CategoryID: 5,
					Severity: domain.SeveritySerious, Source: domain.SourceSpotCheck, UnitID: unit})
			}},
		{"inspector", "edit", domain.StatusRegistered, domain.StatusRegistered, []string{"title", "severity"},
			func(c app.Caller) (*domain.Problem, error) {
				title, sev := "作风问题（修订）", domain.SeverityGeneral
				return e.Svc.Lifecycle.Edit(ctx, c, p.ID, p.Version, app.ProblemPatch{Title: &title, Severity: &sev})
			}},
		{"verifier", "assign", domain.StatusRegistered, domain.StatusAssigned, []string{"assignee_id", "deadline", "measures"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Assign(ctx, c, p.ID, p.Version, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Deadline: deadline, Measures: "措施"})
			}},
		{"owner1", "accept", domain.StatusAssigned, domain.StatusRectifying, []string{"note"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Accept(ctx, c, p.ID, p.Version, "收到")
			}},
		{"owner1", "progress", domain.StatusRectifying, domain.StatusRectifying, []string{"note", "percent"},
			func(c app.Caller) (*domain.Problem, error) {
				pct := 40
				return e.Svc.Lifecycle.Progress(ctx, c, p.ID, p.Version, "进展", &pct)
			}},
		{"owner1", "request_extension", domain.StatusRectifying, domain.StatusRectifying, []string{"deadline", "reason", "extension_id"},
			func(c app.Caller) (*domain.Problem, error) {
				ext, err := e.Svc.Lifecycle.RequestExtension(ctx, c, p.ID, p.Version, deadline.AddDays(7), "材料未到")
				if err != nil {
					return nil, err
				}
				extID = ext.ID
				return e.Svc.Lifecycle.Problem(ctx, c, p.ID)
			}},
		{"verifier2", "decide_extension", domain.StatusRectifying, domain.StatusRectifying, []string{"extension_id", "approved", "deadline"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.DecideExtension(ctx, c, p.ID, p.Version, extID, true, "同意")
			}},
		{"verifier", "urge", domain.StatusRectifying, domain.StatusRectifying, []string{"note"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Urge(ctx, c, p.ID, p.Version, "请加快")
			}},
		{"leader", "comment", domain.StatusRectifying, domain.StatusRectifying, []string{"text", "comment_id"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Comment(ctx, c, p.ID, "领导关注")
			}},
		{"owner1", "submit", domain.StatusRectifying, domain.StatusSubmitted, []string{"note"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Submit(ctx, c, p.ID, p.Version, "已整改")
			}},
		{"verifier2", "verify_fail", domain.StatusSubmitted, domain.StatusRectifying, []string{"note", "rework_count"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Verify(ctx, c, p.ID, p.Version, false, "不彻底")
			}},
		{"owner1", "submit", domain.StatusRectifying, domain.StatusSubmitted, []string{"note"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Submit(ctx, c, p.ID, p.Version, "再次整改")
			}},
		{"verifier", "verify_pass", domain.StatusSubmitted, domain.StatusClosed, []string{"on_time"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Verify(ctx, c, p.ID, p.Version, true, "")
			}},
		{"verifier", "reopen", domain.StatusClosed, domain.StatusRectifying, []string{"reason", "deadline", "reopen_count"},
			func(c app.Caller) (*domain.Problem, error) {
				return e.Svc.Lifecycle.Reopen(ctx, c, p.ID, p.Version, "回头看发现反弹", deadline.AddDays(30))
			}},
	}
	var actions []string
	for i, s := range steps {
		e.Clock.Advance(time.Duration(i+1) * time.Minute)
		c := caller(s.user, i)
		var before int64
		if p != nil {
			before = load(t, e, p.ID).Version
		}
		got, err := s.do(c)
		if err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		p = got
		es := problemEntries(t, e, p.ID)
		if len(es) != i+1 {
			t.Fatalf("after %s the stream has %d entries, want %d", s.action, len(es), i+1)
		}
		checkEntry(t, e, es[i], c, s.action, fmt.Sprint(p.ID), s.from, s.to, s.changes...)
		if es[i].StreamSeq != int64(i+1) || es[i].Stream != audit.ProblemStream(p.ID) {
			t.Fatalf("%s: stream %s seq %d", s.action, es[i].Stream, es[i].StreamSeq)
		}
		stored := load(t, e, p.ID)
		switch {
		case s.action == "register" && stored.Version != 1:
			t.Fatalf("registered at version %d", stored.Version)
		case s.action == "comment" && stored.Version != before:
			t.Fatalf("a comment moved the version from %d to %d", before, stored.Version)
		case s.action != "register" && s.action != "comment" && stored.Version != before+1:
			t.Fatalf("%s moved the version from %d to %d", s.action, before, stored.Version)
		}
		actions = append(actions, s.action)
	}
	es := problemEntries(t, e, p.ID)
	if ch := changesOf(t, es[0]); ch["code"] != p.Code || ch["title"] != "作风问题" {
		t.Errorf("register changes %s", es[0].Changes)
	}
	if ch := changesOf(t, es[1]); !reflect.DeepEqual(ch["title"], map[string]any{"from": "作风问题", "to": "作风问题（修订）"}) {
		t.Errorf("edit changes %s", es[1].Changes)
	}
	if ch := changesOf(t, es[6]); !reflect.DeepEqual(ch["deadline"], map[string]any{"from": deadline.String(), "to": deadline.AddDays(7).String()}) {
		t.Errorf("decision changes %s", es[6].Changes)
	}
	if ch := changesOf(t, es[10]); ch["rework_count"] != 1.0 || ch["note"] != "不彻底" {
		t.Errorf("verify_fail changes %s", es[10].Changes)
	}
	final := load(t, e, p.ID)
	if final.ReworkCount != 1 || final.ReopenCount != 1 || final.ExtensionCount != 1 || final.Percent != 40 ||
		final.Deadline != deadline.AddDays(30) || final.ClosedAt != nil {
		t.Errorf("final problem %+v", final)
	}

	// History is the same timeline, oldest first, to anyone who sees the problem.
	for _, who := range []string{"leader", "owner1", "ownerdept", "inspector"} {
		hist, err := e.Svc.Lifecycle.History(ctx, e.Caller(who), p.ID, 0, 100)
		if err != nil {
			t.Fatalf("%s reads history: %v", who, err)
		}
		var got []string
		for i, h := range hist {
			got = append(got, h.Action)
			if i > 0 && h.Seq <= hist[i-1].Seq {
				t.Fatalf("history not oldest first: %d after %d", h.Seq, hist[i-1].Seq)
			}
		}
		if !slices.Equal(got, actions) {
			t.Fatalf("%s sees history %v, want %v", who, got, actions)
		}
	}
	// Paging through the timeline.
	page1, _ := e.Svc.Lifecycle.History(ctx, e.Caller("leader"), p.ID, 0, 5)
	page2, _ := e.Svc.Lifecycle.History(ctx, e.Caller("leader"), p.ID, page1[4].Seq, 100)
	if len(page1) != 5 || len(page2) != len(actions)-5 || page2[0].Action != actions[5] {
		t.Fatalf("history pages of %d and %d", len(page1), len(page2))
	}
	if _, err := e.Svc.Lifecycle.History(ctx, e.Caller("owner2"), p.ID, 0, 100); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("owner2 reads history: %v, want ErrNotFound", err)
	}

	// Dismissal, on a problem of its own.
	q := e.Drive(t, domain.StatusAssigned)
	c := caller("verifier", 99)
	if _, err := e.Svc.Lifecycle.Dismiss(ctx, c, q.ID, q.Version, "重复登记"); err != nil {
		t.Fatal(err)
	}
	checkEntry(t, e, lastEntry(t, e, audit.ProblemStream(q.ID)), c, "dismiss", fmt.Sprint(q.ID), domain.StatusAssigned, domain.StatusDismissed, "reason")
	mustVerifyOK(t, e)
}

func TestRefusedAttemptsAreAuditedAndChangeNothing(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusAssigned)
	ov := e.Drive(t, domain.StatusRegistered)
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), ov.ID, 0, app.AssignInput{AssigneeID: e.Users["ownerverifier"].ID, Measures: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("ownerverifier"), ov.ID, 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Submit(ctx, e.Caller("ownerverifier"), ov.ID, 0, "done"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		user   string
		id     int64
		action string
		is     func(error) bool
		do     func(c app.Caller, id int64) error
	}{
		{"403 wrong role", "owner1", p.ID, "assign", func(err error) bool { return errors.Is(err, domain.ErrForbidden) },
			func(c app.Caller, id int64) error {
				_, err := e.Svc.Lifecycle.Assign(ctx, c, id, 0, app.AssignInput{AssigneeID: e.Users["owner2"].ID})
				return err
			}},
		{"403 four-eyes", "ownerverifier", ov.ID, "verify_pass", func(err error) bool {
			var fe *domain.ForbiddenError
			return errors.As(err, &fe) && fe.Code == "four_eyes"
		}, func(c app.Caller, id int64) error {
			_, err := e.Svc.Lifecycle.Verify(ctx, c, id, 0, true, "")
			return err
		}},
		{"403 not the assignee", "ownerdept", p.ID, "request_extension", func(err error) bool { return errors.Is(err, domain.ErrForbidden) },
			func(c app.Caller, id int64) error {
				_, err := e.Svc.Lifecycle.RequestExtension(ctx, c, id, 0, e.Svc.Core.Today().AddDays(90), "x")
				return err
			}},
		{"409 wrong state", "owner1", p.ID, "submit", func(err error) bool {
			var inv *domain.InvalidTransitionError
			return errors.As(err, &inv) && inv.From == domain.StatusAssigned && slices.Contains(inv.Allowed, domain.ActionAccept)
		}, func(c app.Caller, id int64) error {
			_, err := e.Svc.Lifecycle.Submit(ctx, c, id, 0, "done")
			return err
		}},
		{"404 out of scope", "owner2", p.ID, "accept", func(err error) bool { return errors.Is(err, domain.ErrNotFound) },
			func(c app.Caller, id int64) error {
				_, err := e.Svc.Lifecycle.Accept(ctx, c, id, 0, "")
				return err
			}},
		{"404 comment out of scope", "owner2", p.ID, "comment", func(err error) bool { return errors.Is(err, domain.ErrNotFound) },
			func(c app.Caller, id int64) error {
				_, err := e.Svc.Lifecycle.Comment(ctx, c, id, "hi")
				return err
			}},
		{"412 stale If-Match", "verifier", p.ID, "urge", func(err error) bool { return errors.Is(err, domain.ErrPreconditionFailed) },
			func(c app.Caller, id int64) error {
				_, err := e.Svc.Lifecycle.Urge(ctx, c, id, p.Version-1, "快")
				return err
			}},
		{"400 invalid payload", "verifier", p.ID, "dismiss", func(err error) bool {
			var v *domain.ValidationError
			return errors.As(err, &v) && v.Fields[0].Field == "reason"
		}, func(c app.Caller, id int64) error {
			_, err := e.Svc.Lifecycle.Dismiss(ctx, c, id, 0, "  ")
			return err
		}},
	}
	for i, tt := range tests {
		before := load(t, e, tt.id)
		n := len(problemEntries(t, e, tt.id))
		c := with(e.Caller(tt.user), "192.0.2.7", fmt.Sprintf("refused-%d", i))
		err := tt.do(c, tt.id)
		if err == nil || !tt.is(err) {
			t.Fatalf("%s: got %v", tt.name, err)
		}
		if after := load(t, e, tt.id); !reflect.DeepEqual(before, after) {
			t.Fatalf("%s: the problem changed:\n%+v\n%+v", tt.name, before, after)
		}
		es := problemEntries(t, e, tt.id)
		if len(es) != n+1 {
			t.Fatalf("%s: %d entries appended, want 1", tt.name, len(es)-n)
		}
		en := es[n]
		if en.Outcome != audit.OutcomeRefused || en.Reason == "" || en.Action != tt.action || en.ActorID != c.Actor.UserID ||
			en.IP != "192.0.2.7" || en.RequestID != c.RequestID || en.FromState != string(before.Status) || en.ToState != "" ||
			en.ObjectID != fmt.Sprint(tt.id) || en.ObjectType != "problem" {
			t.Fatalf("%s: refused entry %+v", tt.name, en)
		}
		if !strings.Contains(en.Reason, err.Error()) && !strings.Contains(err.Error(), en.Reason) {
			t.Errorf("%s: reason %q does not say why (%v)", tt.name, en.Reason, err)
		}
	}

	// Refusals without a problem go to the system stream.
	sys := len(streamEntries(t, e, audit.SystemStream))
	_, err := e.Svc.Lifecycle.Register(ctx, e.Caller("owner1"), app.ProblemInput{Title: "t", CategoryID: 5, Severity: domain.SeverityGeneral,
		Source: domain.SourceReport, UnitID: e.Units["一班"].ID})
	if !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("owner registers: %v", err)
	}
	_, err = e.Svc.Lifecycle.Urge(ctx, e.Caller("verifier"), 987654, 0, "x")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("urge of an absent problem: %v", err)
	}
	es := streamEntries(t, e, audit.SystemStream)
	if len(es) != sys+2 {
		t.Fatalf("%d system entries appended, want 2", len(es)-sys)
	}
	if r := es[sys]; r.Action != "register" || r.Outcome != audit.OutcomeRefused || r.Reason == "" || r.ActorName != "owner1" {
		t.Errorf("refused registration %+v", r)
	}
	if r := es[sys+1]; r.Action != "urge" || r.Outcome != audit.OutcomeRefused || r.ObjectID != "987654" {
		t.Errorf("refused urge of an absent problem %+v", r)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM audit_streams WHERE stream = ?", audit.ProblemStream(987654)); n != 0 {
		t.Error("a stream was opened for an absent problem")
	}
	// The discipline check's questions: who was refused what.
	refused, err := e.Svc.Trail.Audit(ctx, e.Caller("leader"), app.AuditQuery{Outcome: audit.OutcomeRefused, Limit: 100})
	if err != nil || len(refused) != len(tests)+2 {
		t.Fatalf("%d refused entries listed, want %d (%v)", len(refused), len(tests)+2, err)
	}
	mustVerifyOK(t, e)
}

func TestLoginsAndAdminChangesGoToTheSystemStream(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	sys := streamEntries(t, e, audit.SystemStream)
	if b := sys[0]; b.Action != "bootstrap" || b.ActorName != "system" || b.Outcome != audit.OutcomeOK {
		t.Fatalf("first system entry %+v", b)
	}
	problemRows := func() int {
		return count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE stream <> ?", audit.SystemStream)
	}
	problemsBefore := problemRows()
	admin := with(e.Caller("admin"), "10.9.9.9", "req-admin")
	n := len(sys)
	expect := func(action, outcome, objectType string, check func(en *audit.Entry)) {
		t.Helper()
		es := streamEntries(t, e, audit.SystemStream)
		if len(es) != n+1 {
			t.Fatalf("%s: %d system entries appended, want 1", action, len(es)-n)
		}
		n = len(es)
		en := es[len(es)-1]
		if en.Action != action || en.Outcome != outcome || en.ObjectType != objectType {
			t.Fatalf("%s: entry %+v", action, en)
		}
		if outcome == audit.OutcomeRefused && en.Reason == "" {
			t.Fatalf("%s: refused without a reason", action)
		}
		if check != nil {
			check(en)
		}
	}
	anon := app.Caller{IP: "198.51.100.1", RequestID: "req-login"}

	if _, err := e.Svc.Access.Login(ctx, anon, "owner1", apptest.Password); err != nil {
		t.Fatal(err)
	}
	expect("login", audit.OutcomeOK, "user", func(en *audit.Entry) {
		if en.ActorID != e.Users["owner1"].ID || en.ObjectID != fmt.Sprint(e.Users["owner1"].ID) || en.IP != anon.IP ||
			en.RequestID != anon.RequestID || !slices.Equal(en.ActorRoles, []string{"owner"}) {
			t.Errorf("login entry %+v", en)
		}
	})
	for _, tc := range []struct{ user, password, why string }{
		{"ghost", apptest.Password, "unknown user"},
		{"owner1", "wrong password!", "wrong password"},
	} {
		if _, err := e.Svc.Access.Login(ctx, anon, tc.user, tc.password); err == nil {
			t.Fatal("login succeeded")
		}
		expect("login", audit.OutcomeRefused, "user", func(en *audit.Entry) {
			if en.Reason != tc.why || en.ObjectID != tc.user || en.IP != anon.IP {
				t.Errorf("refused login entry %+v", en)
			}
		})
	}

	u, err := e.Svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "Newbie", Name: "新人", Password: "long enough pw",
		Roles: []string{"owner", "inspector"}, UnitID: e.Units["二班"].ID})
	if err != nil {
		t.Fatal(err)
	}
	expect("user_create", audit.OutcomeOK, "user", func(en *audit.Entry) {
		ch := changesOf(t, en)
		if en.ObjectID != fmt.Sprint(u.ID) || ch["username"] != "newbie" || ch["name"] != "新人" || en.ActorID != e.Users["admin"].ID ||
			en.RequestID != "req-admin" || strings.Contains(en.Changes, "long enough pw") || strings.Contains(en.Changes, "$2") {
			t.Errorf("user_create entry %+v", en)
		}
	})
	name := "新人甲"
	if _, err := e.Svc.Access.UpdateUser(ctx, admin, u.ID, app.UserPatch{Name: &name, Roles: []string{"owner"}}); err != nil {
		t.Fatal(err)
	}
	expect("user_update", audit.OutcomeOK, "user", func(en *audit.Entry) {
		ch := changesOf(t, en)
		if !reflect.DeepEqual(ch["name"], map[string]any{"from": "新人", "to": "新人甲"}) ||
			!reflect.DeepEqual(ch["roles"], map[string]any{"from": "inspector,owner", "to": "owner"}) {
			t.Errorf("user_update changes %s", en.Changes)
		}
	})
	if err := e.Svc.Access.ResetPassword(ctx, admin, u.ID, "brand new password"); err != nil {
		t.Fatal(err)
	}
	expect("user_reset_password", audit.OutcomeOK, "user", func(en *audit.Entry) {
		if en.ObjectID != fmt.Sprint(u.ID) || strings.Contains(en.Changes, "brand new password") {
			t.Errorf("reset entry %+v", en)
		}
	})
	disabled := true
	if _, err := e.Svc.Access.UpdateUser(ctx, admin, u.ID, app.UserPatch{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	expect("user_update", audit.OutcomeOK, "user", func(en *audit.Entry) {
		if !reflect.DeepEqual(changesOf(t, en)["disabled"], map[string]any{"from": false, "to": true}) {
			t.Errorf("disable changes %s", en.Changes)
		}
	})
	if _, err := e.Svc.Access.Login(ctx, anon, "newbie", "brand new password"); err == nil {
		t.Fatal("disabled user logged in")
	}
	expect("login", audit.OutcomeRefused, "user", func(en *audit.Entry) {
		if en.Reason != "user disabled" {
			t.Errorf("disabled login reason %q", en.Reason)
		}
	})

	unit, err := e.Svc.Access.CreateUnit(ctx, admin, app.UnitInput{Name: "三班", ParentID: e.Units["部门"].ID})
	if err != nil {
		t.Fatal(err)
	}
	expect("unit_create", audit.OutcomeOK, "unit", func(en *audit.Entry) {
		if en.ObjectID != fmt.Sprint(unit.ID) || changesOf(t, en)["name"] != "三班" {
			t.Errorf("unit_create entry %+v", en)
		}
	})
	newName, root := "三班（新）", e.Units["中心"].ID
	if _, err := e.Svc.Access.UpdateUnit(ctx, admin, unit.ID, app.UnitPatch{Name: &newName, ParentID: &root}); err != nil {
		t.Fatal(err)
	}
	expect("unit_update", audit.OutcomeOK, "unit", func(en *audit.Entry) {
		ch := changesOf(t, en)
		if ch["name"] == nil || ch["parent_id"] == nil {
			t.Errorf("unit_update changes %s", en.Changes)
		}
	})
	cat, err := e.Svc.Access.CreateCategory(ctx, admin, app.CategoryInput{Code: "ZGSJ-03", Name: "纪律作风", ParentID: 4})
	if err != nil {
		t.Fatal(err)
	}
	expect("category_create", audit.OutcomeOK, "category", func(en *audit.Entry) {
		if en.ObjectID != fmt.Sprint(cat.ID) || changesOf(t, en)["code"] != "ZGSJ-03" {
			t.Errorf("category_create entry %+v", en)
		}
	})
	catName := "纪律作风建设"
	if _, err := e.Svc.Access.UpdateCategory(ctx, admin, cat.ID, app.CategoryPatch{Name: &catName}); err != nil {
		t.Fatal(err)
	}
	expect("category_update", audit.OutcomeOK, "category", func(en *audit.Entry) {
		if !reflect.DeepEqual(changesOf(t, en)["name"], map[string]any{"from": "纪律作风", "to": "纪律作风建设"}) {
			t.Errorf("category_update changes %s", en.Changes)
		}
	})

	// Refused administrative changes are audited on the system stream too.
	if _, err := e.Svc.Access.CreateUnit(ctx, e.Caller("verifier"), app.UnitInput{Name: "x", ParentID: root}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("verifier creates a unit: %v", err)
	}
	expect("unit_create", audit.OutcomeRefused, "unit", nil)
	if _, err := e.Svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "owner1", Name: "dup", Password: "long enough pw",
		Roles: []string{"owner"}, UnitID: root}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate username: %v", err)
	}
	expect("user_create", audit.OutcomeRefused, "user", nil)
	if _, err := e.Svc.Access.CreateCategory(ctx, admin, app.CategoryInput{Code: "bad code!", Name: "x"}); err == nil {
		t.Fatal("bad category code accepted")
	}
	expect("category_create", audit.OutcomeRefused, "category", nil)
	if err := e.Svc.Access.ResetPassword(ctx, e.Caller("leader"), u.ID, "whatever password"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("leader resets a password: %v", err)
	}
	expect("user_reset_password", audit.OutcomeRefused, "user", nil)

	if problemRows() != problemsBefore {
		t.Fatal("logins or admin changes were written to a problem stream")
	}
	// Logout too.
	token := e.Login(t, "owner2")
	n++
	if err := e.Svc.Access.Logout(ctx, e.Caller("owner2"), token); err != nil {
		t.Fatal(err)
	}
	expect("logout", audit.OutcomeOK, "user", nil)

	// Only verifiers, leaders and admins read and verify the trail.
	for _, who := range []string{"owner1", "inspector"} {
		if _, err := e.Svc.Trail.Audit(ctx, e.Caller(who), app.AuditQuery{Limit: 10}); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("%s reads the audit: %v", who, err)
		}
		if _, err := e.Svc.Trail.VerifyAudit(ctx, e.Caller(who)); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("%s verifies the audit: %v", who, err)
		}
		if _, err := e.Svc.Trail.LatestCheckpoint(ctx, e.Caller(who)); !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("%s reads checkpoints: %v", who, err)
		}
	}
	for _, who := range []string{"admin", "verifier", "leader"} {
		if _, err := e.Svc.Trail.VerifyAudit(ctx, e.Caller(who)); err != nil {
			t.Errorf("%s verifies the audit: %v", who, err)
		}
	}
	logins, err := e.Svc.Trail.Audit(ctx, e.Caller("admin"), app.AuditQuery{Action: "login", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range logins {
		if l.Stream != audit.SystemStream || (i > 0 && l.Seq >= logins[i-1].Seq) {
			t.Fatalf("audit list of logins: %+v", l)
		}
	}
	mustVerifyOK(t, e)
}
