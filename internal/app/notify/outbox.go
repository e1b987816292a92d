package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/rectify-team/rectify/internal/domain"
)

// OutboxSignal is signalled after events for webhooks were written, so that
// the dispatcher loop need not wait for its next tick.
func (s *Service) OutboxSignal() <-chan struct{} { return s.outboxed }

func (s *Service) SignalOutbox() {
	if s.hooks == nil {
		return
	}
	select {
	case s.outboxed <- struct{}{}:
	default:
	}
}

// Dispatch claims the messages that are due and delivers them, each target's
// in order and the targets side by side. holder names the instance.
func (s *Service) Dispatch(ctx context.Context, holder string) (app.DispatchReport, error) {
	var rep app.DispatchReport
	if s.hooks == nil {
		return rep, nil
	}
	cfg := s.cfg.Notify
	claimFor := cfg.ClaimFor
	if claimFor <= 0 {
		claimFor = time.Minute
	}
	token := holder + "/" + uuid.NewString()[:8]
	var msgs []*app.OutboxMessage
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		msgs, err = r.Outbox.Claim(ctx, token, now, now.Add(claimFor), cfg.BatchSize())
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("claim outbox: %w", err)
	}
	rep.Claimed = len(msgs)
	byTarget := map[string][]*app.OutboxMessage{}
	var order []string
	for _, m := range msgs {
		if _, ok := byTarget[m.Target]; !ok {
			order = append(order, m.Target)
		}
		byTarget[m.Target] = append(byTarget[m.Target], m)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, t := range order {
		wg.Go(func() {
			for _, m := range byTarget[t] {
				if ctx.Err() != nil {
					return // shutting down: the claims run out and another pass sends the rest
				}
				ok, err := s.deliver(ctx, token, m)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case ok:
					rep.Delivered++
				default:
					rep.Failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return rep, errors.Join(errs...)
}

// ReleaseClaims drops the claims an earlier run of this instance left when
// it was killed, so that a restart sends the rest at once instead of after
// the claims run out. Instance names must be unique among running instances:
// one releasing another's live claims makes duplicates (still at least once).
func (s *Service) ReleaseClaims(ctx context.Context, holder string) (int64, error) {
	var n int64
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		n, err = r.Outbox.Release(ctx, holder+"/")
		return err
	})
	return n, err
}

// deliver makes one attempt and records it; ok reports the target acknowledged it.
func (s *Service) deliver(ctx context.Context, token string, m *app.OutboxMessage) (ok bool, err error) {
	var ev app.OutEvent
	sendErr := json.Unmarshal(m.Payload, &ev)
	if sendErr == nil {
		sendErr = s.hooks.Deliver(ctx, m.Target, ev)
	}
	if ctx.Err() != nil {
		return false, nil // not the target's fault: the claim runs out and the message is sent again
	}
	return sendErr == nil, s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		at := now
		if sendErr == nil {
			return r.Outbox.Delivered(ctx, m.ID, token, at)
		}
		reason := app.Truncate(sendErr.Error(), maxOutboxError)
		next := at.Add(s.backoff(m.Attempts + 1))
		s.log.WarnContext(ctx, "webhook delivery failed", "target", m.Target, "event", m.EventID, "kind", m.Kind,
			"attempt", m.Attempts+1, "next_attempt_at", next, "err", reason)
		return r.Outbox.Failed(ctx, m.ID, token, at, next, reason)
	})
}

// maxOutboxError is the outbox's last_error column size.
const maxOutboxError = 1000

// backoff is the delay before attempt n+1 after n failed ones: RetryBase
// doubling per attempt up to RetryMax, with up to 10% jitter so that retries
// of many messages spread out.
func (s *Service) backoff(n int) time.Duration {
	base, most := s.cfg.Notify.RetryBase, s.cfg.Notify.RetryMax
	if base <= 0 {
		base = 10 * time.Second
	}
	if most < base {
		most = base
	}
	d := base
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// Outbox lists the outbox for an admin: what was sent, what is failing and why.
func (s *Service) Outbox(ctx context.Context, c app.Caller, q app.OutboxQuery) ([]*app.OutboxMessage, bool, error) {
	if !c.Actor.Has(domain.RoleAdmin) {
		return nil, false, domain.Forbidden("role_required", "the outbox is for admins")
	}
	if q.Limit <= 0 {
		q.Limit = app.DefaultPageSize
	}
	limit := q.Limit
	q.Limit++
	ms, err := s.store.Read().Outbox.List(ctx, q)
	if err != nil {
		return nil, false, err
	}
	if len(ms) > limit {
		return ms[:limit], true, nil
	}
	return ms, false, nil
}

// RetryOutbox makes an undelivered message due now (after a target was mended).
func (s *Service) RetryOutbox(ctx context.Context, c app.Caller, id int64) (*app.OutboxMessage, error) {
	var out *app.OutboxMessage
	err := s.core.Admin(ctx, c, app.Record{Action: app.ActionOutboxRetry, ObjectType: "outbox", ObjectID: app.IDString(id)}, func(ctx context.Context, r app.Repos, now time.Time, rec *app.Record) error {
		rec.ObjectID = app.IDString(id)
		m, err := r.Outbox.Retry(ctx, id, now)
		if err != nil {
			return err
		}
		rec.Changes = map[string]any{"event_id": m.EventID, "target": m.Target, "attempts": m.Attempts}
		out, rec.Result = m, m
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.SignalOutbox()
	return out, nil
}
