package app_test

import (
	"errors"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

// freshCaller re-reads a fixture user, as authentication does on every request.
func freshCaller(t *testing.T, e *apptest.Env, username string) app.Caller {
	t.Helper()
	u, err := e.Svc.Access.User(t.Context(), e.Users[username].ID)
	if err != nil {
		t.Fatal(err)
	}
	return app.Caller{Actor: u.Actor(), IP: "127.0.0.1", RequestID: "fresh-" + username}
}

func TestUnitTreeAndScopeFollowAMove(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	admin := e.Caller("admin")
	p := e.Drive(t, domain.StatusAssigned) // 一班
	yiban, bumen, root := e.Units["一班"], e.Units["部门"], e.Units["中心"]

	var v *domain.ValidationError
	if _, err := e.Svc.Access.UpdateUnit(ctx, admin, bumen.ID, app.UnitPatch{ParentID: &yiban.ID}); !errors.As(err, &v) {
		t.Fatalf("moving 部门 below its own child: %v", err)
	}
	if _, err := e.Svc.Access.UpdateUnit(ctx, admin, bumen.ID, app.UnitPatch{ParentID: &bumen.ID}); !errors.As(err, &v) {
		t.Fatalf("moving 部门 below itself: %v", err)
	}
	missing := int64(9999)
	if _, err := e.Svc.Access.CreateUnit(ctx, admin, app.UnitInput{Name: "x", ParentID: missing}); !errors.As(err, &v) {
		t.Fatalf("unit under a missing parent: %v", err)
	}
	if _, err := e.Svc.Access.CreateUnit(ctx, admin, app.UnitInput{Name: "一班", ParentID: bumen.ID}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate unit name: %v", err)
	}
	if _, err := e.Svc.Access.UpdateUnit(ctx, admin, missing, app.UnitPatch{}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("absent unit: %v", err)
	}

	// Move 一班 out of 部门, directly under 中心.
	moved, err := e.Svc.Access.UpdateUnit(ctx, admin, yiban.ID, app.UnitPatch{ParentID: &root.ID})
	if err != nil {
		t.Fatal(err)
	}
	if moved.ParentID != root.ID || moved.Path != root.Path+fmtInt(yiban.ID)+"/" {
		t.Fatalf("moved unit %+v", moved)
	}
	if got := load(t, e, p.ID); got.UnitPath != moved.Path {
		t.Fatalf("the problem's unit path is %s, want %s", got.UnitPath, moved.Path)
	}
	// The owner of 部门 no longer sees 一班's problem; owner1 still does.
	if _, err := e.Svc.Lifecycle.Problem(ctx, freshCaller(t, e, "ownerdept"), p.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ownerdept after the move: %v", err)
	}
	ps, _, err := e.Svc.Lifecycle.Problems(ctx, freshCaller(t, e, "ownerdept"), app.ProblemFilter{Limit: 50})
	if err != nil || len(ps) != 0 {
		t.Fatalf("ownerdept lists %d problems: %v", len(ps), err)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, freshCaller(t, e, "owner1"), p.ID, 0, "签收"); err != nil {
		t.Fatalf("owner1 after the move: %v", err)
	}
	ps, _, err = e.Svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{UnitID: bumen.ID, Limit: 50})
	if err != nil || len(ps) != 0 {
		t.Fatalf("部门's subtree still lists %d problems: %v", len(ps), err)
	}
	ps, _, err = e.Svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{UnitID: root.ID, Limit: 50})
	if err != nil || len(ps) != 1 {
		t.Fatalf("中心's subtree lists %d problems: %v", len(ps), err)
	}
	mustVerifyOK(t, e)
}

func TestCategoryAdministration(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	admin := e.Caller("admin")
	var v *domain.ValidationError
	for _, in := range []app.CategoryInput{{Code: "", Name: "x"}, {Code: "ok", Name: " "}, {Code: "a b", Name: "x"}, {Code: "NEW", Name: "x", ParentID: 999}} {
		if _, err := e.Svc.Access.CreateCategory(ctx, admin, in); !errors.As(err, &v) {
			t.Errorf("category %+v: %v", in, err)
		}
	}
	c, err := e.Svc.Access.CreateCategory(ctx, admin, app.CategoryInput{Code: "SXZZ-04", Name: "创新意识", ParentID: 1})
	if err != nil || c.Path != "/1/"+fmtInt(c.ID)+"/" {
		t.Fatalf("created %+v %v", c, err)
	}
	// The new item belongs to its dimension's subtree in the list filter.
	p := e.Register(t, "创新")
	if _, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("verifier"), p.ID, 0, app.ProblemPatch{CategoryID: &c.ID}); err != nil {
		t.Fatal(err)
	}
	ps, _, err := e.Svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{CategoryID: 1, Limit: 10})
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("dimension 1 lists %v %v", ps, err)
	}
	code := "SXZZ-01"
	if _, err := e.Svc.Access.UpdateCategory(ctx, admin, c.ID, app.CategoryPatch{Code: &code}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("taken code: %v", err)
	}
	one := int64(1)
	if _, err := e.Svc.Access.UpdateCategory(ctx, admin, 1, app.CategoryPatch{ParentID: &c.ID}); !errors.As(err, &v) {
		t.Fatalf("dimension moved below its own item: %v", err)
	}
	two := int64(2)
	moved, err := e.Svc.Access.UpdateCategory(ctx, admin, c.ID, app.CategoryPatch{ParentID: &two})
	if err != nil || moved.Path != "/2/"+fmtInt(c.ID)+"/" {
		t.Fatalf("moved %+v %v", moved, err)
	}
	if ps, _, _ := e.Svc.Lifecycle.Problems(ctx, e.Caller("leader"), app.ProblemFilter{CategoryID: one, Limit: 10}); len(ps) != 0 {
		t.Fatalf("dimension 1 still lists the moved item's problem")
	}
	// Editing a problem to a missing category or unit is refused and changes nothing.
	bad := int64(999)
	if _, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("verifier"), p.ID, 0, app.ProblemPatch{CategoryID: &bad, UnitID: &bad}); !errors.As(err, &v) || len(v.Fields) != 2 {
		t.Fatalf("edit to missing category and unit: %v", err)
	}
	if got := load(t, e, p.ID); got.CategoryID != c.ID {
		t.Fatalf("category now %d", got.CategoryID)
	}
}

func TestUserAdministration(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	admin := e.Caller("admin")
	var v *domain.ValidationError
	for _, in := range []app.UserInput{
		{Username: "ab", Name: "x", Password: "long enough", Roles: []string{"owner"}, UnitID: e.Units["一班"].ID},
		{Username: "valid", Name: "x", Password: "short", Roles: []string{"owner"}, UnitID: e.Units["一班"].ID},
		{Username: "valid", Name: "x", Password: "long enough", Roles: []string{"boss"}, UnitID: e.Units["一班"].ID},
		{Username: "valid", Name: "x", Password: "long enough", Roles: nil, UnitID: e.Units["一班"].ID},
		{Username: "valid", Name: "x", Password: "long enough", Roles: []string{"owner"}, UnitID: 999},
	} {
		if _, err := e.Svc.Access.CreateUser(ctx, admin, in); !errors.As(err, &v) {
			t.Errorf("user %+v: %v", in, err)
		}
	}
	if _, err := e.Svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "OWNER1", Name: "x", Password: "long enough",
		Roles: []string{"owner"}, UnitID: e.Units["一班"].ID}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("username differing only in case: %v", err)
	}
	yes := true
	if _, err := e.Svc.Access.UpdateUser(ctx, admin, e.Users["admin"].ID, app.UserPatch{Disabled: &yes}); !errors.As(err, &v) {
		t.Fatalf("admin disables themself: %v", err)
	}
	if _, err := e.Svc.Access.UpdateUser(ctx, admin, e.Users["admin"].ID, app.UserPatch{Roles: []string{"leader"}}); !errors.As(err, &v) {
		t.Fatalf("admin drops their own admin role: %v", err)
	}
	u, err := e.Svc.Access.User(ctx, e.Users["admin"].ID)
	if err != nil || u.Disabled || len(u.Roles) != 1 || u.Roles[0] != domain.RoleAdmin {
		t.Fatalf("admin after refused changes: %+v %v", u, err)
	}
	// An admin alone has no lifecycle powers and sees no problems.
	p := e.Drive(t, domain.StatusSubmitted)
	if _, err := e.Svc.Lifecycle.Verify(ctx, admin, p.ID, 0, true, ""); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("admin verifies: %v", err)
	}
	if _, err := e.Svc.Lifecycle.Register(ctx, admin, app.ProblemInput{Title: "t", CategoryID: 5, Severity: domain.SeverityGeneral,
		Source: domain.SourceReport, UnitID: e.Units["一班"].ID}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("admin registers: %v", err)
	}
	// Users are listed by role and by unit subtree.
	owners, err := e.Svc.Access.Users(ctx, app.UserQuery{Role: domain.RoleOwner, Limit: 50})
	if err != nil || len(owners) != 4 {
		t.Fatalf("%d owners listed: %v", len(owners), err)
	}
	inUnit, err := e.Svc.Access.Users(ctx, app.UserQuery{UnitPath: e.Units["一班"].Path, Limit: 50})
	if err != nil || len(inUnit) != 2 {
		t.Fatalf("%d users in 一班: %v", len(inUnit), err)
	}
}
