package domain_test

import (
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

// TestRelationshipRules covers the rules that come after the role and state
// checks: assignee only, unit owners, the creating inspector, four-eyes.
func TestRelationshipRules(t *testing.T) {
	var (
		otherOwner     = actor(otherOwnerID, problemUnitPath, domain.RoleOwner) // same unit, not the assignee
		parentOwner    = actor(otherOwnerID, parentUnitPath, domain.RoleOwner)
		siblingOwner   = actor(otherOwnerID, siblingUnitPath, domain.RoleOwner)
		childOwner     = actor(otherOwnerID, childUnitPath, domain.RoleOwner)
		lookAlikeOwner = actor(otherOwnerID, lookAlikePath, domain.RoleOwner)
		unitlessOwner  = actor(otherOwnerID, "", domain.RoleOwner)
		farAssignee    = actor(ownerID, siblingUnitPath, domain.RoleOwner) // assignee from another unit
		otherInspector = actor(otherInspectorID, inspectUnitPath, domain.RoleInspector)
		otherVerifier  = actor(otherVerifierID, groupUnitPath, domain.RoleVerifier)
		// A working-group member who also owns the responsible unit.
		ownerVerifier  = actor(ownerID, problemUnitPath, domain.RoleOwner, domain.RoleVerifier)
		verifierAsOwn  = actor(verifierID, groupUnitPath, domain.RoleVerifier, domain.RoleOwner)
		inspectorOwner = actor(inspectorID, problemUnitPath, domain.RoleInspector, domain.RoleOwner)
	)
	submittedBy := func(id int64) func(*domain.Problem) {
		return func(p *domain.Problem) { p.SubmittedBy = id }
	}
	assignedTo := func(id int64) func(*domain.Problem) {
		return func(p *domain.Problem) { p.AssigneeID = id }
	}
	inUnit := func(path string) func(*domain.Problem) {
		return func(p *domain.Problem) { p.UnitPath = path }
	}
	tests := []struct {
		name   string
		status domain.Status
		setup  func(*domain.Problem)
		action domain.Action
		actor  domain.Actor
		want   string // "" allowed, else the ForbiddenError code
	}{
		// Only the assignee progresses, submits and requests an extension.
		{"assignee progresses", domain.StatusRectifying, nil, domain.ActionProgress, owner, ""},
		{"other owner of the unit may not progress", domain.StatusRectifying, nil, domain.ActionProgress, otherOwner, "not_assignee"},
		{"parent owner may not progress", domain.StatusRectifying, nil, domain.ActionProgress, parentOwner, "not_assignee"},
		{"assignee submits", domain.StatusRectifying, nil, domain.ActionSubmit, owner, ""},
		{"other owner may not submit", domain.StatusRectifying, nil, domain.ActionSubmit, otherOwner, "not_assignee"},
		{"parent owner may not submit", domain.StatusRectifying, nil, domain.ActionSubmit, parentOwner, "not_assignee"},
		{"assignee requests extension", domain.StatusAssigned, nil, domain.ActionRequestExtension, owner, ""},
		{"other owner may not request extension", domain.StatusAssigned, nil, domain.ActionRequestExtension, otherOwner, "not_assignee"},
		{"other owner may not request extension rectifying", domain.StatusRectifying, nil, domain.ActionRequestExtension, parentOwner, "not_assignee"},

		// Accept: the assignee, or an owner whose subtree holds the problem's unit.
		{"assignee accepts", domain.StatusAssigned, nil, domain.ActionAccept, owner, ""},
		{"assignee from another unit accepts", domain.StatusAssigned, nil, domain.ActionAccept, farAssignee, ""},
		{"owner of the same unit accepts", domain.StatusAssigned, nil, domain.ActionAccept, otherOwner, ""},
		{"owner of the parent unit accepts", domain.StatusAssigned, nil, domain.ActionAccept, parentOwner, ""},
		{"owner of a sibling unit may not accept", domain.StatusAssigned, nil, domain.ActionAccept, siblingOwner, "not_responsible"},
		{"owner of a child unit may not accept", domain.StatusAssigned, nil, domain.ActionAccept, childOwner, "not_responsible"},
		{"owner of a look-alike sibling may not accept", domain.StatusAssigned, nil, domain.ActionAccept, lookAlikeOwner, "not_responsible"},
		{"owner of /1/4/ may not accept for /1/40/", domain.StatusAssigned, inUnit(lookAlikePath), domain.ActionAccept, otherOwner, "not_responsible"},
		{"owner without a unit may not accept", domain.StatusAssigned, nil, domain.ActionAccept, unitlessOwner, "not_responsible"},
		{"sibling owner who is the assignee accepts", domain.StatusAssigned, assignedTo(otherOwnerID), domain.ActionAccept, siblingOwner, ""},

		// Edit: the creating inspector or any verifier.
		{"creator edits", domain.StatusRegistered, nil, domain.ActionEdit, inspector, ""},
		{"another inspector may not edit", domain.StatusRegistered, nil, domain.ActionEdit, otherInspector, "not_creator"},
		{"any verifier edits", domain.StatusRegistered, nil, domain.ActionEdit, verifier, ""},
		{"a verifier who registered it edits", domain.StatusRegistered, func(p *domain.Problem) { p.CreatedBy = verifierID }, domain.ActionEdit, verifier, ""},
		{"creator holding owner too edits", domain.StatusRegistered, nil, domain.ActionEdit, inspectorOwner, ""},

		// Four-eyes on verification.
		{"independent verifier passes", domain.StatusSubmitted, nil, domain.ActionVerifyPass, verifier, ""},
		{"independent verifier fails", domain.StatusSubmitted, nil, domain.ActionVerifyFail, otherVerifier, ""},
		{"submitter may not pass", domain.StatusSubmitted, submittedBy(verifierID), domain.ActionVerifyPass, verifierAsOwn, "four_eyes"},
		{"submitter may not fail", domain.StatusSubmitted, submittedBy(verifierID), domain.ActionVerifyFail, verifierAsOwn, "four_eyes"},
		{"assignee may not pass", domain.StatusSubmitted, nil, domain.ActionVerifyPass, ownerVerifier, "four_eyes"},
		{"assignee may not fail", domain.StatusSubmitted, nil, domain.ActionVerifyFail, ownerVerifier, "four_eyes"},
		{"assignee who did not submit may not pass", domain.StatusSubmitted,
			func(p *domain.Problem) { p.AssigneeID, p.SubmittedBy = verifierID, ownerID }, domain.ActionVerifyPass, verifierAsOwn, "four_eyes"},
		{"submitter who is no longer assignee may not fail", domain.StatusSubmitted,
			func(p *domain.Problem) { p.AssigneeID, p.SubmittedBy = otherOwnerID, verifierID }, domain.ActionVerifyFail, verifierAsOwn, "four_eyes"},

		// The assignee holding the verifier role still may not verify, but may do
		// the verifier's other work and the owner's.
		{"owner-verifier assigns", domain.StatusRectifying, nil, domain.ActionAssign, ownerVerifier, ""},
		{"owner-verifier submits", domain.StatusRectifying, nil, domain.ActionSubmit, ownerVerifier, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			if tt.setup != nil {
				tt.setup(p)
			}
			err := p.Permit(tt.action, tt.actor)
			if tt.want == "" {
				mustNil(t, err)
				return
			}
			wantForbidden(t, err, tt.want)
		})
	}
}

func TestCanSee(t *testing.T) {
	unassigned := problemIn(domain.StatusRegistered)
	assigned := problemIn(domain.StatusAssigned)
	tests := []struct {
		name  string
		actor domain.Actor
		p     *domain.Problem
		want  bool
	}{
		{"inspector sees all", actor(otherInspectorID, siblingUnitPath, domain.RoleInspector), unassigned, true},
		{"verifier sees all", actor(verifierID, siblingUnitPath, domain.RoleVerifier), assigned, true},
		{"leader sees all", actor(leaderID, siblingUnitPath, domain.RoleLeader), unassigned, true},
		{"leader without a unit sees all", actor(leaderID, "", domain.RoleLeader), assigned, true},
		{"admin alone sees nothing", admin, unassigned, false},
		{"admin alone in the problem's unit sees nothing", actor(adminID, problemUnitPath, domain.RoleAdmin), assigned, false},
		{"admin alone with id 0 sees no unassigned problem", actor(0, "", domain.RoleAdmin), unassigned, false},
		{"nobody without roles sees", actor(otherOwnerID, problemUnitPath), unassigned, false},
		{"owner of the unit", actor(otherOwnerID, problemUnitPath, domain.RoleOwner), unassigned, true},
		{"owner of the parent unit", actor(otherOwnerID, parentUnitPath, domain.RoleOwner), unassigned, true},
		{"owner of a sibling unit", actor(otherOwnerID, siblingUnitPath, domain.RoleOwner), assigned, false},
		{"owner of a child unit", actor(otherOwnerID, childUnitPath, domain.RoleOwner), assigned, false},
		{"owner of a look-alike unit", actor(otherOwnerID, lookAlikePath, domain.RoleOwner), assigned, false},
		{"owner without a unit", actor(otherOwnerID, "", domain.RoleOwner), assigned, false},
		{"assignee in another unit", actor(ownerID, siblingUnitPath, domain.RoleOwner), assigned, true},
		{"owner+admin of a sibling unit", actor(otherOwnerID, siblingUnitPath, domain.RoleOwner, domain.RoleAdmin), assigned, false},
		{"owner+leader of a sibling unit", actor(otherOwnerID, siblingUnitPath, domain.RoleOwner, domain.RoleLeader), assigned, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.actor.CanSee(tt.p); got != tt.want {
				t.Errorf("CanSee = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestActorRoles(t *testing.T) {
	a := actor(1, "/1/", domain.RoleOwner, domain.RoleLeader)
	if !a.Has(domain.RoleOwner) || a.Has(domain.RoleAdmin) {
		t.Errorf("Has: %+v", a)
	}
	if !a.HasAny(domain.RoleAdmin, domain.RoleLeader) || a.HasAny(domain.RoleAdmin, domain.RoleVerifier) || a.HasAny() {
		t.Errorf("HasAny: %+v", a)
	}
	seesAll := map[domain.Role]bool{domain.RoleInspector: true, domain.RoleVerifier: true, domain.RoleLeader: true}
	readsAudit := map[domain.Role]bool{domain.RoleVerifier: true, domain.RoleLeader: true, domain.RoleAdmin: true}
	for _, r := range domain.Roles() {
		a := singleRoleActor(r)
		if a.SeesAllProblems() != seesAll[r] {
			t.Errorf("%s SeesAllProblems = %v", r, a.SeesAllProblems())
		}
		if a.ReadsAudit() != readsAudit[r] {
			t.Errorf("%s ReadsAudit = %v", r, a.ReadsAudit())
		}
	}
}

func TestInSubtree(t *testing.T) {
	tests := []struct {
		child, root string
		want        bool
	}{
		{"/1/4/", "/1/4/", true},
		{"/1/4/9/", "/1/4/", true},
		{"/1/4/", "/1/", true},
		{"/1/4/", "/1/5/", false},
		{"/1/4/", "/1/4/9/", false},
		{"/1/40/", "/1/4/", false},
		{"/1/4/", "", false},
		{"", "", false},
		{"", "/1/", false},
	}
	for _, tt := range tests {
		if got := domain.InSubtree(tt.child, tt.root); got != tt.want {
			t.Errorf("InSubtree(%q, %q) = %v, want %v", tt.child, tt.root, got, tt.want)
		}
	}
}

func TestRequestExtension(t *testing.T) {
	later := today.AddDays(30) // the fixture's deadline is today+20
	tests := []struct {
		name     string
		status   domain.Status
		actor    domain.Actor
		deadline domain.Date
		reason   string
		pending  bool
		check    func(*testing.T, error)
	}{
		{"deadline required", domain.StatusRectifying, owner, domain.Date{}, "等待设备", false,
			func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"same deadline", domain.StatusRectifying, owner, today.AddDays(20), "等待设备", false,
			func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"earlier deadline", domain.StatusRectifying, owner, today.AddDays(19), "等待设备", false,
			func(t *testing.T, err error) { wantInvalid(t, err, "deadline") }},
		{"reason required", domain.StatusRectifying, owner, later, "  ", false,
			func(t *testing.T, err error) { wantInvalid(t, err, "reason") }},
		{"reason too long", domain.StatusRectifying, owner, later, strings.Repeat("因", domain.MaxReason+1), false,
			func(t *testing.T, err error) { wantInvalid(t, err, "reason") }},
		{"both invalid", domain.StatusAssigned, owner, domain.Date{}, "", false,
			func(t *testing.T, err error) { wantInvalid(t, err, "deadline", "reason") }},
		{"one pending already", domain.StatusRectifying, owner, later, "等待设备", true,
			func(t *testing.T, err error) { wantConflict(t, err) }},
		{"not the assignee", domain.StatusRectifying, actor(otherOwnerID, problemUnitPath, domain.RoleOwner), later, "等待设备", false,
			func(t *testing.T, err error) { wantForbidden(t, err, "not_assignee") }},
		{"verifier", domain.StatusRectifying, verifier, later, "等待设备", false,
			func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"submitted", domain.StatusSubmitted, owner, later, "等待设备", false,
			func(t *testing.T, err error) {
				wantTransition(t, err, domain.ActionRequestExtension, domain.StatusSubmitted)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(tt.status)
			before := clone(p)
			e, _, err := p.RequestExtension(tt.deadline, tt.reason, tt.pending, tt.actor, now, today, domain.DefaultExtensionPolicy())
			tt.check(t, err)
			if e != nil {
				t.Errorf("refused request returned an extension %v", e)
			}
			if clone(p) != before {
				t.Errorf("refused request changed the problem")
			}
		})
	}

	for _, s := range []domain.Status{domain.StatusAssigned, domain.StatusRectifying} {
		t.Run("granted from "+string(s), func(t *testing.T) {
			p := problemIn(s)
			old := p.Deadline
			e, ch, err := p.RequestExtension(later, "等待设备到货", false, owner, now, today, domain.DefaultExtensionPolicy())
			mustNil(t, err)
			want := domain.Extension{ProblemID: p.ID, RequestedBy: ownerID, OldDeadline: old, Deadline: later,
				Reason: "等待设备到货", Status: domain.ExtensionPending, CreatedAt: now}
			if *e != want {
				t.Errorf("extension = %+v, want %+v", *e, want)
			}
			if p.Deadline != old || p.Status != s || p.ExtensionCount != 0 {
				t.Errorf("a request must not move the deadline: %s %s %d", p.Deadline, p.Status, p.ExtensionCount)
			}
			if !p.UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt = %v", p.UpdatedAt)
			}
			wantChange(t, ch, domain.ActionRequestExtension, s, s, map[string]any{"deadline": later.String(), "reason": "等待设备到货"})
		})
	}
}

func TestDecideExtension(t *testing.T) {
	newDeadline := today.AddDays(30)
	pending := func() *domain.Extension {
		return &domain.Extension{ID: 9, ProblemID: 7, RequestedBy: ownerID, OldDeadline: today.AddDays(20),
			Deadline: newDeadline, Reason: "等待设备", Status: domain.ExtensionPending, CreatedAt: now}
	}
	t.Run("approve moves the deadline", func(t *testing.T) {
		for _, s := range []domain.Status{domain.StatusAssigned, domain.StatusRectifying, domain.StatusSubmitted} {
			p, e := problemIn(s), pending()
			ch, err := p.DecideExtension(e, true, "", verifier, now, domain.DefaultExtensionPolicy())
			mustNil(t, err)
			if p.Deadline != newDeadline || p.ExtensionCount != 1 || p.Status != s {
				t.Errorf("%s: deadline %s, count %d, status %s", s, p.Deadline, p.ExtensionCount, p.Status)
			}
			if e.Status != domain.ExtensionApproved || e.DecidedBy != verifierID || e.DecidedAt == nil || !e.DecidedAt.Equal(now) {
				t.Errorf("%s: extension %+v", s, e)
			}
			wantChange(t, ch, domain.ActionDecideExtension, s, s, map[string]any{
				"extension_id": int64(9), "approved": true,
				"deadline": map[string]any{"from": today.AddDays(20).String(), "to": newDeadline.String()},
			})
		}
	})
	t.Run("approve counts every approval", func(t *testing.T) {
		p := problemIn(domain.StatusRectifying)
		p.ExtensionCount = 1
		_, err := p.DecideExtension(pending(), true, "同意", leader, now, domain.DefaultExtensionPolicy())
		mustNil(t, err)
		if p.ExtensionCount != 2 {
			t.Errorf("ExtensionCount = %d, want 2", p.ExtensionCount)
		}
	})
	t.Run("reject keeps the deadline", func(t *testing.T) {
		p, e := problemIn(domain.StatusRectifying), pending()
		ch, err := p.DecideExtension(e, false, "理由不充分", verifier, now, domain.DefaultExtensionPolicy())
		mustNil(t, err)
		if p.Deadline != today.AddDays(20) || p.ExtensionCount != 0 {
			t.Errorf("deadline %s, count %d", p.Deadline, p.ExtensionCount)
		}
		if e.Status != domain.ExtensionRejected || e.Note != "理由不充分" || e.DecidedBy != verifierID || e.DecidedAt == nil {
			t.Errorf("extension %+v", e)
		}
		wantChange(t, ch, domain.ActionDecideExtension, domain.StatusRectifying, domain.StatusRectifying,
			map[string]any{"extension_id": int64(9), "approved": false, "note": "理由不充分"})
	})
	refusals := []struct {
		name     string
		status   domain.Status
		ext      func(*domain.Extension)
		approved bool
		note     string
		actor    domain.Actor
		check    func(*testing.T, error)
	}{
		{"reject needs a note", domain.StatusRectifying, nil, false, " ", verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"note too long", domain.StatusRectifying, nil, true, strings.Repeat("注", domain.MaxNote+1), verifier,
			func(t *testing.T, err error) { wantInvalid(t, err, "note") }},
		{"already approved", domain.StatusRectifying, func(e *domain.Extension) { e.Status = domain.ExtensionApproved }, true, "", verifier,
			func(t *testing.T, err error) { wantConflict(t, err) }},
		{"already rejected", domain.StatusRectifying, func(e *domain.Extension) { e.Status = domain.ExtensionRejected }, false, "再议", verifier,
			func(t *testing.T, err error) { wantConflict(t, err) }},
		{"own request", domain.StatusRectifying, func(e *domain.Extension) { e.RequestedBy = verifierID }, true, "", verifier,
			func(t *testing.T, err error) { wantForbidden(t, err, "four_eyes") }},
		{"own request, owner-verifier", domain.StatusRectifying, nil, true, "",
			actor(ownerID, problemUnitPath, domain.RoleOwner, domain.RoleVerifier),
			func(t *testing.T, err error) { wantForbidden(t, err, "four_eyes") }},
		{"owner", domain.StatusRectifying, nil, true, "", owner,
			func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"inspector", domain.StatusRectifying, nil, true, "", inspector,
			func(t *testing.T, err error) { wantForbidden(t, err, "role_required") }},
		{"closed", domain.StatusClosed, nil, true, "", verifier,
			func(t *testing.T, err error) {
				wantTransition(t, err, domain.ActionDecideExtension, domain.StatusClosed)
			}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			p, e := problemIn(tt.status), pending()
			if tt.ext != nil {
				tt.ext(e)
			}
			before, beforeExt := clone(p), *e
			_, err := p.DecideExtension(e, tt.approved, tt.note, tt.actor, now, domain.DefaultExtensionPolicy())
			tt.check(t, err)
			if clone(p) != before || *e != beforeExt {
				t.Errorf("a refused decision changed the problem or the extension")
			}
		})
	}
}

func TestExtensionString(t *testing.T) {
	e := &domain.Extension{ID: 9, ProblemID: 7, Status: domain.ExtensionPending}
	if got, want := e.String(), "extension 9 of problem 7 (pending)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
