package app_test

import (
	"context"
	"testing"

	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

func TestSmokeLifecycle(t *testing.T) {
	e := apptest.New(t)
	p := e.Drive(t, domain.StatusClosed)
	if p.Status != domain.StatusClosed || p.Version != 5 {
		t.Fatalf("got %s v%d", p.Status, p.Version)
	}
	res, err := e.Svc.Trail.VerifyAudit(context.Background(), e.Caller("verifier"))
	if err != nil || !res.OK {
		t.Fatalf("verify: %+v %v", res, err)
	}
	t.Logf("checked %d, code %s", res.Checked, p.Code)
}
