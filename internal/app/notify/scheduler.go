package notify

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// systemCaller is who the scheduler acts as in the audit trail.
var systemCaller = app.Caller{Actor: domain.Actor{Username: "system", Name: "系统"}, RequestID: "scheduler"}

// maxBatchesPerTick bounds one pass; what is left waits for the next.
const maxBatchesPerTick = 20

// ReleaseScheduler gives up holder's scheduler lease, on a graceful stop: the
// next instance's pass, within one scheduler interval, takes it over instead
// of waiting for the lease to run out.
func (s *Service) ReleaseScheduler(ctx context.Context, holder string) error {
	return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		return r.Leases.Release(ctx, app.SchedulerLease, holder)
	})
}

// Tick runs one scheduler pass as holder (an instance's unique name) at the
// service's clock, if holder gets the lease.
func (s *Service) Tick(ctx context.Context, holder string) (app.SchedulerReport, error) {
	rep := app.SchedulerReport{Raised: map[string]int{}}
	lease := s.cfg.Notify.SchedulerLease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		rep.Leader, err = r.Leases.Acquire(ctx, app.SchedulerLease, holder, now, now.Add(lease))
		return err
	})
	if err != nil || !rep.Leader {
		return rep, err
	}
	defer s.SignalOutbox()
	today := s.core.Today()
	// The list's warning and overdue filters read lights kept for today; if
	// that fails, the next pass tries again and this one still escalates.
	var lightsErr error
	if k, ok := s.store.(LightKeeper); ok {
		if err := k.KeepLights(ctx, today, s.cfg.Deadlines.YellowDays); err != nil {
			lightsErr = fmt.Errorf("keep the lights: %w", err)
		}
	}
	n, m := s.cfg.Deadlines.YellowDays, s.cfg.Notify.EscalateAfterDays
	crossings := []struct {
		kind     string
		from, to domain.Date
	}{
		{app.EscalationApproaching, today, today.AddDays(n)},
		{app.EscalationOverdue, domain.Date{}, today.AddDays(-1)},
		{app.EscalationEscalated, domain.Date{}, today.AddDays(-m - 1)},
	}
	for _, x := range crossings {
		for range maxBatchesPerTick {
			ids, err := s.store.Read().Escalations.Due(ctx, x.kind, x.from, x.to, s.cfg.Notify.BatchSize())
			if err != nil {
				return rep, fmt.Errorf("due %s: %w", x.kind, err)
			}
			raised := 0
			for _, id := range ids {
				ok, err := s.raise(ctx, id, x.kind, x.from, x.to)
				if err != nil {
					return rep, fmt.Errorf("raise %s of problem %d: %w", x.kind, id, err)
				}
				if ok {
					rep.Raised[x.kind]++
					raised++
				}
			}
			if len(ids) < s.cfg.Notify.BatchSize() || raised == 0 {
				break
			}
		}
	}
	for range maxBatchesPerTick {
		rcs, err := s.store.Read().Rechecks.DueUnreminded(ctx, today, s.cfg.Notify.BatchSize())
		if err != nil {
			return rep, fmt.Errorf("due re-checks: %w", err)
		}
		for _, rc := range rcs {
			ok, err := s.remind(ctx, rc)
			if err != nil {
				return rep, fmt.Errorf("remind re-check %d: %w", rc.ID, err)
			}
			if ok {
				rep.Reminded++
			}
		}
		if len(rcs) < s.cfg.Notify.BatchSize() {
			break
		}
	}
	return rep, lightsErr
}

// raise records one crossing, its audit entry and its event in one
// transaction; false when the problem no longer qualifies or another pass raised it.
func (s *Service) raise(ctx context.Context, id int64, kind string, from, to domain.Date) (bool, error) {
	var raised bool
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		raised = false
		today := domain.DateOf(now, s.cfg.Location)
		p, err := r.Problems.Get(ctx, id)
		if err != nil {
			return err
		}
		open := p.Status == domain.StatusAssigned || p.Status == domain.StatusRectifying
		if !open || p.Deadline.IsZero() || p.Deadline.After(to) || (!from.IsZero() && p.Deadline.Before(from)) {
			return nil // acted on since it was listed
		}
		if raised, err = r.Escalations.Raise(ctx, p.ID, kind, p.Deadline, now); err != nil || !raised {
			return err
		}
		days := today.DaysUntil(p.Deadline)
		details := map[string]any{"deadline": p.Deadline.String()}
		ev := event{kind: app.EventDeadlineApproaching, problem: p, details: details}
		who := []int64{p.AssigneeID}
		switch kind {
		case app.EscalationApproaching:
			details["days_left"] = days
			ev.title = "即将到期"
			ev.lines = []string{fmt.Sprintf("整改期限：%s（还剩 %d 天）", p.Deadline, days), "请按期完成整改并提交验收。"}
		case app.EscalationOverdue:
			details["days_overdue"] = -days
			ev.kind, ev.title = app.EventOverdue, "已逾期"
			ev.lines = []string{fmt.Sprintf("整改期限：%s（已逾期 %d 天）", p.Deadline, -days), "请尽快整改，或说明原因。"}
			if ev.to, err = s.workingGroup(ctx, r); err != nil {
				return err
			}
		case app.EscalationEscalated:
			details["days_overdue"] = -days
			ev.kind, ev.title = app.EventEscalated, "升级督办"
			ev.lines = []string{fmt.Sprintf("整改期限：%s（已逾期 %d 天，超过 %d 天）", p.Deadline, -days, s.cfg.Notify.EscalateAfterDays),
				"已升级至单位领导和工作小组督办。"}
			if ev.to, err = s.overseers(ctx, r, p); err != nil {
				return err
			}
		}
		users, err := s.usersByID(ctx, r, who)
		if err != nil {
			return err
		}
		ev.to = append(users, ev.to...)
		entry := s.core.Entry(systemCaller, now, app.Record{Stream: audit.ProblemStream(p.ID), Action: kind, ObjectType: "problem",
			ObjectID: app.IDString(p.ID), From: string(p.Status), To: string(p.Status), Changes: details})
		if err := r.Audit.Append(ctx, entry); err != nil {
			return err
		}
		// The append waited for any action on the problem that was under way
		// (they share its audit stream's head); if one changed it since it was
		// read, this crossing may no longer hold: leave it to the next pass.
		if q, err := r.Problems.Get(ctx, id); err != nil {
			return err
		} else if q.Version != p.Version {
			return errCrossingMoved
		}
		return s.publish(ctx, r, ev, now)
	})
	if errors.Is(err, errCrossingMoved) {
		return false, nil
	}
	return raised, err
}

// errCrossingMoved rolls back a raise whose problem changed meanwhile.
var errCrossingMoved = errors.New("the problem changed while its crossing was raised")

// remind tells the working group that a re-check fell due, once.
func (s *Service) remind(ctx context.Context, rc *app.Recheck) (bool, error) {
	var reminded bool
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		if reminded, err = r.Rechecks.MarkReminded(ctx, rc.ID, now); err != nil || !reminded {
			return err
		}
		p, err := r.Problems.Get(ctx, rc.ProblemID)
		if err != nil {
			return err
		}
		group, err := s.workingGroup(ctx, r)
		if err != nil {
			return err
		}
		return s.publish(ctx, r, event{kind: app.EventRecheckDue, problem: p, to: group, title: "回头看到期",
			lines:   []string{fmt.Sprintf("复查日期：%s（销号后第 %d 天）", rc.DueOn, rc.OffsetDays), "请开展回头看并记录结果。"},
			details: map[string]any{"recheck_id": rc.ID, "due_on": rc.DueOn.String(), "offset_days": rc.OffsetDays}}, now)
	})
	return reminded, err
}
