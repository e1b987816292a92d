package lifecycle

import (
	"context"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/evidence"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// scheduleRechecks plans the re-checks of a problem that was just closed.
func (s *Service) scheduleRechecks(ctx context.Context, r app.Repos, p *domain.Problem, ch domain.Change, now time.Time, today domain.Date) error {
	offsets := s.cfg.Notify.Rechecks[p.Severity]
	if len(offsets) == 0 {
		return nil
	}
	rs := make([]*app.Recheck, len(offsets))
	due := make([]string, len(offsets))
	for i, off := range offsets {
		rs[i] = &app.Recheck{ProblemID: p.ID, Round: p.ReopenCount, OffsetDays: off, DueOn: today.AddDays(off),
			Status: app.RecheckPending, CreatedAt: now}
		due[i] = rs[i].DueOn.String()
	}
	if err := r.Rechecks.Create(ctx, rs); err != nil {
		return err
	}
	ch.Details["rechecks_due"] = due
	return nil
}

// cancelRechecks cancels a reopened problem's pending re-checks: they checked
// a closure that no longer stands; the next closure schedules its own.
func cancelRechecks(ctx context.Context, r app.Repos, problemID int64, ch domain.Change) error {
	n, err := r.Rechecks.CancelPending(ctx, problemID)
	if n > 0 {
		ch.Details["rechecks_cancelled"] = n
	}
	return err
}

// Rechecks lists the re-checks of problems the caller may see, earliest due
// first; more reports a further page.
func (s *Service) Rechecks(ctx context.Context, c app.Caller, f app.RecheckFilter) (items []*app.Recheck, more bool, err error) {
	if f.Limit <= 0 {
		f.Limit = app.DefaultPageSize
	}
	rs, err := s.store.Read().Rechecks.List(ctx, app.RecheckQuery{Scope: app.ScopeOf(c.Actor), DueBy: f.DueBy, Statuses: f.Statuses,
		ProblemID: f.ProblemID, After: f.After, Limit: f.Limit + 1})
	if err != nil {
		return nil, false, err
	}
	if len(rs) > f.Limit {
		return rs[:f.Limit], true, nil
	}
	return rs, false, nil
}

// RecordRecheck records a re-check's result. A relapse reopens the problem
// (reopen count +1, the new deadline) linked to the re-check, and cancels the
// closure's other pending re-checks.
func (s *Service) RecordRecheck(ctx context.Context, c app.Caller, id int64, in app.RecheckInput) (*app.RecheckResult, error) {
	var (
		out    *app.RecheckResult
		pid    int64
		exists bool
		from   domain.Status
	)
	attachments, err := evidence.EvidenceIDs(in.AttachmentIDs)
	if err != nil {
		s.refused(ctx, c, 0, false, domain.Action(app.ActionRecheck), "", err)
		return nil, err
	}
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		today := domain.DateOf(now, s.cfg.Location)
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		rc, err := r.Rechecks.Get(ctx, id)
		if err != nil {
			return err
		}
		p, err := r.Problems.Get(ctx, rc.ProblemID)
		if err != nil {
			return err
		}
		pid, exists, from = p.ID, true, p.Status
		if !c.Actor.CanSee(p) {
			return fmt.Errorf("re-check %d: %w", id, domain.ErrNotFound)
		}
		if err := s.checkRecheck(c.Actor, p, rc, in); err != nil {
			return err
		}
		ev, ids, err := evidence.Resolve(ctx, r, c.Actor, attachments)
		if err != nil {
			return err
		}
		rc.Note, rc.CheckedBy, rc.CheckedAt = in.Note, c.Actor.UserID, &now
		rc.Status = app.RecheckHeld
		if in.Result == app.ResultRelapsed {
			rc.Status = app.RecheckRelapsed
		}
		if err := r.Rechecks.Record(ctx, rc); err != nil {
			return err
		}
		details := map[string]any{"recheck_id": rc.ID, "result": in.Result, "note": in.Note,
			"due_on": rc.DueOn.String(), "round": rc.Round}
		if len(ev) > 0 {
			details["evidence"] = ev
		}
		entry := s.core.Entry(c, now, app.Record{Stream: audit.ProblemStream(p.ID), Action: app.ActionRecheck, ObjectType: "problem",
			ObjectID: app.IDString(p.ID), From: string(p.Status), To: string(p.Status), Changes: details})
		if err := r.Audit.Append(ctx, entry); err != nil {
			return err
		}
		if err := r.Attachments.Attach(ctx, p.ID, ids, domain.Action(app.ActionRecheck), c.Actor.UserID, now); err != nil {
			return err
		}
		if rc.Status == app.RecheckRelapsed {
			if err := s.relapse(ctx, r, c, p, rc, in, now, today); err != nil {
				return err
			}
			rc.Problem.Status, rc.Problem.Deadline, rc.Problem.ClosedAt, rc.Problem.ClosedOnTime = p.Status, p.Deadline, nil, nil
		}
		out = &app.RecheckResult{Recheck: rc, Problem: p}
		return s.core.KeepResult(ctx, r, c, out)
	})
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		s.refused(ctx, c, pid, exists, domain.Action(app.ActionRecheck), from, err)
		return nil, err
	}
	s.core.Observe(app.ActionRecheck, audit.OutcomeOK)
	s.notify.SignalOutbox()
	return out, nil
}

// checkRecheck applies the rules of recording a re-check: the working group
// records it, four-eyes, only on a closed problem, once.
// A re-check may be recorded before its due date: the working group may look early.
func (s *Service) checkRecheck(a domain.Actor, p *domain.Problem, rc *app.Recheck, in app.RecheckInput) error {
	if !a.Has(domain.RoleVerifier) {
		return domain.Forbidden("role_required", "recording a re-check requires the verifier role")
	}
	if p.SubmittedBy == a.UserID || p.AssigneeID == a.UserID {
		return domain.Forbidden("four_eyes", "nobody re-checks a fix they submitted or a problem assigned to them")
	}
	if rc.Status != app.RecheckPending {
		return &domain.ConflictError{Reason: fmt.Sprintf("re-check %d was recorded already: %s", rc.ID, rc.Status)}
	}
	if p.Status != domain.StatusClosed {
		return &domain.ConflictError{Reason: fmt.Sprintf("problem %s is %s, not closed: only a closed problem is re-checked", p.Code, p.Status)}
	}
	var v domain.Validator
	v.Check(in.Result == app.ResultHolds || in.Result == app.ResultRelapsed, "result", "must be %q or %q", app.ResultHolds, app.ResultRelapsed)
	most := domain.MaxNote
	if in.Result == app.ResultRelapsed {
		most = domain.MaxReason // the note becomes the reopening's reason
	}
	v.Text("note", in.Note, true, most)
	if in.Result == app.ResultRelapsed {
		v.Check(!in.Deadline.IsZero(), "deadline", "is required when the problem relapsed")
	} else {
		v.Check(in.Deadline.IsZero(), "deadline", "is given only when the problem relapsed")
	}
	return v.Err()
}

// relapse reopens a problem found relapsed by a re-check.
func (s *Service) relapse(ctx context.Context, r app.Repos, c app.Caller, p *domain.Problem, rc *app.Recheck, in app.RecheckInput, now time.Time, today domain.Date) error {
	old := p.Version
	ch, err := p.Reopen(in.Note, in.Deadline, c.Actor, now, today)
	if err != nil {
		return err
	}
	ch.Details["recheck_id"] = rc.ID
	if err := cancelRechecks(ctx, r, p.ID, ch); err != nil {
		return err
	}
	p.Version = old + 1
	if err := r.Problems.Update(ctx, p, old); err != nil {
		return err
	}
	if err := r.Audit.Append(ctx, s.core.ProblemEntry(c, now, p.ID, ch)); err != nil {
		return err
	}
	return s.notify.AnnounceRelapse(ctx, r, c, p, in.Note, ch.Details, now)
}
