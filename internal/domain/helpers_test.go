package domain_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// The fixed clock of these tests: 10:00 on 10 March 2026 in Asia/Shanghai.
var (
	now   = time.Date(2026, time.March, 10, 2, 0, 0, 0, time.UTC)
	today = domain.NewDate(2026, time.March, 10)
)

// User ids. Each single-role actor of the exhaustive table has its own id.
const (
	inspectorID      int64 = 101 // registered the fixture problem
	ownerID          int64 = 102 // the fixture problem's assignee and submitter
	verifierID       int64 = 103 // neither submitter nor assignee
	leaderID         int64 = 104
	adminID          int64 = 105
	otherOwnerID     int64 = 106
	otherInspectorID int64 = 107
	otherVerifierID  int64 = 108
)

// Unit paths: the fixture problem lies in unit 4 below unit 1.
const (
	problemUnitID   int64 = 4
	problemUnitPath       = "/1/4/"
	parentUnitPath        = "/1/"
	siblingUnitPath       = "/1/5/"
	childUnitPath         = "/1/4/9/"
	lookAlikePath         = "/1/40/" // shares the prefix "/1/4" but is a sibling
	inspectUnitPath       = "/1/2/"  // the inspection office
	groupUnitPath         = "/1/3/"  // the working group
)

func actor(id int64, unitPath string, roles ...domain.Role) domain.Actor {
	return domain.Actor{UserID: id, Username: "u" + strings.TrimPrefix(unitPath, "/"), Roles: roles, UnitPath: unitPath}
}

// The five single-role actors, each set up so that the relationship rules pass
// on the fixture problem: the inspector created it, the owner is its assignee
// in its unit, the verifier neither submitted it nor is assigned to it.
var (
	inspector = actor(inspectorID, inspectUnitPath, domain.RoleInspector)
	owner     = actor(ownerID, problemUnitPath, domain.RoleOwner)
	verifier  = actor(verifierID, groupUnitPath, domain.RoleVerifier)
	leader    = actor(leaderID, parentUnitPath, domain.RoleLeader)
	admin     = actor(adminID, parentUnitPath, domain.RoleAdmin)
)

func singleRoleActor(r domain.Role) domain.Actor {
	switch r {
	case domain.RoleInspector:
		return inspector
	case domain.RoleOwner:
		return owner
	case domain.RoleVerifier:
		return verifier
	case domain.RoleLeader:
		return leader
	case domain.RoleAdmin:
		return admin
	}
	panic("unknown role " + string(r))
}

func ptr[T any](v T) *T { return &v }

// problemIn returns a realistic problem standing in state s, written out
// literally rather than built by the actions under test.
func problemIn(s domain.Status) *domain.Problem {
	created := now.Add(-10 * 24 * time.Hour)
	p := &domain.Problem{
		ID: 7, Code: "WT-2026-000007", Title: "会议迟到现象突出", Description: "多次例会有人迟到",
		CategoryID: 3, Severity: domain.SeverityGeneral, Source: domain.SourceSpotCheck,
		UnitID: problemUnitID, UnitPath: problemUnitPath, FoundAt: today.AddDays(-11),
		Status: s, Version: 3, CreatedBy: inspectorID, CreatedAt: created, UpdatedAt: created,
	}
	if s == domain.StatusRegistered || s == domain.StatusDismissed {
		return p
	}
	assigned := now.Add(-9 * 24 * time.Hour)
	p.AssigneeID, p.Deadline, p.Measures, p.AssignedAt = ownerID, today.AddDays(20), "建立考勤登记制度", &assigned
	if s == domain.StatusRectifying {
		p.Percent = 40
	}
	if s == domain.StatusSubmitted || s == domain.StatusClosed {
		submitted := now.Add(-2 * 24 * time.Hour)
		p.Percent, p.SubmittedBy, p.SubmittedAt = 100, ownerID, &submitted
	}
	if s == domain.StatusClosed {
		closed := now.Add(-24 * time.Hour)
		p.ClosedAt, p.ClosedOnTime = &closed, ptr(true)
	}
	return p
}

// clone copies a problem deeply enough to compare it after a refused action.
// clone snapshots a problem for before/after comparisons (a Problem holds a
// slice of milestones and so is not comparable with ==).
func clone(p *domain.Problem) string { return fmt.Sprintf("%+v", *p) }

// wantForbidden asserts err is a *ForbiddenError with the code.
func wantForbidden(t *testing.T, err error, code string) {
	t.Helper()
	var fe *domain.ForbiddenError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want a ForbiddenError %s", err, err, code)
	}
	if fe.Code != code {
		t.Fatalf("forbidden code = %q (%s), want %q", fe.Code, fe.Reason, code)
	}
	if !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("ForbiddenError does not match ErrForbidden")
	}
}

// wantTransition asserts err is an *InvalidTransitionError from state from.
func wantTransition(t *testing.T, err error, a domain.Action, from domain.Status) {
	t.Helper()
	_ = transitionError(t, err, a, from) // it asserts; the error is for a closer look
}

// transitionError is wantTransition returning the error.
func transitionError(t *testing.T, err error, a domain.Action, from domain.Status) *domain.InvalidTransitionError {
	t.Helper()
	var te *domain.InvalidTransitionError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want an InvalidTransitionError", err, err)
	}
	if te.From != from || te.Action != a {
		t.Fatalf("InvalidTransitionError{Action: %s, From: %s}, want {%s, %s}", te.Action, te.From, a, from)
	}
	return te
}

// wantInvalid asserts err is a *ValidationError naming exactly the fields (in any order).
func wantInvalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	_ = invalidError(t, err, fields...) // it asserts; the error is for a closer look
}

// invalidError is wantInvalid returning the error, for a closer look.
func invalidError(t *testing.T, err error, fields ...string) *domain.ValidationError {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want a ValidationError on %v", err, err, fields)
	}
	var got []string
	for _, f := range ve.Fields {
		if !slices.Contains(got, f.Field) {
			got = append(got, f.Field)
		}
	}
	slices.Sort(got)
	want := slices.Clone(fields)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("invalid fields = %v (%v), want %v", got, err, want)
	}
	return ve
}

// wantConflict asserts err is a *ConflictError.
func wantConflict(t *testing.T, err error) {
	t.Helper()
	var ce *domain.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("err = %v (%T), want a ConflictError", err, err)
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
