package app

import (
	"context"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// 回头看 as a stage: closing a problem schedules re-checks at offsets by
// severity; a verifier records each one's result: the fix holds, or the
// problem relapsed and reopens, linked to the re-check.

// ActionRecheck is the audit action of a recorded re-check result.
const ActionRecheck = "recheck"

// Re-check results as a verifier gives them.
const (
	ResultHolds    = "holds"
	ResultRelapsed = "relapsed"
)

// scheduleRechecks plans the re-checks of a problem that was just closed.
func (s *Service) scheduleRechecks(ctx context.Context, r Repos, p *domain.Problem, ch domain.Change, now time.Time, today domain.Date) error {
	offsets := s.cfg.Notify.Rechecks[p.Severity]
	if len(offsets) == 0 {
		return nil
	}
	rs := make([]*Recheck, len(offsets))
	due := make([]string, len(offsets))
	for i, off := range offsets {
		rs[i] = &Recheck{ProblemID: p.ID, Round: p.ReopenCount, OffsetDays: off, DueOn: today.AddDays(off),
			Status: RecheckPending, CreatedAt: now}
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
func cancelRechecks(ctx context.Context, r Repos, problemID int64, ch domain.Change) error {
	n, err := r.Rechecks.CancelPending(ctx, problemID)
	if n > 0 {
		ch.Details["rechecks_cancelled"] = n
	}
	return err
}

// RecheckFilter is the re-check list's filter as the caller gives it.
type RecheckFilter struct {
	DueBy     domain.Date // due on or before; zero for any date
	Statuses  []RecheckStatus
	ProblemID int64
	After     RecheckCursor
	Limit     int
}

// Rechecks lists the re-checks of problems the caller may see, earliest due
// first; more reports a further page.
func (s *Service) Rechecks(ctx context.Context, c Caller, f RecheckFilter) (items []*Recheck, more bool, err error) {
	if f.Limit <= 0 {
		f.Limit = DefaultPageSize
	}
	rs, err := s.store.Read().Rechecks.List(ctx, RecheckQuery{Scope: ScopeOf(c.Actor), DueBy: f.DueBy, Statuses: f.Statuses,
		ProblemID: f.ProblemID, After: f.After, Limit: f.Limit + 1})
	if err != nil {
		return nil, false, err
	}
	if len(rs) > f.Limit {
		return rs[:f.Limit], true, nil
	}
	return rs, false, nil
}

// RecheckInput is a re-check's result.
type RecheckInput struct {
	Result        string      // ResultHolds or ResultRelapsed
	Note          string      // what was checked and found
	Deadline      domain.Date // the new deadline, for a relapse only
	AttachmentIDs []int64
}

// RecheckResult is what recording a re-check answers.
type RecheckResult struct {
	Recheck *Recheck
	Problem *domain.Problem
}

// RecordRecheck records a re-check's result. A relapse reopens the problem
// (reopen count +1, the new deadline) linked to the re-check, and cancels the
// closure's other pending re-checks.
func (s *Service) RecordRecheck(ctx context.Context, c Caller, id int64, in RecheckInput) (*RecheckResult, error) {
	var (
		out    *RecheckResult
		pid    int64
		exists bool
		from   domain.Status
	)
	attachments, err := evidenceIDs(in.AttachmentIDs)
	if err != nil {
		s.refused(ctx, c, 0, false, domain.Action(ActionRecheck), "", err)
		return nil, err
	}
	err = s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
		today := domain.DateOf(now, s.cfg.Location)
		if err := s.claimKey(ctx, r, c, now); err != nil {
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
		ev, ids, err := s.evidence(ctx, r, c.Actor, attachments)
		if err != nil {
			return err
		}
		rc.Note, rc.CheckedBy, rc.CheckedAt = in.Note, c.Actor.UserID, &now
		rc.Status = RecheckHeld
		if in.Result == ResultRelapsed {
			rc.Status = RecheckRelapsed
		}
		if err := r.Rechecks.Record(ctx, rc); err != nil {
			return err
		}
		details := map[string]any{"recheck_id": rc.ID, "result": in.Result, "note": in.Note,
			"due_on": rc.DueOn.String(), "round": rc.Round}
		if len(ev) > 0 {
			details["evidence"] = ev
		}
		entry := s.entry(c, now, Record{Stream: audit.ProblemStream(p.ID), Action: ActionRecheck, ObjectType: "problem",
			ObjectID: IDString(p.ID), From: string(p.Status), To: string(p.Status), Changes: details})
		if err := r.Audit.Append(ctx, entry); err != nil {
			return err
		}
		if err := r.Attachments.Attach(ctx, p.ID, ids, domain.Action(ActionRecheck), c.Actor.UserID, now); err != nil {
			return err
		}
		if rc.Status == RecheckRelapsed {
			if err := s.relapse(ctx, r, c, p, rc, in, now, today); err != nil {
				return err
			}
			rc.Problem.Status, rc.Problem.Deadline, rc.Problem.ClosedAt, rc.Problem.ClosedOnTime = p.Status, p.Deadline, nil, nil
		}
		out = &RecheckResult{Recheck: rc, Problem: p}
		return s.rememberResponse(ctx, r, c, out)
	})
	if err = s.keyTaken(ctx, c, err); err != nil {
		s.refused(ctx, c, pid, exists, domain.Action(ActionRecheck), from, err)
		return nil, err
	}
	s.observe(ActionRecheck, audit.OutcomeOK)
	s.notify.SignalOutbox()
	return out, nil
}

// checkRecheck applies the rules of recording a re-check: the working group
// records it, four-eyes, only on a closed problem, once.
// A re-check may be recorded before its due date: the working group may look early.
func (s *Service) checkRecheck(a domain.Actor, p *domain.Problem, rc *Recheck, in RecheckInput) error {
	if !a.Has(domain.RoleVerifier) {
		return domain.Forbidden("role_required", "recording a re-check requires the verifier role")
	}
	if p.SubmittedBy == a.UserID || p.AssigneeID == a.UserID {
		return domain.Forbidden("four_eyes", "nobody re-checks a fix they submitted or a problem assigned to them")
	}
	if rc.Status != RecheckPending {
		return &domain.ConflictError{Reason: fmt.Sprintf("re-check %d was recorded already: %s", rc.ID, rc.Status)}
	}
	if p.Status != domain.StatusClosed {
		return &domain.ConflictError{Reason: fmt.Sprintf("problem %s is %s, not closed: only a closed problem is re-checked", p.Code, p.Status)}
	}
	var v domain.Validator
	v.Check(in.Result == ResultHolds || in.Result == ResultRelapsed, "result", "must be %q or %q", ResultHolds, ResultRelapsed)
	most := domain.MaxNote
	if in.Result == ResultRelapsed {
		most = domain.MaxReason // the note becomes the reopening's reason
	}
	v.Text("note", in.Note, true, most)
	if in.Result == ResultRelapsed {
		v.Check(!in.Deadline.IsZero(), "deadline", "is required when the problem relapsed")
	} else {
		v.Check(in.Deadline.IsZero(), "deadline", "is given only when the problem relapsed")
	}
	return v.Err()
}

// relapse reopens a problem found relapsed by a re-check.
func (s *Service) relapse(ctx context.Context, r Repos, c Caller, p *domain.Problem, rc *Recheck, in RecheckInput, now time.Time, today domain.Date) error {
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
