package board

import (
	"context"
	"errors"
	"github.com/rectify-team/rectify/internal/app"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// AwardContribution records an award (verifiers only, never to oneself),
// audited in the same transaction. A published month takes no more awards.
func (s *Service) AwardContribution(ctx context.Context, c app.Caller, in app.ContributionInput) (*app.Contribution, error) {
	var out *app.Contribution
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionContributionAward, ObjectType: app.ObjectContribution}
	err := func() error {
		if err := app.RequireRole(c.Actor, app.ActionContributionAward, domain.RoleVerifier); err != nil {
			return err
		}
		month := stats.MonthOf(s.core.Today())
		var v domain.Validator
		if in.Month != "" {
			m, err := stats.ParseMonth(in.Month)
			if err != nil {
				v.Add("month", "%s", err.Error())
			} else if err := s.checkMonth("month", m); err != nil {
				return err
			}
			month = m
		}
		v.Check((in.UserID > 0) != (in.UnitID > 0), "user_id", "name either a user (user_id) or a unit (unit_id)")
		v.Check(in.Points >= app.MinContributionPoints && in.Points <= app.MaxContributionPoints, "points",
			"must be a whole number from %d to %d", app.MinContributionPoints, app.MaxContributionPoints)
		v.Text("reason", in.Reason, true, domain.MaxReason)
		if err := v.Err(); err != nil {
			return err
		}
		if in.UserID == c.Actor.UserID {
			return domain.Forbidden("four_eyes", "nobody awards contribution points to themselves")
		}
		return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
			if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
				return err
			}
			if _, err := r.Publications.Get(ctx, month.String()); err == nil {
				return domain.Conflict("the evaluation of %s is published; award the points to a later month", month)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			x := &app.Contribution{Month: month.String(), UserID: in.UserID, UnitID: in.UnitID, Points: in.Points,
				Reason: strings.TrimSpace(in.Reason), AwardedBy: c.Actor.UserID, CreatedAt: now}
			if in.UserID > 0 {
				u, err := r.Users.Get(ctx, in.UserID)
				if err != nil {
					return app.FilterError(err, "user_id", "no user has id %d", in.UserID)
				}
				x.UnitID = u.UnitID
			} else if _, err := r.Units.Get(ctx, in.UnitID); err != nil {
				return app.FilterError(err, "unit_id", "no unit has id %d", in.UnitID)
			}
			if err := r.Contributions.Create(ctx, x); err != nil {
				return err
			}
			rec := rec
			rec.Stream, rec.ObjectID = contributionStreamPrefix+x.Month, app.IDString(x.ID)
			rec.Changes = map[string]any{"month": x.Month, "user_id": x.UserID, "unit_id": x.UnitID, "points": x.Points,
				"reason": x.Reason}
			out = x
			if err := r.Audit.Append(ctx, s.core.Entry(c, now, rec)); err != nil {
				return err
			}
			return s.core.KeepResult(ctx, r, c, x)
		})
	}()
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		if app.Refusable(err) && !errors.Is(err, app.ErrReplayed) {
			s.core.AuditRefusal(ctx, c, rec, err)
		}
		return nil, err
	}
	return out, nil
}

// Contributions lists awards, newest first (verifiers and leaders).
func (s *Service) Contributions(ctx context.Context, c app.Caller, q app.ContributionQuery) ([]*app.Contribution, error) {
	if err := app.RequireRole(c.Actor, "the contribution list", domain.RoleVerifier, domain.RoleLeader); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = app.DefaultPageSize
	}
	return s.store.Read().Contributions.List(ctx, q)
}
