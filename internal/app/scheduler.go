package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// The scheduler: deadlines that bite. One pass (Tick) raises, once per
// crossing of a deadline, "approaching", "overdue" and "escalated" (升级督办),
// each an audit entry and a notification, and reminds the working group of
// re-checks that fell due. Several instances may share a database: a pass runs
// only on the instance that holds the scheduler's lease, and each crossing's
// row (escalations' primary key) makes it once even if two passes overlap.

// NotifyConfig holds the policies of escalation, re-checks and webhook delivery.
type NotifyConfig struct {
	EscalateAfterDays int                       // M: overdue by more than this many days is escalated
	Rechecks          map[domain.Severity][]int // re-checks after closing, in days, by severity
	SchedulerLease    time.Duration             // how long one pass holds the scheduler's lease
	ClaimFor          time.Duration             // how long a dispatcher holds the messages it claimed
	RetryBase         time.Duration             // the first retry's delay; it doubles per attempt
	RetryMax          time.Duration             // the longest delay between attempts
	Batch             int                       // problems, re-checks or messages handled per step
}

// DefaultNotifyConfig: escalate after 7 days overdue; re-check serious
// problems 30 days after closing, critical ones after 30 and 90; retry
// webhooks after 10 s, doubling up to 30 min.
func DefaultNotifyConfig() NotifyConfig {
	return NotifyConfig{
		EscalateAfterDays: 7,
		Rechecks:          map[domain.Severity][]int{domain.SeveritySerious: {30}, domain.SeverityCritical: {30, 90}},
		SchedulerLease:    2 * time.Minute, ClaimFor: time.Minute,
		RetryBase: 10 * time.Second, RetryMax: 30 * time.Minute, Batch: 100,
	}
}

func (c NotifyConfig) batch() int {
	if c.Batch <= 0 {
		return 100
	}
	return c.Batch
}

// SchedulerLease is the lease's name.
const SchedulerLease = "scheduler"

// systemCaller is who the scheduler acts as in the audit trail.
var systemCaller = Caller{Actor: domain.Actor{Username: "system", Name: "系统"}, RequestID: "scheduler"}

// SchedulerReport is what one pass did.
type SchedulerReport struct {
	Leader   bool           // this instance held the lease and did the pass
	Raised   map[string]int // crossings raised, by kind
	Reminded int            // re-check reminders sent
}

// maxBatchesPerTick bounds one pass; what is left waits for the next.
const maxBatchesPerTick = 20

// ReleaseScheduler gives up holder's scheduler lease, on a graceful stop: the
// next instance's pass, within one scheduler interval, takes it over instead
// of waiting for the lease to run out.
func (s *Service) ReleaseScheduler(ctx context.Context, holder string) error {
	return s.store.Tx(ctx, func(r Repos) error { return r.Leases.Release(ctx, SchedulerLease, holder) })
}

// Tick runs one scheduler pass as holder (an instance's unique name) at the
// service's clock, if holder gets the lease.
func (s *Service) Tick(ctx context.Context, holder string) (SchedulerReport, error) {
	rep := SchedulerReport{Raised: map[string]int{}}
	lease := s.cfg.Notify.SchedulerLease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	err := s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
		var err error
		rep.Leader, err = r.Leases.Acquire(ctx, SchedulerLease, holder, now, now.Add(lease))
		return err
	})
	if err != nil || !rep.Leader {
		return rep, err
	}
	defer s.signalOutbox()
	today := s.Today()
	// The list's warning and overdue filters read lights kept for today; if
	// that fails, the next pass tries again and this one still escalates.
	var lightsErr error
	if k, ok := s.store.(interface {
		KeepLights(context.Context, domain.Date, int) error
	}); ok {
		if err := k.KeepLights(ctx, today, s.cfg.Deadlines.YellowDays); err != nil {
			lightsErr = fmt.Errorf("keep the lights: %w", err)
		}
	}
	n, m := s.cfg.Deadlines.YellowDays, s.cfg.Notify.EscalateAfterDays
	crossings := []struct {
		kind     string
		from, to domain.Date
	}{
		{EscalationApproaching, today, today.AddDays(n)},
		{EscalationOverdue, domain.Date{}, today.AddDays(-1)},
		{EscalationEscalated, domain.Date{}, today.AddDays(-m - 1)},
	}
	for _, x := range crossings {
		for range maxBatchesPerTick {
			ids, err := s.store.Read().Escalations.Due(ctx, x.kind, x.from, x.to, s.cfg.Notify.batch())
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
			if len(ids) < s.cfg.Notify.batch() || raised == 0 {
				break
			}
		}
	}
	for range maxBatchesPerTick {
		rcs, err := s.store.Read().Rechecks.DueUnreminded(ctx, today, s.cfg.Notify.batch())
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
		if len(rcs) < s.cfg.Notify.batch() {
			break
		}
	}
	return rep, lightsErr
}

// raise records one crossing, its audit entry and its event in one
// transaction; false when the problem no longer qualifies or another pass raised it.
func (s *Service) raise(ctx context.Context, id int64, kind string, from, to domain.Date) (bool, error) {
	var raised bool
	err := s.store.Tx(ctx, func(r Repos) error {
		raised = false
		now := s.now()
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
		ev := event{kind: EventDeadlineApproaching, problem: p, details: details}
		who := []int64{p.AssigneeID}
		switch kind {
		case EscalationApproaching:
			details["days_left"] = days
			ev.title = "即将到期"
			ev.lines = []string{fmt.Sprintf("整改期限：%s（还剩 %d 天）", p.Deadline, days), "请按期完成整改并提交验收。"}
		case EscalationOverdue:
			details["days_overdue"] = -days
			ev.kind, ev.title = EventOverdue, "已逾期"
			ev.lines = []string{fmt.Sprintf("整改期限：%s（已逾期 %d 天）", p.Deadline, -days), "请尽快整改，或说明原因。"}
			if ev.to, err = s.workingGroup(ctx, r); err != nil {
				return err
			}
		case EscalationEscalated:
			details["days_overdue"] = -days
			ev.kind, ev.title = EventEscalated, "升级督办"
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
		entry := s.entry(systemCaller, now, record{stream: audit.ProblemStream(p.ID), action: kind, objectType: "problem",
			objectID: idString(p.ID), from: string(p.Status), to: string(p.Status), changes: details})
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
func (s *Service) remind(ctx context.Context, rc *Recheck) (bool, error) {
	var reminded bool
	err := s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
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
		return s.publish(ctx, r, event{kind: EventRecheckDue, problem: p, to: group, title: "回头看到期",
			lines:   []string{fmt.Sprintf("复查日期：%s（销号后第 %d 天）", rc.DueOn, rc.OffsetDays), "请开展回头看并记录结果。"},
			details: map[string]any{"recheck_id": rc.ID, "due_on": rc.DueOn.String(), "offset_days": rc.OffsetDays}}, now)
	})
	return reminded, err
}
