package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// wantChange asserts the Change an action returned.
func wantChange(t *testing.T, ch domain.Change, a domain.Action, from, to domain.Status, details map[string]any) {
	t.Helper()
	if ch.Action != a || ch.From != from || ch.To != to {
		t.Errorf("Change = {%s %s→%s}, want {%s %s→%s}", ch.Action, ch.From, ch.To, a, from, to)
	}
	if ch.Details == nil {
		t.Errorf("Change.Details is nil; want a map")
	}
	if !reflect.DeepEqual(ch.Details, details) {
		t.Errorf("Change.Details = %#v\nwant %#v", ch.Details, details)
	}
}

func fromTo[T any](from, to T) map[string]any { return map[string]any{"from": from, "to": to} }

func validFields() domain.ProblemFields {
	return domain.ProblemFields{
		Title: "会议迟到现象突出", Description: "多次例会有人迟到", CategoryID: 3,
		Severity: domain.SeveritySerious, Source: domain.SourceSpotCheck,
		UnitID: problemUnitID, UnitPath: problemUnitPath, FoundAt: today.AddDays(-1),
	}
}

func TestRegister(t *testing.T) {
	t.Run("creates a registered problem", func(t *testing.T) {
		f := validFields()
		f.Title = "  " + f.Title + "\n"
		p, ch, err := domain.Register(f, inspector, now, today)
		mustNil(t, err)
		want := domain.Problem{
			Title: "会议迟到现象突出", Description: "多次例会有人迟到", CategoryID: 3,
			Severity: domain.SeveritySerious, Source: domain.SourceSpotCheck,
			UnitID: problemUnitID, UnitPath: problemUnitPath, FoundAt: today.AddDays(-1),
			Status: domain.StatusRegistered, Version: 1, CreatedBy: inspectorID, CreatedAt: now, UpdatedAt: now,
		}
		if clone(p) != clone(&want) {
			t.Errorf("problem = %+v\nwant %+v", *p, want)
		}
		wantChange(t, ch, domain.ActionRegister, "", domain.StatusRegistered, map[string]any{
			"title": "会议迟到现象突出", "category_id": int64(3), "severity": domain.SeveritySerious,
			"source": domain.SourceSpotCheck, "unit_id": problemUnitID, "found_at": today.AddDays(-1).String(),
		})
	})
	t.Run("who registers", func(t *testing.T) {
		for _, r := range domain.Roles() {
			p, _, err := domain.Register(validFields(), singleRoleActor(r), now, today)
			switch r {
			case domain.RoleInspector, domain.RoleVerifier:
				mustNil(t, err)
				if p.CreatedBy != singleRoleActor(r).UserID {
					t.Errorf("%s: CreatedBy = %d", r, p.CreatedBy)
				}
			default:
				wantForbidden(t, err, "role_required")
				if p != nil {
					t.Errorf("%s: a refused register returned a problem", r)
				}
			}
		}
	})
	tests := []struct {
		name   string
		change func(*domain.ProblemFields)
		fields []string // nil: valid
	}{
		{"title required", func(f *domain.ProblemFields) { f.Title = "" }, []string{"title"}},
		{"blank title", func(f *domain.ProblemFields) { f.Title = " \t\n" }, []string{"title"}},
		{"title of 200 Chinese characters", func(f *domain.ProblemFields) { f.Title = strings.Repeat("题", 200) }, nil},
		{"title of 201 Chinese characters", func(f *domain.ProblemFields) { f.Title = strings.Repeat("题", 201) }, []string{"title"}},
		{"title of 200 ASCII characters", func(f *domain.ProblemFields) { f.Title = strings.Repeat("t", 200) }, nil},
		{"title of 201 ASCII characters", func(f *domain.ProblemFields) { f.Title = strings.Repeat("t", 201) }, []string{"title"}},
		{"title of 200 characters padded with spaces", func(f *domain.ProblemFields) { f.Title = "  " + strings.Repeat("题", 200) + "  " }, nil},
		{"empty description", func(f *domain.ProblemFields) { f.Description = "" }, nil},
		{"description of 4000", func(f *domain.ProblemFields) { f.Description = strings.Repeat("述", 4000) }, nil},
		{"description of 4001", func(f *domain.ProblemFields) { f.Description = strings.Repeat("述", 4001) }, []string{"description"}},
		{"category required", func(f *domain.ProblemFields) { f.CategoryID = 0 }, []string{"category_id"}},
		{"negative category", func(f *domain.ProblemFields) { f.CategoryID = -3 }, []string{"category_id"}},
		{"severity required", func(f *domain.ProblemFields) { f.Severity = "" }, []string{"severity"}},
		{"unknown severity", func(f *domain.ProblemFields) { f.Severity = "minor" }, []string{"severity"}},
		{"severity is case sensitive", func(f *domain.ProblemFields) { f.Severity = "Critical" }, []string{"severity"}},
		{"general", func(f *domain.ProblemFields) { f.Severity = domain.SeverityGeneral }, nil},
		{"critical", func(f *domain.ProblemFields) { f.Severity = domain.SeverityCritical }, nil},
		{"source required", func(f *domain.ProblemFields) { f.Source = "" }, []string{"source"}},
		{"unknown source", func(f *domain.ProblemFields) { f.Source = "blog" }, []string{"source"}},
		{"report", func(f *domain.ProblemFields) { f.Source = domain.SourceReport }, nil},
		{"unit required", func(f *domain.ProblemFields) { f.UnitID = 0 }, []string{"unit_id"}},
		{"found_at required", func(f *domain.ProblemFields) { f.FoundAt = domain.Date{} }, []string{"found_at"}},
		{"found today", func(f *domain.ProblemFields) { f.FoundAt = today }, nil},
		{"found tomorrow", func(f *domain.ProblemFields) { f.FoundAt = today.AddDays(1) }, []string{"found_at"}},
		{"found years ago", func(f *domain.ProblemFields) { f.FoundAt = domain.NewDate(2019, 1, 1) }, nil},
		{"everything wrong at once", func(f *domain.ProblemFields) { *f = domain.ProblemFields{} },
			[]string{"title", "category_id", "severity", "source", "unit_id", "found_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFields()
			tt.change(&f)
			p, _, err := domain.Register(f, inspector, now, today)
			if tt.fields == nil {
				mustNil(t, err)
				if p.Status != domain.StatusRegistered {
					t.Errorf("status = %s", p.Status)
				}
				return
			}
			wantInvalid(t, err, tt.fields...)
			if p != nil {
				t.Errorf("invalid register returned a problem")
			}
			// Validate alone agrees (after the trim Register does).
			f.Title = strings.TrimSpace(f.Title)
			wantInvalid(t, f.Validate(today), tt.fields...)
		})
	}
	t.Run("length errors name the limit", func(t *testing.T) {
		f := validFields()
		f.Title = strings.Repeat("题", 201)
		_, _, err := domain.Register(f, inspector, now, today)
		ve := invalidError(t, err, "title")
		if r := ve.Fields[0].Reason; !strings.Contains(r, "201") || !strings.Contains(r, "200") {
			t.Errorf("reason %q names neither the length nor the limit", r)
		}
	})
}

func TestEdit(t *testing.T) {
	t.Run("records what changed", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		f := domain.ProblemFields{
			Title: " 例会迟到 ", Description: p.Description, CategoryID: 5, Severity: domain.SeverityCritical,
			Source: p.Source, UnitID: 6, UnitPath: "/1/6/", FoundAt: today,
		}
		ch, err := p.Edit(f, inspector, now, today)
		mustNil(t, err)
		wantChange(t, ch, domain.ActionEdit, domain.StatusRegistered, domain.StatusRegistered, map[string]any{
			"title":       fromTo("会议迟到现象突出", "例会迟到"),
			"category_id": fromTo[int64](3, 5),
			"severity":    fromTo(domain.SeverityGeneral, domain.SeverityCritical),
			"unit_id":     fromTo[int64](problemUnitID, 6),
			"found_at":    fromTo(today.AddDays(-11).String(), today.String()),
		})
		if p.Title != "例会迟到" || p.CategoryID != 5 || p.Severity != domain.SeverityCritical || p.UnitID != 6 ||
			p.UnitPath != "/1/6/" || p.FoundAt != today || !p.UpdatedAt.Equal(now) || p.Status != domain.StatusRegistered {
			t.Errorf("problem after edit: %+v", p)
		}
	})
	t.Run("no change, empty details", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		f := domain.ProblemFields{Title: p.Title, Description: p.Description, CategoryID: p.CategoryID, Severity: p.Severity,
			Source: p.Source, UnitID: p.UnitID, UnitPath: p.UnitPath, FoundAt: p.FoundAt}
		ch, err := p.Edit(f, verifier, now, today)
		mustNil(t, err)
		wantChange(t, ch, domain.ActionEdit, domain.StatusRegistered, domain.StatusRegistered, map[string]any{})
	})
	t.Run("description and source", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		f := validFields()
		f.Title, f.Severity, f.CategoryID, f.UnitID, f.UnitPath, f.FoundAt = p.Title, p.Severity, p.CategoryID, p.UnitID, p.UnitPath, p.FoundAt
		f.Description, f.Source = "", domain.SourceReport
		ch, err := p.Edit(f, verifier, now, today)
		mustNil(t, err)
		wantChange(t, ch, domain.ActionEdit, domain.StatusRegistered, domain.StatusRegistered, map[string]any{
			"description": fromTo("多次例会有人迟到", ""),
			"source":      fromTo(domain.SourceSpotCheck, domain.SourceReport),
		})
	})
	refusals := []struct {
		name   string
		status domain.Status
		f      func(*domain.ProblemFields)
		actor  domain.Actor
		check  func(*testing.T, error)
	}{
		{"invalid", domain.StatusRegistered, func(f *domain.ProblemFields) { f.Title = "  " }, inspector,
			func(t *testing.T, err error) { wantInvalid(t, err, "title") }},
		{"future found_at", domain.StatusRegistered, func(f *domain.ProblemFields) { f.FoundAt = today.AddDays(1) }, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "found_at") }},
		{"another inspector", domain.StatusRegistered, nil, actor(otherInspectorID, inspectUnitPath, domain.RoleInspector),
			func(t *testing.T, err error) { wantForbidden(t, err, "not_creator") }},
		{"owner", domain.StatusRegistered, nil, owner,
			func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"once assigned", domain.StatusAssigned, nil, inspector,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionEdit, domain.StatusAssigned) }},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			f := validFields()
			if tt.f != nil {
				tt.f(&f)
			}
			_, err := p.Edit(f, tt.actor, now, today)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused edit changed the problem")
			}
		})
	}
}

func ownerAssignee(id int64) domain.Assignee {
	return domain.Assignee{ID: id, Roles: []domain.Role{domain.RoleOwner}}
}

func TestAssign(t *testing.T) {
	t.Run("first assignment with the default deadline by severity", func(t *testing.T) {
		for _, tt := range []struct {
			severity domain.Severity
			days     int
		}{{domain.SeverityGeneral, 30}, {domain.SeveritySerious, 15}, {domain.SeverityCritical, 7}} {
			p := problemIn(domain.StatusRegistered)
			p.Severity = tt.severity
			ch, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "建立考勤制度"},
				verifier, now, today, domain.DefaultDeadlinePolicy())
			mustNil(t, err)
			want := today.AddDays(tt.days)
			if p.Deadline != want || p.AssigneeID != ownerID || p.Measures != "建立考勤制度" || p.Status != domain.StatusAssigned {
				t.Errorf("%s: %+v", tt.severity, p)
			}
			if p.AssignedAt == nil || !p.AssignedAt.Equal(now) || !p.UpdatedAt.Equal(now) {
				t.Errorf("%s: AssignedAt %v UpdatedAt %v", tt.severity, p.AssignedAt, p.UpdatedAt)
			}
			wantChange(t, ch, domain.ActionAssign, domain.StatusRegistered, domain.StatusAssigned, map[string]any{
				"assignee_id": fromTo[int64](0, ownerID),
				"deadline":    fromTo("", want.String()),
				"measures":    fromTo("", "建立考勤制度"),
			})
		}
	})
	t.Run("the default policy is 30, 15, 7 and yellow within 3", func(t *testing.T) {
		want := domain.DeadlinePolicy{GeneralDays: 30, SeriousDays: 15, CriticalDays: 7, YellowDays: 3}
		if got := domain.DefaultDeadlinePolicy(); got != want {
			t.Errorf("DefaultDeadlinePolicy() = %+v", got)
		}
		// 30 days from the last day of January crosses February.
		if got := want.DefaultDeadline(domain.SeverityGeneral, domain.NewDate(2026, 1, 31)); got != domain.NewDate(2026, 3, 2) {
			t.Errorf("general from 2026-01-31 = %s", got)
		}
		if got := want.DefaultDeadline(domain.SeverityCritical, domain.NewDate(2026, 12, 28)); got != domain.NewDate(2027, 1, 4) {
			t.Errorf("critical from 2026-12-28 = %s", got)
		}
	})
	t.Run("a configured policy", func(t *testing.T) {
		policy := domain.DeadlinePolicy{GeneralDays: 10, SeriousDays: 5, CriticalDays: 2, YellowDays: 1}
		for s, days := range map[domain.Severity]int{domain.SeverityGeneral: 10, domain.SeveritySerious: 5, domain.SeverityCritical: 2} {
			p := problemIn(domain.StatusRegistered)
			p.Severity = s
			_, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "m"}, verifier, now, today, policy)
			mustNil(t, err)
			if p.Deadline != today.AddDays(days) {
				t.Errorf("%s: deadline %s, want today+%d", s, p.Deadline, days)
			}
		}
	})
	t.Run("explicit deadline and unit", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		ch, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), UnitID: 5, UnitPath: siblingUnitPath,
			Deadline: today, Measures: "当天整改"}, verifier, now, today, domain.DefaultDeadlinePolicy())
		mustNil(t, err)
		if p.Deadline != today || p.UnitID != 5 || p.UnitPath != siblingUnitPath {
			t.Errorf("%+v", p)
		}
		wantChange(t, ch, domain.ActionAssign, domain.StatusRegistered, domain.StatusAssigned, map[string]any{
			"assignee_id": fromTo[int64](0, ownerID),
			"deadline":    fromTo("", today.String()),
			"measures":    fromTo("", "当天整改"),
			"unit_id":     fromTo[int64](problemUnitID, 5),
		})
	})
	t.Run("reassign keeps deadline, measures and unit", func(t *testing.T) {
		for _, s := range []domain.Status{domain.StatusAssigned, domain.StatusRectifying} {
			p := problemIn(s)
			oldDeadline, oldMeasures := p.Deadline, p.Measures
			ch, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(otherOwnerID)}, verifier, now, today, domain.DefaultDeadlinePolicy())
			mustNil(t, err)
			if p.Deadline != oldDeadline || p.Measures != oldMeasures || p.UnitID != problemUnitID ||
				p.UnitPath != problemUnitPath || p.AssigneeID != otherOwnerID || p.Status != domain.StatusAssigned {
				t.Errorf("%s: %+v", s, p)
			}
			wantChange(t, ch, domain.ActionAssign, s, domain.StatusAssigned, map[string]any{
				"assignee_id": fromTo(ownerID, otherOwnerID),
			})
		}
	})
	t.Run("reassign with new measures, deadline and same unit", func(t *testing.T) {
		p := problemIn(domain.StatusAssigned)
		ch, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), UnitID: problemUnitID, UnitPath: problemUnitPath,
			Deadline: today.AddDays(5), Measures: "新措施"}, verifier, now, today, domain.DefaultDeadlinePolicy())
		mustNil(t, err)
		wantChange(t, ch, domain.ActionAssign, domain.StatusAssigned, domain.StatusAssigned, map[string]any{
			"deadline": fromTo(today.AddDays(20).String(), today.AddDays(5).String()),
			"measures": fromTo("建立考勤登记制度", "新措施"),
		})
	})
	t.Run("an assignee holding several roles", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		a := domain.Assignee{ID: otherOwnerID, Roles: []domain.Role{domain.RoleLeader, domain.RoleOwner}}
		_, err := p.Assign(domain.AssignCmd{Assignee: a, Measures: "m"}, verifier, now, today, domain.DefaultDeadlinePolicy())
		mustNil(t, err)
	})
	refusals := []struct {
		name   string
		status domain.Status
		cmd    domain.AssignCmd
		actor  domain.Actor
		check  func(*testing.T, error)
	}{
		{"no assignee", domain.StatusRegistered, domain.AssignCmd{Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "assignee_id") }},
		{"assignee not an owner", domain.StatusRegistered,
			domain.AssignCmd{Assignee: domain.Assignee{ID: leaderID, Roles: []domain.Role{domain.RoleLeader, domain.RoleVerifier}}, Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "assignee_id") }},
		{"assignee without roles", domain.StatusRegistered, domain.AssignCmd{Assignee: domain.Assignee{ID: leaderID}, Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "assignee_id") }},
		{"assignee disabled", domain.StatusRegistered,
			domain.AssignCmd{Assignee: domain.Assignee{ID: ownerID, Roles: []domain.Role{domain.RoleOwner}, Disabled: true}, Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "assignee_id") }},
		{"deadline yesterday", domain.StatusRegistered,
			domain.AssignCmd{Assignee: ownerAssignee(ownerID), Deadline: today.AddDays(-1), Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"measures required on first assignment", domain.StatusRegistered,
			domain.AssignCmd{Assignee: ownerAssignee(ownerID)}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "measures") }},
		{"blank measures on first assignment", domain.StatusRegistered,
			domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: " \n "}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "measures") }},
		{"measures too long", domain.StatusAssigned,
			domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: strings.Repeat("措", domain.MaxMeasures+1)}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "measures") }},
		{"every field wrong", domain.StatusRegistered,
			domain.AssignCmd{Assignee: domain.Assignee{ID: 3, Disabled: true}, Deadline: today.AddDays(-3)}, verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "assignee_id", "deadline", "measures") }},
		{"by an owner", domain.StatusRegistered, domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "m"}, owner,
			func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"once submitted", domain.StatusSubmitted, domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "m"}, verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionAssign, domain.StatusSubmitted) }},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			_, err := p.Assign(tt.cmd, tt.actor, now, today, domain.DefaultDeadlinePolicy())
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused assign changed the problem")
			}
		})
	}
}

func TestAccept(t *testing.T) {
	for _, tt := range []struct {
		name    string
		note    string
		details map[string]any
	}{
		{"without a note", "", map[string]any{}},
		{"with a note", "已签收", map[string]any{"note": "已签收"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusAssigned)
			ch, err := p.Accept(tt.note, owner, now)
			mustNil(t, err)
			if p.Status != domain.StatusRectifying || !p.UpdatedAt.Equal(now) {
				t.Errorf("%+v", p)
			}
			wantChange(t, ch, domain.ActionAccept, domain.StatusAssigned, domain.StatusRectifying, tt.details)
		})
	}
	t.Run("by an owner of the parent unit", func(t *testing.T) {
		p := problemIn(domain.StatusAssigned)
		_, err := p.Accept("", actor(otherOwnerID, parentUnitPath, domain.RoleOwner), now)
		mustNil(t, err)
		if p.AssigneeID != ownerID {
			t.Errorf("accepting for the unit must not change the assignee: %d", p.AssigneeID)
		}
	})
	t.Run("note too long", func(t *testing.T) {
		p := problemIn(domain.StatusAssigned)
		before := clone(p)
		_, err := p.Accept(strings.Repeat("注", domain.MaxNote+1), owner, now)
		wantInvalid(t, err, "note")
		if clone(p) != before {
			t.Errorf("refused accept changed the problem")
		}
	})
	t.Run("sibling owner", func(t *testing.T) {
		_, err := problemIn(domain.StatusAssigned).Accept("", actor(otherOwnerID, siblingUnitPath, domain.RoleOwner), now)
		wantForbidden(t, err, "not_responsible")
	})
	t.Run("twice", func(t *testing.T) {
		_, err := problemIn(domain.StatusRectifying).Accept("", owner, now)
		wantTransition(t, err, domain.ActionAccept, domain.StatusRectifying)
	})
}

func TestProgress(t *testing.T) {
	for _, tt := range []struct {
		name    string
		percent *int
		want    int
		details map[string]any
	}{
		{"no percent", nil, 40, map[string]any{"note": "进行中"}},
		{"0", ptr(0), 0, map[string]any{"note": "进行中", "percent": fromTo(40, 0)}},
		{"60", ptr(60), 60, map[string]any{"note": "进行中", "percent": fromTo(40, 60)}},
		{"100", ptr(100), 100, map[string]any{"note": "进行中", "percent": fromTo(40, 100)}},
		{"unchanged", ptr(40), 40, map[string]any{"note": "进行中"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusRectifying)
			ch, err := p.Progress("进行中", tt.percent, owner, now)
			mustNil(t, err)
			if p.Percent != tt.want || p.Status != domain.StatusRectifying || !p.UpdatedAt.Equal(now) {
				t.Errorf("%+v", p)
			}
			wantChange(t, ch, domain.ActionProgress, domain.StatusRectifying, domain.StatusRectifying, tt.details)
		})
	}
	for _, tt := range []struct {
		name    string
		note    string
		percent *int
		actor   domain.Actor
		check   func(*testing.T, error)
	}{
		{"-1", "进行中", ptr(-1), owner, func(t *testing.T, err error) { wantInvalid(t, err, "percent") }},
		{"101", "进行中", ptr(101), owner, func(t *testing.T, err error) { wantInvalid(t, err, "percent") }},
		{"note required", "", ptr(50), owner, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"blank note and bad percent", "  ", ptr(200), owner, func(t *testing.T, err error) { wantInvalid(t, err, "note", "percent") }},
		{"note too long", strings.Repeat("注", domain.MaxNote+1), nil, owner, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"not the assignee", "进行中", nil, actor(otherOwnerID, problemUnitPath, domain.RoleOwner),
			func(t *testing.T, err error) { wantForbidden(t, err, "not_assignee") }},
		{"verifier", "进行中", nil, verifier, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusRectifying)
			before := clone(p)
			_, err := p.Progress(tt.note, tt.percent, tt.actor, now)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused progress changed the problem")
			}
		})
	}
	t.Run("before accepting", func(t *testing.T) {
		_, err := problemIn(domain.StatusAssigned).Progress("进行中", nil, owner, now)
		wantTransition(t, err, domain.ActionProgress, domain.StatusAssigned)
	})
}

func TestSubmit(t *testing.T) {
	t.Run("records who submitted and when", func(t *testing.T) {
		p := problemIn(domain.StatusRectifying)
		ch, err := p.Submit("已建立考勤制度并执行", owner, now)
		mustNil(t, err)
		if p.Status != domain.StatusSubmitted || p.SubmittedBy != ownerID || p.SubmittedAt == nil ||
			!p.SubmittedAt.Equal(now) || !p.UpdatedAt.Equal(now) {
			t.Errorf("%+v", p)
		}
		wantChange(t, ch, domain.ActionSubmit, domain.StatusRectifying, domain.StatusSubmitted,
			map[string]any{"note": "已建立考勤制度并执行"})
	})
	for _, tt := range []struct {
		name  string
		note  string
		actor domain.Actor
		check func(*testing.T, error)
	}{
		{"note required", " ", owner, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"note too long", strings.Repeat("注", domain.MaxNote+1), owner, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"not the assignee", "ok", actor(otherOwnerID, parentUnitPath, domain.RoleOwner),
			func(t *testing.T, err error) { wantForbidden(t, err, "not_assignee") }},
		{"inspector", "ok", inspector, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusRectifying)
			before := clone(p)
			_, err := p.Submit(tt.note, tt.actor, now)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused submit changed the problem")
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for _, tt := range []struct {
		name     string
		deadline domain.Date
		onTime   bool
	}{
		{"before the deadline", today.AddDays(1), true},
		{"on the deadline day", today, true},
		{"a day late", today.AddDays(-1), false},
	} {
		t.Run("pass "+tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusSubmitted)
			p.Deadline = tt.deadline
			ch, err := p.Verify(true, "", verifier, now, today)
			mustNil(t, err)
			if p.Status != domain.StatusClosed || p.ClosedAt == nil || !p.ClosedAt.Equal(now) ||
				p.ClosedOnTime == nil || *p.ClosedOnTime != tt.onTime || !p.UpdatedAt.Equal(now) {
				t.Errorf("%+v (on time %v)", p, p.ClosedOnTime)
			}
			wantChange(t, ch, domain.ActionVerifyPass, domain.StatusSubmitted, domain.StatusClosed,
				map[string]any{"on_time": tt.onTime})
		})
	}
	t.Run("pass with a note", func(t *testing.T) {
		p := problemIn(domain.StatusSubmitted)
		ch, err := p.Verify(true, "整改到位", verifier, now, today)
		mustNil(t, err)
		wantChange(t, ch, domain.ActionVerifyPass, domain.StatusSubmitted, domain.StatusClosed,
			map[string]any{"on_time": true, "note": "整改到位"})
	})
	t.Run("fail sends it back", func(t *testing.T) {
		p := problemIn(domain.StatusSubmitted)
		p.ReworkCount = 1
		ch, err := p.Verify(false, "证据不足", verifier, now, today)
		mustNil(t, err)
		if p.Status != domain.StatusRectifying || p.ReworkCount != 2 || p.ClosedAt != nil || p.ClosedOnTime != nil {
			t.Errorf("%+v", p)
		}
		wantChange(t, ch, domain.ActionVerifyFail, domain.StatusSubmitted, domain.StatusRectifying,
			map[string]any{"note": "证据不足", "rework_count": 2})
	})
	for _, tt := range []struct {
		name   string
		status domain.Status
		passed bool
		note   string
		actor  domain.Actor
		check  func(*testing.T, error)
	}{
		{"fail needs a note", domain.StatusSubmitted, false, "", verifier, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"fail needs a non-blank note", domain.StatusSubmitted, false, " \t", verifier, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"note too long", domain.StatusSubmitted, true, strings.Repeat("注", domain.MaxNote+1), verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"pass by the assignee", domain.StatusSubmitted, true, "", actor(ownerID, problemUnitPath, domain.RoleOwner, domain.RoleVerifier),
			func(t *testing.T, err error) { wantForbidden(t, err, "four_eyes") }},
		{"fail by the assignee", domain.StatusSubmitted, false, "不行", actor(ownerID, problemUnitPath, domain.RoleOwner, domain.RoleVerifier),
			func(t *testing.T, err error) { wantForbidden(t, err, "four_eyes") }},
		{"pass by the owner", domain.StatusSubmitted, true, "", owner, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"pass before submit", domain.StatusRectifying, true, "", verifier,
			func(t *testing.T, err error) {
				wantTransition(t, err, domain.ActionVerifyPass, domain.StatusRectifying)
			}},
		{"fail after close", domain.StatusClosed, false, "再看", verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionVerifyFail, domain.StatusClosed) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			_, err := p.Verify(tt.passed, tt.note, tt.actor, now, today)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused verify changed the problem")
			}
		})
	}
}

func TestDismiss(t *testing.T) {
	for _, s := range []domain.Status{domain.StatusRegistered, domain.StatusAssigned} {
		t.Run("from "+string(s), func(t *testing.T) {
			p := problemIn(s)
			ch, err := p.Dismiss("不属于作风问题", verifier, now)
			mustNil(t, err)
			if p.Status != domain.StatusDismissed || !p.UpdatedAt.Equal(now) {
				t.Errorf("%+v", p)
			}
			wantChange(t, ch, domain.ActionDismiss, s, domain.StatusDismissed, map[string]any{"reason": "不属于作风问题"})
		})
	}
	for _, tt := range []struct {
		name   string
		status domain.Status
		reason string
		actor  domain.Actor
		check  func(*testing.T, error)
	}{
		{"reason required", domain.StatusRegistered, "", verifier, func(t *testing.T, err error) { wantInvalid(t, err, "reason") }},
		{"reason too long", domain.StatusRegistered, strings.Repeat("因", domain.MaxReason+1), verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "reason") }},
		{"by the inspector", domain.StatusRegistered, "重复", inspector, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"while rectifying", domain.StatusRectifying, "重复", verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionDismiss, domain.StatusRectifying) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			_, err := p.Dismiss(tt.reason, tt.actor, now)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused dismiss changed the problem")
			}
		})
	}
}

func TestReopen(t *testing.T) {
	t.Run("back to rectifying with a new deadline", func(t *testing.T) {
		p := problemIn(domain.StatusClosed)
		p.ReopenCount = 1
		newDeadline := today.AddDays(10)
		ch, err := p.Reopen("回头看发现反弹", newDeadline, verifier, now, today)
		mustNil(t, err)
		if p.Status != domain.StatusRectifying || p.Deadline != newDeadline || p.ReopenCount != 2 ||
			p.ClosedAt != nil || p.ClosedOnTime != nil || p.SubmittedBy != 0 || p.SubmittedAt != nil || !p.UpdatedAt.Equal(now) {
			t.Errorf("%+v", p)
		}
		if p.AssigneeID != ownerID {
			t.Errorf("reopen must keep the assignee, got %d", p.AssigneeID)
		}
		wantChange(t, ch, domain.ActionReopen, domain.StatusClosed, domain.StatusRectifying, map[string]any{
			"reason":       "回头看发现反弹",
			"deadline":     fromTo(today.AddDays(20).String(), newDeadline.String()),
			"reopen_count": 2,
		})
		if w := p.Warning(today, 3); w != domain.WarningGreen {
			t.Errorf("reopened problem warning = %q, want green", w)
		}
	})
	t.Run("deadline today, same as before", func(t *testing.T) {
		p := problemIn(domain.StatusClosed)
		p.Deadline = today
		ch, err := p.Reopen("回头看", today, verifier, now, today)
		mustNil(t, err)
		wantChange(t, ch, domain.ActionReopen, domain.StatusClosed, domain.StatusRectifying,
			map[string]any{"reason": "回头看", "reopen_count": 1})
	})
	for _, tt := range []struct {
		name     string
		status   domain.Status
		reason   string
		deadline domain.Date
		actor    domain.Actor
		check    func(*testing.T, error)
	}{
		{"reason required", domain.StatusClosed, "", today.AddDays(5), verifier, func(t *testing.T, err error) { wantInvalid(t, err, "reason") }},
		{"deadline required", domain.StatusClosed, "回头看", domain.Date{}, verifier, func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"both required", domain.StatusClosed, " ", domain.Date{}, verifier, func(t *testing.T, err error) { wantInvalid(t, err, "reason", "deadline") }},
		{"deadline in the past", domain.StatusClosed, "回头看", today.AddDays(-1), verifier, func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"by the leader", domain.StatusClosed, "回头看", today.AddDays(5), leader, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"not closed", domain.StatusSubmitted, "回头看", today.AddDays(5), verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionReopen, domain.StatusSubmitted) }},
		{"dismissed", domain.StatusDismissed, "回头看", today.AddDays(5), verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionReopen, domain.StatusDismissed) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			_, err := p.Reopen(tt.reason, tt.deadline, tt.actor, now, today)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused reopen changed the problem")
			}
		})
	}
}

func TestUrge(t *testing.T) {
	for _, s := range []domain.Status{domain.StatusAssigned, domain.StatusRectifying} {
		p := problemIn(s)
		ch, err := p.Urge("请抓紧整改", verifier, now)
		mustNil(t, err)
		if p.Status != s || !p.UpdatedAt.Equal(now) {
			t.Errorf("%s: %+v", s, p)
		}
		wantChange(t, ch, domain.ActionUrge, s, s, map[string]any{"note": "请抓紧整改"})
	}
	for _, tt := range []struct {
		name   string
		status domain.Status
		note   string
		actor  domain.Actor
		check  func(*testing.T, error)
	}{
		{"note required", domain.StatusAssigned, "", verifier, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"blank note", domain.StatusAssigned, "\u3000 ", verifier, func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"by the leader", domain.StatusAssigned, "快", leader, func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"once submitted", domain.StatusSubmitted, "快", verifier,
			func(t *testing.T, err error) { wantTransition(t, err, domain.ActionUrge, domain.StatusSubmitted) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			_, err := p.Urge(tt.note, tt.actor, now)
			tt.check(t, err)
			if clone(p) != before {
				t.Errorf("refused urge changed the problem")
			}
		})
	}
}

func TestComment(t *testing.T) {
	for _, s := range []domain.Status{domain.StatusRegistered, domain.StatusAssigned, domain.StatusRectifying,
		domain.StatusSubmitted, domain.StatusClosed} {
		for _, r := range domain.Roles() {
			p := problemIn(s)
			before := clone(p)
			ch, err := p.Comment("请补充照片", singleRoleActor(r), now)
			mustNil(t, err)
			wantChange(t, ch, domain.ActionComment, s, s, map[string]any{"text": "请补充照片"})
			if clone(p) != before {
				t.Errorf("%s/%s: a comment changed the problem", s, r)
			}
		}
	}
	for _, tt := range []struct {
		name   string
		status domain.Status
		text   string
		check  func(*testing.T, error)
	}{
		{"2000 characters", domain.StatusAssigned, strings.Repeat("评", 2000), nil},
		{"text required", domain.StatusAssigned, "", func(t *testing.T, err error) { wantInvalid(t, err, "text") }},
		{"blank text", domain.StatusAssigned, "\n\n", func(t *testing.T, err error) { wantInvalid(t, err, "text") }},
		{"2001 characters", domain.StatusAssigned, strings.Repeat("评", 2001), func(t *testing.T, err error) { wantInvalid(t, err, "text") }},
		{"dismissed", domain.StatusDismissed, "还有问题", func(t *testing.T, err error) {
			wantTransition(t, err, domain.ActionComment, domain.StatusDismissed)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := problemIn(tt.status).Comment(tt.text, leader, now)
			if tt.check == nil {
				mustNil(t, err)
				return
			}
			tt.check(t, err)
		})
	}
}

// TestClosedLoop drives one problem around the whole loop through the actions,
// checking the status after each step and that Change.From/To chain up.
func TestClosedLoop(t *testing.T) {
	policy := domain.DefaultDeadlinePolicy()
	f := validFields()
	f.Severity = domain.SeverityCritical
	p, ch, err := domain.Register(f, inspector, now, today)
	mustNil(t, err)
	p.ID = 7
	last := ch.To
	step := func(name string, want domain.Status, fn func() (domain.Change, error)) {
		t.Helper()
		ch, err := fn()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ch.From != last || ch.To != want || p.Status != want {
			t.Fatalf("%s: change %s→%s, status %s; want %s→%s", name, ch.From, ch.To, p.Status, last, want)
		}
		last = want
	}
	later := now.Add(time.Hour)
	step("edit", domain.StatusRegistered, func() (domain.Change, error) { return p.Edit(f, inspector, later, today) })
	step("assign", domain.StatusAssigned, func() (domain.Change, error) {
		return p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "立行立改"}, verifier, later, today, policy)
	})
	if p.Deadline != today.AddDays(7) {
		t.Fatalf("critical default deadline = %s", p.Deadline)
	}
	step("urge", domain.StatusAssigned, func() (domain.Change, error) { return p.Urge("尽快签收", verifier, later) })
	step("accept", domain.StatusRectifying, func() (domain.Change, error) { return p.Accept("", owner, later) })
	step("progress", domain.StatusRectifying, func() (domain.Change, error) { return p.Progress("过半", ptr(50), owner, later) })
	e, _, err := p.RequestExtension(today.AddDays(9), "节假日", false, owner, later, today, domain.DefaultExtensionPolicy())
	mustNil(t, err)
	step("decide", domain.StatusRectifying, func() (domain.Change, error) {
		return p.DecideExtension(e, true, "", verifier, later, domain.DefaultExtensionPolicy())
	})
	step("submit", domain.StatusSubmitted, func() (domain.Change, error) { return p.Submit("完成", owner, later) })
	step("fail", domain.StatusRectifying, func() (domain.Change, error) { return p.Verify(false, "证据不足", verifier, later, today) })
	step("submit again", domain.StatusSubmitted, func() (domain.Change, error) { return p.Submit("补充证据", owner, later) })
	step("pass late", domain.StatusClosed, func() (domain.Change, error) {
		return p.Verify(true, "", verifier, later, today.AddDays(10))
	})
	if *p.ClosedOnTime || p.Warning(today.AddDays(10), 3) != domain.WarningRed {
		t.Fatalf("closed a day after the extended deadline must stay red")
	}
	step("comment", domain.StatusClosed, func() (domain.Change, error) { return p.Comment("回访", leader, later) })
	step("reopen", domain.StatusRectifying, func() (domain.Change, error) {
		return p.Reopen("反弹", today.AddDays(30), verifier, later, today.AddDays(10))
	})
	step("reassign", domain.StatusAssigned, func() (domain.Change, error) {
		return p.Assign(domain.AssignCmd{Assignee: ownerAssignee(otherOwnerID)}, verifier, later, today.AddDays(10), policy)
	})
	step("dismiss", domain.StatusDismissed, func() (domain.Change, error) { return p.Dismiss("并入其他问题", verifier, later) })
	if p.ReworkCount != 1 || p.ReopenCount != 1 || p.ExtensionCount != 1 || p.Percent != 50 {
		t.Errorf("counts: rework %d reopen %d extension %d percent %d", p.ReworkCount, p.ReopenCount, p.ExtensionCount, p.Percent)
	}
	for _, a := range domain.Actions() {
		if a != domain.ActionRegister && p.Permit(a, verifier) == nil {
			t.Errorf("%s allowed on a dismissed problem", a)
		}
	}
}

func TestSeverityAndSource(t *testing.T) {
	if got := domain.Severities(); !reflect.DeepEqual(got, []domain.Severity{"general", "serious", "critical"}) {
		t.Errorf("Severities() = %v", got)
	}
	for _, s := range domain.Severities() {
		if !s.Valid() {
			t.Errorf("%s invalid", s)
		}
	}
	for _, s := range []domain.Severity{"", "minor", "General", "较重"} {
		if s.Valid() {
			t.Errorf("%q valid", s)
		}
	}
	if got := domain.Sources(); !reflect.DeepEqual(got, []domain.Source{"self_check", "spot_check", "inspection", "supervision", "report"}) {
		t.Errorf("Sources() = %v", got)
	}
	for _, s := range domain.Sources() {
		if !s.Valid() {
			t.Errorf("%s invalid", s)
		}
	}
	for _, s := range []domain.Source{"", "self-check", "Report", "抽查"} {
		if s.Valid() {
			t.Errorf("%q valid", s)
		}
	}
}
