package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/evidence"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// resolveFields checks that the category and unit exist and fills in the unit's path.
func resolveFields(ctx context.Context, r app.Repos, in app.ProblemInput) (domain.ProblemFields, error) {
	f := domain.ProblemFields{Title: in.Title, Description: in.Description, CategoryID: in.CategoryID,
		Severity: in.Severity, Source: in.Source, UnitID: in.UnitID, FoundAt: in.FoundAt}
	var v domain.Validator
	if in.CategoryID <= 0 && in.UnitID <= 0 {
		return f, nil
	}
	path, unitOK, categoryOK, err := r.Units.Place(ctx, in.UnitID, in.CategoryID)
	if err != nil {
		return f, err
	}
	if in.CategoryID > 0 && !categoryOK {
		v.Add("category_id", "no category has id %d", in.CategoryID)
	}
	if in.UnitID > 0 {
		if unitOK {
			f.UnitPath = path
		} else {
			v.Add("unit_id", "no unit has id %d", in.UnitID)
		}
	}
	return f, v.Err()
}

// Register logs a new problem (登记).
func (s *Service) Register(ctx context.Context, c app.Caller, in app.ProblemInput) (*domain.Problem, error) {
	var (
		p   *domain.Problem
		err error
	)
	// The code is taken before the transaction, from the instance's block
	// (Store.ProblemCode), so that registrations share no row. A code found
	// taken (an import kept it) costs another try with the next one.
	for range 3 {
		var code string
		if code, err = s.store.ProblemCode(ctx, domain.DateOf(s.core.Timestamp(), s.cfg.Location).Year()); err != nil {
			break
		}
		if p, err = s.register(ctx, c, in, code); !errors.Is(err, app.ErrCodeTaken) {
			break
		}
	}
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		s.refused(ctx, c, 0, false, domain.ActionRegister, "", err)
		return nil, err
	}
	s.core.Observe(string(domain.ActionRegister), audit.OutcomeOK)
	return p, nil
}

func (s *Service) register(ctx context.Context, c app.Caller, in app.ProblemInput, code string) (*domain.Problem, error) {
	var p *domain.Problem
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		today := domain.DateOf(now, s.cfg.Location)
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		if in.FoundAt.IsZero() {
			in.FoundAt = today
		}
		f, err := resolveFields(ctx, r, in)
		if err != nil {
			return err
		}
		ev, ids, err := evidence.Resolve(ctx, r, c.Actor, in.AttachmentIDs)
		if err != nil {
			return err
		}
		var ch domain.Change
		if p, ch, err = domain.Register(f, c.Actor, now, today); err != nil {
			return err
		}
		p.Code = code
		if err := r.Problems.Create(ctx, p); err != nil {
			return err
		}
		ch.Details["code"] = p.Code
		if len(ev) > 0 {
			ch.Details["attachments"] = domain.EvidenceDetails(ev)
			if err := r.Attachments.Attach(ctx, p.ID, ids, domain.ActionRegister, c.Actor.UserID, now); err != nil {
				return err
			}
		}
		if err := r.Audit.Append(ctx, s.core.ProblemEntry(c, now, p.ID, ch)); err != nil {
			return err
		}
		return s.core.KeepResult(ctx, r, c, p)
	})
	return p, err
}

// refused audits a refused action and counts it. Unexpected errors are only counted.
func (s *Service) refused(ctx context.Context, c app.Caller, id int64, exists bool, a domain.Action, from domain.Status, err error) {
	if errors.Is(err, app.ErrReplayed) {
		return // a repeat of a request that was done: nothing was attempted
	}
	if !app.Refusable(err) {
		s.core.Observe(string(a), "error")
		return
	}
	s.core.Observe(string(a), audit.OutcomeRefused)
	stream := audit.SystemStream
	if exists {
		stream = audit.ProblemStream(id)
	}
	objectID := ""
	if id > 0 {
		objectID = app.IDString(id)
	}
	s.core.AuditRefusal(ctx, c, app.Record{Stream: stream, Action: string(a), ObjectType: "problem", ObjectID: objectID,
		From: string(from)}, err)
}

// apply is the shape of one action on a loaded problem.
type apply func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error)

// act runs one lifecycle action in one transaction: load (scoped), check
// If-Match, apply the domain rule, save with the version check, append the
// audit entry. ifMatch 0 means no precondition.
func (s *Service) act(ctx context.Context, c app.Caller, id, ifMatch int64, a domain.Action, fn apply) (*domain.Problem, error) {
	return s.actAnswering(ctx, c, id, ifMatch, a, fn, nil)
}

// actAnswering is act for an action whose answer is not the problem (an
// extension request answers the request): answer picks what an idempotent
// request's stored response renders.
func (s *Service) actAnswering(ctx context.Context, c app.Caller, id, ifMatch int64, a domain.Action, fn apply, answer func(*domain.Problem) any) (*domain.Problem, error) {
	var (
		out    *domain.Problem
		exists bool
		from   domain.Status
	)
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		today := domain.DateOf(now, s.cfg.Location)
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		r.Users = &usersOnce{UserRepo: r.Users} // the action and its notification read the assignee once
		p, err := r.Problems.Get(ctx, id)
		if err != nil {
			return err
		}
		exists, from = true, p.Status
		if !c.Actor.CanSee(p) {
			return fmt.Errorf("problem %d: %w", id, domain.ErrNotFound)
		}
		if ifMatch != 0 && ifMatch != p.Version {
			return fmt.Errorf("problem %d is at version %d, not %d: %w", id, p.Version, ifMatch, domain.ErrPreconditionFailed)
		}
		old, title, description := p.Version, p.Title, p.Description
		ch, err := fn(r, p, now, today)
		if err != nil {
			return err
		}
		p.Version = old + 1
		if p.Title != title || p.Description != description {
			err = r.Problems.Retext(ctx, p, old, title, description)
		} else {
			err = r.Problems.Update(ctx, p, old)
		}
		if err != nil {
			return err
		}
		out = p
		if err := r.Audit.Append(ctx, s.core.ProblemEntry(c, now, p.ID, ch)); err != nil {
			return err
		}
		if err := s.notify.Announce(ctx, r, c, p, ch, now); err != nil {
			return err
		}
		var result any = p
		if answer != nil {
			result = answer(p)
		}
		return s.core.KeepResult(ctx, r, c, result)
	})
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		s.refused(ctx, c, id, exists, a, from, err)
		return nil, err
	}
	s.core.Observe(string(a), audit.OutcomeOK)
	s.notify.SignalOutbox()
	return out, nil
}

// Edit changes a registered problem's fields.
func (s *Service) Edit(ctx context.Context, c app.Caller, id, ifMatch int64, patch app.ProblemPatch) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionEdit, func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error) {
		in := app.ProblemInput{Title: p.Title, Description: p.Description, CategoryID: p.CategoryID, Severity: p.Severity,
			Source: p.Source, UnitID: p.UnitID, FoundAt: p.FoundAt}
		app.Patch(&in.Title, patch.Title)
		app.Patch(&in.Description, patch.Description)
		app.Patch(&in.CategoryID, patch.CategoryID)
		app.Patch(&in.Severity, patch.Severity)
		app.Patch(&in.Source, patch.Source)
		app.Patch(&in.UnitID, patch.UnitID)
		app.Patch(&in.FoundAt, patch.FoundAt)
		if err := p.Permit(domain.ActionEdit, c.Actor); err != nil {
			return domain.Change{}, err // refuse before revealing whether the new unit or category exists
		}
		f, err := resolveFields(ctx, r, in)
		if err != nil {
			return domain.Change{}, err
		}
		return p.Edit(f, c.Actor, now, today)
	})
}

// Assign hands a problem to an owner (or reassigns it).
func (s *Service) Assign(ctx context.Context, c app.Caller, id, ifMatch int64, in app.AssignInput) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionAssign, func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error) {
		if err := p.Permit(domain.ActionAssign, c.Actor); err != nil {
			return domain.Change{}, err
		}
		cmd := domain.AssignCmd{UnitID: in.UnitID, Deadline: in.Deadline, Measures: in.Measures, Milestones: in.Milestones}
		var v domain.Validator
		if in.AssigneeID > 0 {
			u, err := r.Users.Get(ctx, in.AssigneeID)
			switch {
			case errors.Is(err, domain.ErrNotFound):
				v.Add("assignee_id", "no user has id %d", in.AssigneeID)
			case err != nil:
				return domain.Change{}, err
			default:
				cmd.Assignee = domain.Assignee{ID: u.ID, Roles: u.Roles, Disabled: u.Disabled}
			}
		}
		if in.UnitID > 0 {
			u, err := r.Units.Get(ctx, in.UnitID)
			switch {
			case errors.Is(err, domain.ErrNotFound):
				v.Add("unit_id", "no unit has id %d", in.UnitID)
			case err != nil:
				return domain.Change{}, err
			default:
				cmd.UnitPath = u.Path
			}
		}
		if err := v.Err(); err != nil {
			return domain.Change{}, err
		}
		ch, err := p.Assign(cmd, c.Actor, now, today, s.cfg.Deadlines)
		if err != nil || in.Milestones == nil {
			return ch, err
		}
		return ch, r.Milestones.Save(ctx, p.ID, p.Milestones, now)
	})
}

// Accept signs for an assigned problem (签收).
func (s *Service) Accept(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionAccept, func(_ app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		return p.Accept(note, c.Actor, now)
	})
}

// Progress reports rectification progress (a note and a percent only).
func (s *Service) Progress(ctx context.Context, c app.Caller, id, ifMatch int64, note string, percent *int) (*domain.Problem, error) {
	return s.ReportProgress(ctx, c, id, ifMatch, app.ProgressInput{Note: note, Percent: percent})
}

// ReportProgress reports rectification progress: it may tick milestones off
// and bring attachments, whose hashes enter the audit entry.
func (s *Service) ReportProgress(ctx context.Context, c app.Caller, id, ifMatch int64, in app.ProgressInput) (*domain.Problem, error) {
	attachments, err := evidence.EvidenceIDs(in.AttachmentIDs)
	if err == nil {
		in.MilestoneIDs, err = evidence.DistinctIDs("milestone_ids", in.MilestoneIDs, domain.MaxMilestones)
	}
	if err != nil {
		s.refused(ctx, c, id, false, domain.ActionProgress, "", err)
		return nil, err
	}
	return s.act(ctx, c, id, ifMatch, domain.ActionProgress, func(r app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		if err := p.Permit(domain.ActionProgress, c.Actor); err != nil {
			return domain.Change{}, err
		}
		ev, ids, err := evidence.Resolve(ctx, r, c.Actor, attachments)
		if err != nil {
			return domain.Change{}, err
		}
		ch, err := p.Report(domain.ProgressReport{Note: in.Note, Percent: in.Percent, MilestoneIDs: in.MilestoneIDs, Evidence: ev}, c.Actor, now)
		if err != nil {
			return domain.Change{}, err
		}
		if _, ticked := ch.Details["milestones_done"]; ticked {
			if err := r.Milestones.Save(ctx, p.ID, p.Milestones, now); err != nil {
				return domain.Change{}, err
			}
		}
		return ch, r.Attachments.Attach(ctx, p.ID, ids, domain.ActionProgress, c.Actor.UserID, now)
	})
}

// Submit reports the fix for verification, without attachments.
func (s *Service) Submit(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error) {
	return s.SubmitFix(ctx, c, id, ifMatch, app.SubmitInput{Note: note})
}

// SubmitFix reports the fix for verification with its evidence; under the
// evidence policy, serious and critical problems need at least one attachment.
func (s *Service) SubmitFix(ctx context.Context, c app.Caller, id, ifMatch int64, in app.SubmitInput) (*domain.Problem, error) {
	attachments, err := evidence.EvidenceIDs(in.AttachmentIDs)
	if err != nil {
		s.refused(ctx, c, id, false, domain.ActionSubmit, "", err)
		return nil, err
	}
	return s.act(ctx, c, id, ifMatch, domain.ActionSubmit, func(r app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		if err := p.Permit(domain.ActionSubmit, c.Actor); err != nil {
			return domain.Change{}, err
		}
		ev, ids, err := evidence.Resolve(ctx, r, c.Actor, attachments)
		if err != nil {
			return domain.Change{}, err
		}
		ch, err := p.SubmitFix(in.Note, ev, s.cfg.Evidence, c.Actor, now)
		if err != nil {
			return domain.Change{}, err
		}
		return ch, r.Attachments.Attach(ctx, p.ID, ids, domain.ActionSubmit, c.Actor.UserID, now)
	})
}

// Verify passes (销号) or sends back (退回) a submitted fix.
func (s *Service) Verify(ctx context.Context, c app.Caller, id, ifMatch int64, passed bool, note string) (*domain.Problem, error) {
	a := domain.ActionVerifyFail
	if passed {
		a = domain.ActionVerifyPass
	}
	return s.act(ctx, c, id, ifMatch, a, func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error) {
		ch, err := p.Verify(passed, note, c.Actor, now, today)
		if err != nil || !passed {
			return ch, err
		}
		return ch, s.scheduleRechecks(ctx, r, p, ch, now, today)
	})
}

// Dismiss closes a problem as not taken up (不予立项).
func (s *Service) Dismiss(ctx context.Context, c app.Caller, id, ifMatch int64, reason string) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionDismiss, func(_ app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		return p.Dismiss(reason, c.Actor, now)
	})
}

// Reopen sends a closed problem back to rectification (回头看).
func (s *Service) Reopen(ctx context.Context, c app.Caller, id, ifMatch int64, reason string, deadline domain.Date) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionReopen, func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error) {
		ch, err := p.Reopen(reason, deadline, c.Actor, now, today)
		if err != nil {
			return ch, err
		}
		return ch, cancelRechecks(ctx, r, p.ID, ch)
	})
}

// Urge records a 督办.
func (s *Service) Urge(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionUrge, func(_ app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		return p.Urge(note, c.Actor, now)
	})
}

// Comment adds a remark. It does not change the problem or its version, so
// comments never conflict with lifecycle actions.
func (s *Service) Comment(ctx context.Context, c app.Caller, id int64, text string) (*domain.Problem, error) {
	var (
		out    *domain.Problem
		exists bool
		from   domain.Status
	)
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		p, err := r.Problems.Get(ctx, id)
		if err != nil {
			return err
		}
		exists, from = true, p.Status
		if !c.Actor.CanSee(p) {
			return fmt.Errorf("problem %d: %w", id, domain.ErrNotFound)
		}
		ch, err := p.Comment(text, c.Actor, now)
		if err != nil {
			return err
		}
		cm := &app.Comment{ProblemID: id, AuthorID: c.Actor.UserID, Text: text, CreatedAt: now}
		if err := r.Comments.Create(ctx, cm); err != nil {
			return err
		}
		ch.Details["comment_id"] = cm.ID
		out = p
		if err := r.Audit.Append(ctx, s.core.ProblemEntry(c, now, id, ch)); err != nil {
			return err
		}
		return s.core.KeepResult(ctx, r, c, p)
	})
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		s.refused(ctx, c, id, exists, domain.ActionComment, from, err)
		return nil, err
	}
	s.core.Observe(string(domain.ActionComment), audit.OutcomeOK)
	return out, nil
}

// RequestExtension asks for a later deadline. It returns the request.
func (s *Service) RequestExtension(ctx context.Context, c app.Caller, id, ifMatch int64, deadline domain.Date, reason string) (*domain.Extension, error) {
	var ext *domain.Extension
	_, err := s.actAnswering(ctx, c, id, ifMatch, domain.ActionRequestExtension, func(r app.Repos, p *domain.Problem, now time.Time, today domain.Date) (domain.Change, error) {
		if err := p.Permit(domain.ActionRequestExtension, c.Actor); err != nil {
			return domain.Change{}, err
		}
		pending, err := r.Extensions.HasPending(ctx, p.ID)
		if err != nil {
			return domain.Change{}, err
		}
		e, ch, err := p.RequestExtension(deadline, reason, pending, c.Actor, now, today, s.cfg.Extensions)
		if err != nil {
			return domain.Change{}, err
		}
		if err := r.Extensions.Create(ctx, e); err != nil {
			return domain.Change{}, err
		}
		ch.Details["extension_id"] = e.ID
		ext = e
		return ch, nil
	}, func(*domain.Problem) any { return ext })
	return ext, err
}

// DecideExtension approves or rejects a pending extension request.
func (s *Service) DecideExtension(ctx context.Context, c app.Caller, id, ifMatch, extID int64, approved bool, note string) (*domain.Problem, error) {
	return s.act(ctx, c, id, ifMatch, domain.ActionDecideExtension, func(r app.Repos, p *domain.Problem, now time.Time, _ domain.Date) (domain.Change, error) {
		if err := p.Permit(domain.ActionDecideExtension, c.Actor); err != nil {
			return domain.Change{}, err
		}
		e, err := r.Extensions.Get(ctx, p.ID, extID)
		if err != nil {
			return domain.Change{}, err
		}
		ch, err := p.DecideExtension(e, approved, note, c.Actor, now, s.cfg.Extensions)
		if err != nil {
			return domain.Change{}, err
		}
		return ch, r.Extensions.Update(ctx, e)
	})
}

// Problem returns one problem the caller may see.
func (s *Service) Problem(ctx context.Context, c app.Caller, id int64) (*domain.Problem, error) {
	p, err := s.store.Read().Problems.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Actor.CanSee(p) {
		return nil, fmt.Errorf("problem %d: %w", id, domain.ErrNotFound)
	}
	return p, nil
}

// Warning returns the problem's traffic light today.
func (s *Service) Warning(p *domain.Problem) domain.WarningLevel {
	return p.Warning(s.core.Today(), s.cfg.Deadlines.YellowDays)
}

// Problems lists the problems the caller may see, newest first. It returns
// one page and whether there are more.
func (s *Service) Problems(ctx context.Context, c app.Caller, f app.ProblemFilter) ([]*domain.Problem, bool, error) {
	if f.Limit <= 0 {
		f.Limit = app.DefaultPageSize
	}
	r := s.store.Read()
	q := app.ProblemQuery{Scope: app.ScopeOf(c.Actor), Statuses: f.Statuses, Severities: f.Severities, Sources: f.Sources,
		AssigneeID: f.AssigneeID, Warnings: f.Warnings, Overdue: f.Overdue, Text: f.Text, DeadlineFrom: f.DeadlineFrom,
		DeadlineTo: f.DeadlineTo, CreatedFrom: f.CreatedFrom, CreatedTo: f.CreatedTo, Today: s.core.Today(),
		YellowDays: s.cfg.Deadlines.YellowDays, BeforeID: f.BeforeID, Limit: f.Limit + 1}
	if f.CategoryID > 0 {
		cat, err := r.Categories.Get(ctx, f.CategoryID)
		if err != nil {
			return nil, false, app.FilterError(err, "category_id", "no category has id %d", f.CategoryID)
		}
		q.CategoryPath = cat.Path
	}
	if f.UnitID > 0 {
		u, err := r.Units.Get(ctx, f.UnitID)
		if err != nil {
			return nil, false, app.FilterError(err, "unit_id", "no unit has id %d", f.UnitID)
		}
		q.UnitPath = u.Path
	}
	ps, err := r.Problems.List(ctx, q)
	if err != nil {
		return nil, false, err
	}
	more := len(ps) > f.Limit
	if more {
		ps = ps[:f.Limit]
	}
	return ps, more, nil
}

// History returns a problem's timeline from the audit trail, oldest first.
func (s *Service) History(ctx context.Context, c app.Caller, id, afterSeq int64, limit int) ([]*audit.Entry, error) {
	if _, err := s.Problem(ctx, c, id); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = app.DefaultPageSize
	}
	return s.store.Read().Audit.List(ctx, app.AuditQuery{Stream: audit.ProblemStream(id), Ascending: true, AfterSeq: afterSeq, Limit: limit})
}

// Extensions lists a problem's extension requests.
func (s *Service) Extensions(ctx context.Context, c app.Caller, id int64) ([]*domain.Extension, error) {
	if _, err := s.Problem(ctx, c, id); err != nil {
		return nil, err
	}
	return s.store.Read().Extensions.List(ctx, id)
}

// Comments lists a problem's comments.
func (s *Service) Comments(ctx context.Context, c app.Caller, id int64) ([]*app.Comment, error) {
	if _, err := s.Problem(ctx, c, id); err != nil {
		return nil, err
	}
	return s.store.Read().Comments.List(ctx, id)
}

// usersOnce remembers the users one transaction read by id: an action reads
// its assignee to check it and again to tell them. Users do not change within
// a lifecycle action's transaction.
type usersOnce struct {
	app.UserRepo
	byID map[int64]*app.User
}

func (u *usersOnce) Get(ctx context.Context, id int64) (*app.User, error) {
	if x, ok := u.byID[id]; ok {
		return x, nil
	}
	x, err := u.UserRepo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.byID == nil {
		u.byID = map[int64]*app.User{}
	}
	u.byID[id] = x
	return x, nil
}
