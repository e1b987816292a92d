package app_test

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

func listIDs(t *testing.T, e *apptest.Env, who string, f app.ProblemFilter) []int64 {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 200
	}
	ps, _, err := e.Svc.Lifecycle.Problems(t.Context(), e.Caller(who), f)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func TestOwnerScope(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusAssigned) // 一班, assigned to owner1
	other := e.Register(t, "二班的问题")
	if _, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("inspector"), other.ID, 0, app.ProblemPatch{UnitID: &e.Units["二班"].ID}); err != nil {
		t.Fatal(err)
	}

	// Who sees the problem of 一班.
	for who, sees := range map[string]bool{
		"owner1": true, "ownerdept": true, "ownerverifier": true, "inspector": true, "verifier": true, "leader": true,
		"owner2": false, "admin": false,
	} {
		_, err := e.Svc.Lifecycle.Problem(ctx, e.Caller(who), p.ID)
		inList := slices.Contains(listIDs(t, e, who, app.ProblemFilter{}), p.ID)
		if sees && (err != nil || !inList) {
			t.Errorf("%s does not see the problem: %v, listed %v", who, err, inList)
		}
		if !sees && (!errors.Is(err, domain.ErrNotFound) || inList) {
			t.Errorf("%s sees the problem: %v, listed %v", who, err, inList)
		}
	}
	if ids := listIDs(t, e, "owner2", app.ProblemFilter{}); !slices.Equal(ids, []int64{other.ID}) {
		t.Errorf("owner2 lists %v, want only %d", ids, other.ID)
	}
	if ids := listIDs(t, e, "owner2", app.ProblemFilter{UnitID: e.Units["一班"].ID}); len(ids) != 0 {
		t.Errorf("owner2 filtering on 一班 lists %v", ids)
	}

	// Everything owner2 tries on it answers 404, never 403 or 409, and changes nothing.
	before := load(t, e, p.ID)
	c := e.Caller("owner2")
	pct := 10
	for name, do := range map[string]func() error{
		"accept":   func() error { _, err := e.Svc.Lifecycle.Accept(ctx, c, p.ID, 0, ""); return err },
		"progress": func() error { _, err := e.Svc.Lifecycle.Progress(ctx, c, p.ID, 0, "n", &pct); return err },
		"submit":   func() error { _, err := e.Svc.Lifecycle.Submit(ctx, c, p.ID, 0, "n"); return err },
		"extension": func() error {
			_, err := e.Svc.Lifecycle.RequestExtension(ctx, c, p.ID, 0, e.Svc.Core.Today().AddDays(99), "r")
			return err
		},
		"decide":  func() error { _, err := e.Svc.Lifecycle.DecideExtension(ctx, c, p.ID, 0, 1, true, ""); return err },
		"verify":  func() error { _, err := e.Svc.Lifecycle.Verify(ctx, c, p.ID, 0, true, ""); return err },
		"urge":    func() error { _, err := e.Svc.Lifecycle.Urge(ctx, c, p.ID, 0, "n"); return err },
		"dismiss": func() error { _, err := e.Svc.Lifecycle.Dismiss(ctx, c, p.ID, 0, "n"); return err },
		"edit": func() error {
			s := "x"
			_, err := e.Svc.Lifecycle.Edit(ctx, c, p.ID, 0, app.ProblemPatch{Title: &s})
			return err
		},
		"comment":  func() error { _, err := e.Svc.Lifecycle.Comment(ctx, c, p.ID, "n"); return err },
		"history":  func() error { _, err := e.Svc.Lifecycle.History(ctx, c, p.ID, 0, 10); return err },
		"comments": func() error { _, err := e.Svc.Lifecycle.Comments(ctx, c, p.ID); return err },
		"extensions": func() error {
			_, err := e.Svc.Lifecycle.Extensions(ctx, c, p.ID)
			return err
		},
		"stale if-match": func() error { _, err := e.Svc.Lifecycle.Accept(ctx, c, p.ID, 999, ""); return err },
	} {
		if err := do(); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("owner2 %s: %v, want ErrNotFound", name, err)
		}
	}
	if after := load(t, e, p.ID); !reflect.DeepEqual(before, after) {
		t.Fatal("out-of-scope attempts changed the problem")
	}

	// The owner of the parent unit may accept for 一班.
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("ownerdept"), p.ID, before.Version, "部门签收"); err != nil {
		t.Fatalf("ownerdept accepts: %v", err)
	}
	// But only the assignee reports and submits.
	if _, err := e.Svc.Lifecycle.Submit(ctx, e.Caller("ownerdept"), p.ID, 0, "x"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("ownerdept submits: %v", err)
	}

	// Assignment brings a problem into the assignee's scope, whatever its unit; reassignment takes it away.
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner2"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Problem(ctx, c, p.ID); err != nil {
		t.Fatalf("assignee owner2 does not see it: %v", err)
	}
	if !slices.Contains(listIDs(t, e, "owner2", app.ProblemFilter{}), p.ID) {
		t.Fatal("assignee owner2 does not list it")
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, c, p.ID, 0, "收到"); err != nil {
		t.Fatalf("assignee owner2 accepts: %v", err)
	}
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Problem(ctx, c, p.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("owner2 still sees it after reassignment: %v", err)
	}
	// Moving the responsible unit moves the scope.
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, UnitID: e.Units["二班"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Problem(ctx, c, p.ID); err != nil {
		t.Fatalf("owner2 does not see a problem of 二班: %v", err)
	}
	mustVerifyOK(t, e)
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusRegistered)
	title := "新标题"
	for _, stale := range []int64{p.Version + 1, 99, -1} {
		if _, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("inspector"), p.ID, stale, app.ProblemPatch{Title: &title}); !errors.Is(err, domain.ErrPreconditionFailed) {
			t.Fatalf("edit at version %d: %v", stale, err)
		}
	}
	if got := load(t, e, p.ID); got.Title == title || got.Version != p.Version {
		t.Fatalf("stale edits applied: %+v", got)
	}
	got, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("inspector"), p.ID, p.Version, app.ProblemPatch{Title: &title})
	if err != nil || got.Version != p.Version+1 || got.Title != title {
		t.Fatalf("edit at the current version: %+v %v", got, err)
	}
	// The old version is now stale for every action.
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, p.Version, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "m"}); !errors.Is(err, domain.ErrPreconditionFailed) {
		t.Fatalf("assign at the old version: %v", err)
	}
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, got.Version, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "m"}); err != nil {
		t.Fatal(err)
	}
	// Comments carry no precondition and do not move the version.
	before := load(t, e, p.ID)
	if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), p.ID, "评论不改版本"); err != nil {
		t.Fatal(err)
	}
	if after := load(t, e, p.ID); after.Version != before.Version || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a comment moved the version from %d to %d", before.Version, after.Version)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, before.Version, ""); err != nil {
		t.Fatalf("accept at the version read before the comment: %v", err)
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusClosed)
	for _, who := range []string{"leader", "owner1", "ownerdept", "inspector"} {
		got, err := e.Svc.Lifecycle.Comment(ctx, e.Caller(who), p.ID, who+" 说：好")
		if err != nil {
			t.Fatalf("%s comments: %v", who, err)
		}
		if got.Version != p.Version || got.Status != domain.StatusClosed {
			t.Fatalf("comment returned %s v%d", got.Status, got.Version)
		}
	}
	cs, err := e.Svc.Lifecycle.Comments(ctx, e.Caller("owner1"), p.ID)
	if err != nil || len(cs) != 4 || cs[0].Text != "leader 说：好" || cs[0].AuthorID != e.Users["leader"].ID {
		t.Fatalf("comments %+v %v", cs, err)
	}
	if load(t, e, p.ID).Version != p.Version {
		t.Fatal("comments moved the version")
	}
	var v *domain.ValidationError
	if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), p.ID, "   "); !errors.As(err, &v) {
		t.Fatalf("blank comment: %v", err)
	}
	d := e.Drive(t, domain.StatusDismissed)
	if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), d.ID, "x"); !isInvalidTransition(err) {
		t.Fatalf("comment on a dismissed problem: %v", err)
	}
	if _, err := e.Svc.Lifecycle.Comment(ctx, e.Caller("leader"), 424242, "x"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("comment on an absent problem: %v", err)
	}
	if n := count(t, e, "SELECT COUNT(*) FROM comments"); n != 4 {
		t.Fatalf("%d comments stored", n)
	}
}

func TestExtensionFlow(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	p := e.Drive(t, domain.StatusRectifying)
	old := p.Deadline
	want := old.AddDays(10)
	owner := e.Caller("owner1")

	// Requests: only the assignee, a later deadline, one at a time.
	if _, err := e.Svc.Lifecycle.RequestExtension(ctx, e.Caller("verifier"), p.ID, 0, want, "r"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("verifier requests: %v", err)
	}
	var v *domain.ValidationError
	if _, err := e.Svc.Lifecycle.RequestExtension(ctx, owner, p.ID, 0, old, "r"); !errors.As(err, &v) {
		t.Fatalf("no later deadline: %v", err)
	}
	if _, err := e.Svc.Lifecycle.RequestExtension(ctx, owner, p.ID, 0, want, ""); !errors.As(err, &v) {
		t.Fatalf("no reason: %v", err)
	}
	ext, err := e.Svc.Lifecycle.RequestExtension(ctx, owner, p.ID, p.Version, want, "设备未到")
	if err != nil {
		t.Fatal(err)
	}
	if ext.Status != domain.ExtensionPending || ext.RequestedBy != owner.Actor.UserID || ext.OldDeadline != old || ext.Deadline != want {
		t.Fatalf("request %+v", ext)
	}
	after := load(t, e, p.ID)
	if after.Deadline != old || after.Version != p.Version+1 {
		t.Fatalf("a request alone moved the deadline or not the version: %+v", after)
	}
	if _, err := e.Svc.Lifecycle.RequestExtension(ctx, owner, p.ID, 0, want.AddDays(1), "再次"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a second pending request: %v", err)
	}

	// Decisions: only verifiers, notes required to reject, once.
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, owner, p.ID, 0, ext.ID, true, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("owner decides: %v", err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, 0, ext.ID+1000, true, ""); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("absent extension: %v", err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, 0, ext.ID, false, ""); !errors.As(err, &v) {
		t.Fatalf("rejection without a note: %v", err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, after.Version-1, ext.ID, true, ""); !errors.Is(err, domain.ErrPreconditionFailed) {
		t.Fatalf("stale decision: %v", err)
	}
	got, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, after.Version, ext.ID, true, "同意")
	if err != nil {
		t.Fatal(err)
	}
	if got.Deadline != want || got.ExtensionCount != 1 || got.Version != after.Version+1 {
		t.Fatalf("approved: %+v", got)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("leader"), p.ID, 0, ext.ID, false, "改主意"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("deciding twice: %v", err)
	}
	// A second request may now be made, and rejected: the deadline stays.
	// After one approved extension, the working group no longer decides: a leader does.
	ext2, err := e.Svc.Lifecycle.RequestExtension(ctx, owner, p.ID, 0, want.AddDays(5), "还需时间")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier2"), p.ID, 0, ext2.ID, false, "理由不足"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a verifier decides the second extension: %v", err)
	}
	if got, err = e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("leader"), p.ID, 0, ext2.ID, false, "理由不足"); err != nil {
		t.Fatal(err)
	}
	if got.Deadline != want || got.ExtensionCount != 1 {
		t.Fatalf("rejected: %+v", got)
	}
	exts, err := e.Svc.Lifecycle.Extensions(ctx, owner, p.ID)
	if err != nil || len(exts) != 2 {
		t.Fatalf("extensions %v %v", exts, err)
	}
	if exts[0].Status != domain.ExtensionApproved || exts[0].DecidedBy != e.Users["verifier"].ID || exts[0].Note != "同意" ||
		exts[1].Status != domain.ExtensionRejected || exts[1].DecidedBy != e.Users["leader"].ID || exts[1].DecidedAt == nil {
		t.Fatalf("extensions %+v %+v", exts[0], exts[1])
	}
	// An extension of another problem is not found through this one.
	q := e.Drive(t, domain.StatusRectifying)
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), q.ID, 0, ext2.ID, true, ""); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("extension decided through another problem: %v", err)
	}
	mustVerifyOK(t, e)
}

func TestFourEyes(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	ov := e.Caller("ownerverifier")
	p := e.Drive(t, domain.StatusRegistered)
	if _, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: ov.Actor.UserID, Measures: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, ov, p.ID, 0, ""); err != nil {
		t.Fatal(err)
	}
	fourEyes := func(err error) bool {
		var fe *domain.ForbiddenError
		return errors.As(err, &fe) && fe.Code == "four_eyes"
	}
	// Nobody decides their own extension request.
	ext, err := e.Svc.Lifecycle.RequestExtension(ctx, ov, p.ID, 0, load(t, e, p.ID).Deadline.AddDays(3), "理由")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, ov, p.ID, 0, ext.ID, true, ""); !fourEyes(err) {
		t.Fatalf("own extension decided: %v", err)
	}
	if _, err := e.Svc.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, 0, ext.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	// Nobody verifies a fix they submitted or a problem assigned to them.
	if _, err := e.Svc.Lifecycle.Submit(ctx, ov, p.ID, 0, "已整改"); err != nil {
		t.Fatal(err)
	}
	for _, passed := range []bool{true, false} {
		if _, err := e.Svc.Lifecycle.Verify(ctx, ov, p.ID, 0, passed, "自己验收"); !fourEyes(err) {
			t.Fatalf("own fix verified (passed=%v): %v", passed, err)
		}
	}
	if got := load(t, e, p.ID); got.Status != domain.StatusSubmitted {
		t.Fatalf("status %s after refused verifications", got.Status)
	}
	if _, err := e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier2"), p.ID, 0, true, ""); err != nil {
		t.Fatal(err)
	}
	mustVerifyOK(t, e)
}

func TestDeadlinesAndWarnings(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := t.Context()
	today := e.Svc.Core.Today()
	if today != domain.NewDate(2026, 3, 2) {
		t.Fatalf("today is %s in Shanghai", today)
	}
	p := e.Drive(t, domain.StatusRectifying)
	if p.Deadline != today.AddDays(30) || e.Svc.Lifecycle.Warning(p) != domain.WarningGreen {
		t.Fatalf("general problem: deadline %s warning %s", p.Deadline, e.Svc.Lifecycle.Warning(p))
	}
	crit := e.Register(t, "严重")
	sev := domain.SeverityCritical
	if _, err := e.Svc.Lifecycle.Edit(ctx, e.Caller("inspector"), crit.ID, 0, app.ProblemPatch{Severity: &sev}); err != nil {
		t.Fatal(err)
	}
	crit, err := e.Svc.Lifecycle.Assign(ctx, e.Caller("verifier"), crit.ID, 0, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "m"})
	if err != nil || crit.Deadline != today.AddDays(7) {
		t.Fatalf("critical problem: %v %v", crit.Deadline, err)
	}
	// 26 days later the general one is yellow; after its deadline, red and overdue.
	e.Clock.Advance(27 * 24 * time.Hour)
	if w := e.Svc.Lifecycle.Warning(load(t, e, p.ID)); w != domain.WarningYellow {
		t.Fatalf("3 days before the deadline: %s", w)
	}
	e.Clock.Advance(4 * 24 * time.Hour)
	late := load(t, e, p.ID)
	if w := e.Svc.Lifecycle.Warning(late); w != domain.WarningRed || !late.Overdue(e.Svc.Core.Today()) {
		t.Fatalf("after the deadline: %s", w)
	}
	tr := true
	if ids := listIDs(t, e, "leader", app.ProblemFilter{Overdue: &tr}); !slices.Contains(ids, p.ID) || !slices.Contains(ids, crit.ID) {
		t.Fatalf("overdue list %v", ids)
	}
	// Closed late stays red; closed on time stays green.
	if _, err := e.Svc.Lifecycle.Submit(ctx, e.Caller("owner1"), p.ID, 0, "迟交"); err != nil {
		t.Fatal(err)
	}
	closed, err := e.Svc.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, 0, true, "")
	if err != nil || closed.ClosedOnTime == nil || *closed.ClosedOnTime || e.Svc.Lifecycle.Warning(closed) != domain.WarningRed {
		t.Fatalf("closed late: %+v %v", closed, err)
	}
	onTime := e.Drive(t, domain.StatusClosed)
	if onTime.ClosedOnTime == nil || !*onTime.ClosedOnTime || e.Svc.Lifecycle.Warning(onTime) != domain.WarningGreen {
		t.Fatalf("closed on time: %+v", onTime)
	}
	red := listIDs(t, e, "leader", app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningRed}})
	green := listIDs(t, e, "leader", app.ProblemFilter{Warnings: []domain.WarningLevel{domain.WarningGreen}})
	if !slices.Contains(red, p.ID) || !slices.Contains(red, crit.ID) || !slices.Contains(green, onTime.ID) || slices.Contains(green, p.ID) {
		t.Fatalf("red %v green %v", red, green)
	}
	// Reopening (回头看) needs a new deadline and clears the closing.
	if _, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), onTime.ID, 0, "反弹", domain.Date{}); err == nil {
		t.Fatal("reopen without a deadline")
	}
	re, err := e.Svc.Lifecycle.Reopen(ctx, e.Caller("verifier"), onTime.ID, 0, "反弹", e.Svc.Core.Today().AddDays(5))
	if err != nil || re.Status != domain.StatusRectifying || re.ReopenCount != 1 || re.ClosedAt != nil || re.ClosedOnTime != nil {
		t.Fatalf("reopened: %+v %v", re, err)
	}
}

func TestProblemsPagination(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	var want []int64
	for range 7 {
		want = append(want, e.Register(t, "分页").ID)
	}
	slices.Reverse(want)
	var got []int64
	before := int64(0)
	for {
		ps, more, err := e.Svc.Lifecycle.Problems(t.Context(), e.Caller("leader"), app.ProblemFilter{Limit: 3, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if !more {
			break
		}
		if len(ps) != 3 {
			t.Fatalf("a page of %d with more to come", len(ps))
		}
		before = ps[len(ps)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	var v *domain.ValidationError
	if _, _, err := e.Svc.Lifecycle.Problems(t.Context(), e.Caller("leader"), app.ProblemFilter{Limit: 3, UnitID: 9999}); !errors.As(err, &v) {
		t.Fatalf("absent unit filter: %v", err)
	}
	if _, _, err := e.Svc.Lifecycle.Problems(t.Context(), e.Caller("leader"), app.ProblemFilter{Limit: 3, CategoryID: 9999}); !errors.As(err, &v) {
		t.Fatalf("absent category filter: %v", err)
	}
}
