package app_test

import (
	"errors"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

func TestChangePasswordChecksTheCurrentOneAndRevokesSessions(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	token := e.Login(t, "owner1")
	c := app.Caller{Actor: e.Users["owner1"].Actor(), IP: "10.0.0.1"}

	var v *domain.ValidationError
	if err := e.Svc.ChangePassword(ctx, c, "not-the-password", "a-new-password"); !errors.As(err, &v) || v.Fields[0].Field != "current_password" {
		t.Fatalf("a wrong current password: %v", err)
	}
	if err := e.Svc.ChangePassword(ctx, c, apptest.Password, "short"); !errors.As(err, &v) || v.Fields[0].Field != "password" {
		t.Fatalf("a short new password: %v", err)
	}
	if _, err := e.Svc.Authenticate(ctx, token); err != nil {
		t.Fatalf("a refused change revoked the session: %v", err)
	}
	if err := e.Svc.ChangePassword(ctx, c, apptest.Password, "a-new-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Authenticate(ctx, token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("the old session still works: %v", err)
	}
	if _, err := e.Svc.Login(ctx, app.Caller{}, "owner1", apptest.Password); err == nil {
		t.Fatal("the old password still signs in")
	}
	if _, err := e.Svc.Login(ctx, app.Caller{}, "owner1", "a-new-password"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	entries, err := e.Svc.Audit(ctx, e.Caller("admin"), app.AuditQuery{Action: app.ActionPasswordChange, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, en := range entries {
		outcomes[en.Outcome]++
	}
	if outcomes[audit.OutcomeRefused] != 2 || outcomes[audit.OutcomeOK] != 1 {
		t.Fatalf("audit of the changes: %v", outcomes)
	}
}
