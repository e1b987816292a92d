package domain_test

import (
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// The hot path of every action: the table lookup, the role and relationship
// rules, the payload rules and the change, on a problem already in memory.
func BenchmarkApplyTransition(b *testing.B) {
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	today := domain.DateOf(now, time.UTC)
	inspector := domain.Actor{UserID: 1, Username: "inspector", Roles: []domain.Role{domain.RoleInspector}, UnitID: 1, UnitPath: "/1/"}
	verifier := domain.Actor{UserID: 2, Username: "verifier", Roles: []domain.Role{domain.RoleVerifier}, UnitID: 1, UnitPath: "/1/"}
	checker := domain.Actor{UserID: 4, Username: "verifier2", Roles: []domain.Role{domain.RoleVerifier}, UnitID: 1, UnitPath: "/1/"}
	owner := domain.Actor{UserID: 3, Username: "owner", Roles: []domain.Role{domain.RoleOwner}, UnitID: 3, UnitPath: "/1/3/"}
	registered, _, err := domain.Register(domain.ProblemFields{Title: "基准", Description: "d", CategoryID: 5,
		Severity: domain.SeverityGeneral, Source: domain.SourceInspection, UnitID: 3, UnitPath: "/1/3/", FoundAt: today},
		inspector, now, today)
	if err != nil {
		b.Fatal(err)
	}
	registered.ID = 42
	assign := domain.AssignCmd{Assignee: domain.Assignee{ID: owner.UserID, Roles: owner.Roles}, Measures: "整改措施"}
	policy := domain.DefaultDeadlinePolicy()

	b.Run("assign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := *registered
			if _, err := p.Assign(assign, verifier, now, today, policy); err != nil {
				b.Fatal(err)
			}
		}
	})
	assigned := *registered
	if _, err := assigned.Assign(assign, verifier, now, today, policy); err != nil {
		b.Fatal(err)
	}
	b.Run("accept", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := assigned
			if _, err := p.Accept("签收", owner, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	submitted := assigned
	if _, err := submitted.Accept("签收", owner, now); err != nil {
		b.Fatal(err)
	}
	if _, err := submitted.Submit("已整改", owner, now); err != nil {
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := submitted
			if _, err := p.Verify(true, "通过", checker, now, today); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refused", func(b *testing.B) { // a 409: the table names the allowed actions
		b.ReportAllocs()
		for b.Loop() {
			p := *registered
			if _, err := p.Accept("签收", owner, now); err == nil {
				b.Fatal("accept of a registered problem succeeded")
			}
		}
	})
}
