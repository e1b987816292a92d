package domain_test

import (
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestDaysUntilSpansTheWholeDateRange(t *testing.T) {
	from, _ := domain.ParseDate("1900-01-01")
	to, _ := domain.ParseDate("9999-12-31")
	if got := from.DaysUntil(to); got != 2958463 {
		t.Fatalf("1900-01-01 → 9999-12-31 = %d days, want 2958463", got)
	}
	if got := to.DaysUntil(from); got != -2958463 {
		t.Fatalf("backwards = %d", got)
	}
}

func TestReassignWithBlankMeasuresKeepsThem(t *testing.T) {
	p := problemIn(domain.StatusAssigned)
	_, err := p.Assign(domain.AssignCmd{Assignee: domain.Assignee{ID: otherOwnerID, Roles: []domain.Role{domain.RoleOwner}},
		Measures: "   "}, verifier, now, today, domain.DefaultDeadlinePolicy())
	mustNil(t, err)
	if p.Measures != "建立考勤登记制度" {
		t.Fatalf("measures = %q, want the previous measures kept", p.Measures)
	}
}

func TestDecideExtensionRefusesAForeignOrOutdatedRequest(t *testing.T) {
	p := problemIn(domain.StatusRectifying)
	foreign := &domain.Extension{ID: 1, ProblemID: p.ID + 1, RequestedBy: ownerID, Deadline: p.Deadline.AddDays(5),
		Status: domain.ExtensionPending}
	_, err := p.DecideExtension(foreign, true, "", verifier, now, domain.DefaultExtensionPolicy())
	wantConflict(t, err)

	// The deadline moved past the request meanwhile (a reassignment): approving must not shorten it.
	outdated := &domain.Extension{ID: 2, ProblemID: p.ID, RequestedBy: ownerID, Deadline: p.Deadline.AddDays(5),
		Status: domain.ExtensionPending}
	before := p.Deadline
	p.Deadline = p.Deadline.AddDays(10)
	_, err = p.DecideExtension(outdated, true, "", verifier, now, domain.DefaultExtensionPolicy())
	wantConflict(t, err)
	if p.Deadline != before.AddDays(10) || outdated.Status != domain.ExtensionPending {
		t.Fatalf("a refused decision changed state: deadline %s, extension %s", p.Deadline, outdated.Status)
	}
	// Rejecting it is still possible.
	_, err = p.DecideExtension(outdated, false, "已重新交办，期限已调整", verifier, now, domain.DefaultExtensionPolicy())
	mustNil(t, err)
}
