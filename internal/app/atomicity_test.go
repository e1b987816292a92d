package app_test

import (
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

var errAppendFailed = errors.New("injected: audit append failed")

// faultyStore wraps the real store; while armed, every audit append inside a
// transaction fails, either before writing (the entry never reaches the
// database) or after writing (the entry was inserted in the transaction).
type faultyStore struct {
	app.Store
	armed       atomic.Bool
	writeFirst  bool
	attempts    atomic.Int64
	failProblem atomic.Bool // also fail Problems.Update after the real update
}

func (s *faultyStore) Tx(ctx context.Context, fn func(context.Context, app.Repos) error) error {
	return s.Store.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		r.Audit = faultyAudit{AuditRepo: r.Audit, s: s}
		r.Problems = faultyProblems{ProblemRepo: r.Problems, s: s}
		return fn(ctx, r)
	})
}

type faultyAudit struct {
	app.AuditRepo
	s *faultyStore
}

func (a faultyAudit) Append(ctx context.Context, e *audit.Entry) error {
	if !a.s.armed.Load() {
		return a.AuditRepo.Append(ctx, e)
	}
	a.s.attempts.Add(1)
	if a.s.writeFirst {
		if err := a.AuditRepo.Append(ctx, e); err != nil {
			return err
		}
	}
	return errAppendFailed
}

type faultyProblems struct {
	app.ProblemRepo
	s *faultyStore
}

func (p faultyProblems) Update(ctx context.Context, pr *domain.Problem, expected int64) error {
	if err := p.ProblemRepo.Update(ctx, pr, expected); err != nil {
		return err
	}
	if p.s.failProblem.Load() {
		return errors.New("injected: failure after the update")
	}
	return nil
}

// snapshot is everything an action may change, read with raw SQL.
type snapshot struct {
	problem                                              *domain.Problem
	entries, streams, problems, comments, exts, sessions int
	users, units, categories, failures                   int
	head                                                 string
}

func snap(t *testing.T, e *apptest.Env, id int64) snapshot {
	t.Helper()
	s := snapshot{
		entries:    count(t, e, "SELECT COUNT(*) FROM audit_entries"),
		streams:    count(t, e, "SELECT COUNT(*) FROM audit_streams"),
		problems:   count(t, e, "SELECT COUNT(*) FROM problems"),
		comments:   count(t, e, "SELECT COUNT(*) FROM comments"),
		exts:       count(t, e, "SELECT COUNT(*) FROM extensions"),
		sessions:   count(t, e, "SELECT COUNT(*) FROM sessions"),
		users:      count(t, e, "SELECT COUNT(*) FROM users"),
		units:      count(t, e, "SELECT COUNT(*) FROM units"),
		categories: count(t, e, "SELECT COUNT(*) FROM categories"),
		failures:   count(t, e, "SELECT COUNT(*) FROM login_failures"),
	}
	if id > 0 {
		s.problem = load(t, e, id)
		if err := e.DB.SQL().QueryRowContext(t.Context(), "SELECT head_hash FROM audit_streams WHERE stream = ?",
			audit.ProblemStream(id)).Scan(&s.head); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestAuditFailureRollsBackTheChange(t *testing.T) {
	t.Parallel()
	type action struct {
		name  string
		from  domain.Status
		do    func(svc *wire.Services, e *apptest.Env, p *domain.Problem) error
		extra func(t *testing.T, e *apptest.Env, p *domain.Problem) // prepare, e.g. a pending extension
	}
	ctx := context.Background()
	actions := []action{
		{name: "edit", from: domain.StatusRegistered, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			title := "改过的标题"
			_, err := s.Lifecycle.Edit(ctx, e.Caller("inspector"), p.ID, p.Version, app.ProblemPatch{Title: &title})
			return err
		}},
		{name: "assign", from: domain.StatusRegistered, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Assign(ctx, e.Caller("verifier"), p.ID, p.Version, app.AssignInput{AssigneeID: e.Users["owner1"].ID, Measures: "措施"})
			return err
		}},
		{name: "dismiss", from: domain.StatusRegistered, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Dismiss(ctx, e.Caller("verifier"), p.ID, p.Version, "不予立项")
			return err
		}},
		{name: "accept", from: domain.StatusAssigned, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, p.Version, "")
			return err
		}},
		{name: "urge", from: domain.StatusAssigned, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Urge(ctx, e.Caller("verifier"), p.ID, p.Version, "督办")
			return err
		}},
		{name: "progress", from: domain.StatusRectifying, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			pct := 60
			_, err := s.Lifecycle.Progress(ctx, e.Caller("owner1"), p.ID, p.Version, "进展", &pct)
			return err
		}},
		{name: "submit", from: domain.StatusRectifying, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Submit(ctx, e.Caller("owner1"), p.ID, p.Version, "已整改")
			return err
		}},
		{name: "request extension", from: domain.StatusRectifying, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.RequestExtension(ctx, e.Caller("owner1"), p.ID, p.Version, p.Deadline.AddDays(10), "需要更多时间")
			return err
		}},
		{name: "decide extension", from: domain.StatusRectifying,
			extra: func(t *testing.T, e *apptest.Env, p *domain.Problem) {
				if _, err := e.Svc.Lifecycle.RequestExtension(ctx, e.Caller("owner1"), p.ID, 0, p.Deadline.AddDays(10), "理由"); err != nil {
					t.Fatal(err)
				}
			},
			do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
				exts, err := s.Lifecycle.Extensions(ctx, e.Caller("verifier"), p.ID)
				if err != nil {
					return err
				}
				_, err = s.Lifecycle.DecideExtension(ctx, e.Caller("verifier"), p.ID, p.Version, exts[0].ID, true, "同意")
				return err
			}},
		{name: "verify pass", from: domain.StatusSubmitted, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, p.Version, true, "")
			return err
		}},
		{name: "verify fail", from: domain.StatusSubmitted, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Verify(ctx, e.Caller("verifier"), p.ID, p.Version, false, "不合格")
			return err
		}},
		{name: "reopen", from: domain.StatusClosed, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Reopen(ctx, e.Caller("verifier"), p.ID, p.Version, "回头看", s.Core.Today().AddDays(20))
			return err
		}},
		{name: "comment", from: domain.StatusClosed, do: func(s *wire.Services, e *apptest.Env, p *domain.Problem) error {
			_, err := s.Lifecycle.Comment(ctx, e.Caller("leader"), p.ID, "评论")
			return err
		}},
	}
	for _, writeFirst := range []bool{false, true} {
		mode := "append fails before writing"
		if writeFirst {
			mode = "append fails after writing"
		}
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := apptest.New(t)
			fs := &faultyStore{Store: e.DB, writeFirst: writeFirst}
			svc := wire.New(fs, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
			for _, a := range actions {
				p := e.Drive(t, a.from)
				if a.extra != nil {
					a.extra(t, e, p)
					p = load(t, e, p.ID)
				}
				before := snap(t, e, p.ID)
				fs.armed.Store(true)
				fs.attempts.Store(0)
				err := a.do(svc, e, p)
				fs.armed.Store(false)
				if !errors.Is(err, errAppendFailed) {
					t.Fatalf("%s: got %v, want the injected append failure", a.name, err)
				}
				if fs.attempts.Load() == 0 {
					t.Fatalf("%s: the audit append was never attempted", a.name)
				}
				after := snap(t, e, p.ID)
				if !reflect.DeepEqual(before, after) {
					t.Fatalf("%s: state changed although its audit entry failed:\nbefore %+v\n%+v\nafter  %+v\n%+v",
						a.name, before, *before.problem, after, *after.problem)
				}
				// The same action succeeds once the trail accepts entries again.
				if err := a.do(svc, e, p); err != nil {
					t.Fatalf("%s after disarming: %v", a.name, err)
				}
				if got := snap(t, e, p.ID); got.entries != before.entries+1 {
					t.Fatalf("%s: %d entries appended, want 1", a.name, got.entries-before.entries)
				}
			}
			mustVerifyOK(t, e)
		})
	}
}

func TestAuditFailureRollsBackRegistrationAndAdminChanges(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	fs := &faultyStore{Store: e.DB, writeFirst: true}
	svc := wire.New(fs, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	ctx := t.Context()
	admin := e.Caller("admin")
	name := "新名字"
	disabled := true
	catName := "新分类"
	steps := []struct {
		name string
		do   func() error
	}{
		{"register", func() error {
			_, err := svc.Lifecycle.Register(ctx, e.Caller("inspector"), app.ProblemInput{Title: "t", CategoryID: 5,
				Severity: domain.SeverityGeneral, Source: domain.SourceReport, UnitID: e.Units["一班"].ID})
			return err
		}},
		{"create unit", func() error {
			_, err := svc.Access.CreateUnit(ctx, admin, app.UnitInput{Name: "三班", ParentID: e.Units["部门"].ID})
			return err
		}},
		{"update unit", func() error {
			_, err := svc.Access.UpdateUnit(ctx, admin, e.Units["一班"].ID, app.UnitPatch{Name: &name})
			return err
		}},
		{"create category", func() error {
			_, err := svc.Access.CreateCategory(ctx, admin, app.CategoryInput{Code: "NEW", Name: "新"})
			return err
		}},
		{"update category", func() error {
			_, err := svc.Access.UpdateCategory(ctx, admin, 5, app.CategoryPatch{Name: &catName})
			return err
		}},
		{"create user", func() error {
			_, err := svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "newbie", Name: "新人", Password: apptest.Password,
				Roles: []string{"owner"}, UnitID: e.Units["一班"].ID})
			return err
		}},
		{"disable user", func() error {
			_, err := svc.Access.UpdateUser(ctx, admin, e.Users["owner2"].ID, app.UserPatch{Disabled: &disabled})
			return err
		}},
		{"reset password", func() error {
			return svc.Access.ResetPassword(ctx, admin, e.Users["owner2"].ID, "another password 1")
		}},
		{"login", func() error {
			_, err := svc.Access.Login(ctx, app.Caller{IP: "10.1.1.1"}, "owner2", apptest.Password)
			return err
		}},
		{"failed login", func() error {
			_, err := svc.Access.Login(ctx, app.Caller{IP: "10.1.1.1"}, "owner2", "wrong password")
			return err
		}},
	}
	token := e.Login(t, "owner2")
	for _, s := range steps {
		before := snap(t, e, 0)
		unit, _ := e.DB.Read().Units.Get(ctx, e.Units["一班"].ID)
		cat, _ := e.DB.Read().Categories.Get(ctx, 5)
		owner2, _ := e.DB.Read().Users.Get(ctx, e.Users["owner2"].ID)
		fs.armed.Store(true)
		err := s.do()
		fs.armed.Store(false)
		if !errors.Is(err, errAppendFailed) {
			t.Fatalf("%s: got %v, want the injected append failure", s.name, err)
		}
		if after := snap(t, e, 0); after != before {
			t.Fatalf("%s: rows changed although the audit entry failed:\nbefore %+v\nafter  %+v", s.name, before, after)
		}
		u2, _ := e.DB.Read().Units.Get(ctx, e.Units["一班"].ID)
		c2, _ := e.DB.Read().Categories.Get(ctx, 5)
		o2, _ := e.DB.Read().Users.Get(ctx, e.Users["owner2"].ID)
		if !reflect.DeepEqual(unit, u2) || !reflect.DeepEqual(cat, c2) || !reflect.DeepEqual(owner2, o2) {
			t.Fatalf("%s: a row was updated although the audit entry failed", s.name)
		}
		if _, err := svc.Access.Authenticate(ctx, token); err != nil {
			t.Fatalf("%s: the session was revoked although the audit entry failed: %v", s.name, err)
		}
	}
	if _, err := e.DB.Read().Users.GetByUsername(ctx, "newbie"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("user created without its entry: %v", err)
	}
	// The code was taken before the transaction, from the instance's block:
	// the rolled back registration leaves a gap, and nothing else of it.
	p := e.Register(t, "after the failure")
	if p.Code != "WT-2026-000002" {
		t.Fatalf("code %s after a rolled back registration", p.Code)
	}
	mustVerifyOK(t, e)
}

// The converse: when the change fails after its entry was written in the same
// transaction, the entry is rolled back with it.
func TestNoAuditEntryWithoutItsChange(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	fs := &faultyStore{Store: e.DB}
	svc := wire.New(fs, e.Keys, e.Svc.Core.Config(), wire.WithClock(e.Clock.Now))
	p := e.Drive(t, domain.StatusSubmitted)
	before := snap(t, e, p.ID)

	// The entry is written, then the transaction fails: the entry goes with it.
	fs.writeFirst = true
	fs.armed.Store(true)
	_, err := svc.Lifecycle.Verify(t.Context(), e.Caller("verifier"), p.ID, p.Version, true, "")
	fs.armed.Store(false)
	if !errors.Is(err, errAppendFailed) || fs.attempts.Load() != 1 {
		t.Fatalf("verify: %v after %d appends", err, fs.attempts.Load())
	}
	if n := count(t, e, "SELECT COUNT(*) FROM audit_entries WHERE stream = ? AND action = ?", audit.ProblemStream(p.ID), "verify_pass"); n != 0 {
		t.Fatalf("%d verify_pass entries without the verification", n)
	}
	if after := snap(t, e, p.ID); !reflect.DeepEqual(before, after) {
		t.Fatalf("something persisted from a failed transaction:\nbefore %+v\nafter  %+v", before, after)
	}

	// A failing save: the problem row is updated, then the repository reports an error.
	fs.failProblem.Store(true)
	_, err = svc.Lifecycle.Verify(t.Context(), e.Caller("verifier"), p.ID, p.Version, true, "")
	fs.failProblem.Store(false)
	if err == nil {
		t.Fatal("verify succeeded although the save failed")
	}
	if after := snap(t, e, p.ID); !reflect.DeepEqual(before, after) {
		t.Fatalf("something persisted from a failed save:\nbefore %+v\nafter  %+v", before, after)
	}

	// A refused action leaves a refusal, never an entry with outcome ok.
	if _, err := e.Svc.Lifecycle.Urge(t.Context(), e.Caller("verifier"), p.ID, 0, "x"); !isInvalidTransition(err) {
		t.Fatalf("urge on submitted: %v", err)
	}
	for _, en := range problemEntries(t, e, p.ID) {
		if en.Outcome == audit.OutcomeOK && en.Action == "urge" {
			t.Fatalf("an ok entry for a refused urge: %+v", en)
		}
	}
	// Every ok entry of the problem corresponds to one version step.
	final := load(t, e, p.ID)
	var oks int64
	for _, en := range problemEntries(t, e, p.ID) {
		if en.Outcome == audit.OutcomeOK && en.Action != "comment" {
			oks++
		}
	}
	if oks != final.Version {
		t.Fatalf("%d ok entries for version %d", oks, final.Version)
	}
	mustVerifyOK(t, e)
}
