package board

import (
	"context"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// boardFilter resolves the caller's scope and the filter's unit and category.
func (s *Service) boardFilter(ctx context.Context, c app.Caller, in app.BoardInput) (app.BoardFilter, error) {
	f := app.BoardFilter{Scope: app.ScopeOf(c.Actor), Severities: in.Severities, Sources: in.Sources,
		CreatedFrom: in.From, CreatedTo: in.To}
	r := s.store.Read()
	var v domain.Validator
	if in.UnitID > 0 {
		u, err := r.Units.Get(ctx, in.UnitID)
		if err != nil {
			if err := app.FilterError(err, "unit_id", "no unit has id %d", in.UnitID); err != nil {
				return f, err
			}
		} else {
			f.UnitPath = u.Path
		}
	}
	if in.CategoryID > 0 {
		cat, err := r.Categories.Get(ctx, in.CategoryID)
		if err != nil {
			if err := app.FilterError(err, "category_id", "no category has id %d", in.CategoryID); err != nil {
				return f, err
			}
		} else {
			f.CategoryPath = cat.Path
		}
	}
	v.Check(in.From.IsZero() || in.To.IsZero() || in.From.Before(in.To), "to", "must be later than from")
	return f, v.Err()
}

// Overview computes the board over the problems the caller may see, from
// the board's index (boardindex.go).
func (s *Service) Overview(ctx context.Context, c app.Caller, in app.BoardInput) (*app.Overview, error) {
	f, err := s.boardFilter(ctx, c, in)
	if err != nil {
		return nil, err
	}
	m, err := s.boardMatch(ctx, f)
	if err != nil {
		return nil, err
	}
	r := s.store.Read()
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, err
	}
	cats, err := r.Categories.List(ctx)
	if err != nil {
		return nil, err
	}
	today := s.core.Today()
	idx, unlock, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	t := idx.overviewSums(&m, today, today.AddDays(s.cfg.Deadlines.YellowDays))
	unlock()
	o := &app.Overview{AsOf: today, ByStatus: map[domain.Status]int64{}, BySeverity: map[domain.Severity]int64{},
		BySource: map[domain.Source]int64{}}
	for i, st := range domain.Statuses() {
		o.ByStatus[st] = t.byStatus[i]
		o.Total += t.byStatus[i]
	}
	for i, sv := range domain.Severities() {
		o.BySeverity[sv] = t.bySeverity[i]
	}
	for i, src := range domain.Sources() {
		o.BySource[src] = t.bySource[i]
	}
	o.Overdue, o.Closed, o.ClosedOnTime = t.overdue, o.ByStatus[domain.StatusClosed], t.closedOnTime
	o.Warning = app.WarningCounts{Green: t.openGreen + t.closedOnTime, Yellow: t.yellow, Red: t.overdue + t.closedLate}
	o.Reworked, o.Reopened, o.Extensions = t.reworked, t.reopened, t.extensions
	o.ClosureRate = stats.Rate(o.Closed, o.Total-o.ByStatus[domain.StatusDismissed])
	o.OnTimeRate = stats.Rate(o.ClosedOnTime, o.Closed)
	o.ReworkRate = stats.Rate(o.Reworked, t.verified)
	o.ReopenRate = stats.Rate(o.Reopened, t.everClosed)
	if o.RecheckHeld, o.RecheckRelapsed, err = s.relapseRate(ctx, f); err != nil {
		return nil, err
	}
	o.RelapseRate = stats.Rate(o.RecheckRelapsed, o.RecheckHeld+o.RecheckRelapsed)
	o.AvgDaysToClose, o.P90DaysToClose = t.avgDaysToClose, t.p90DaysToClose
	unitPaths, unitNodes := map[int64]string{}, map[int64]app.NodeCount{}
	for _, u := range units {
		unitPaths[u.ID] = u.Path
		unitNodes[u.ID] = app.NodeCount{ID: u.ID, ParentID: u.ParentID, Name: u.Name}
	}
	o.ByUnit = treeLines(stats.RollUp(unitPaths, t.byUnit, addInto), unitNodes, unitPaths)
	catPaths, catNodes := map[int64]string{}, map[int64]app.NodeCount{}
	for _, cat := range cats {
		catPaths[cat.ID] = cat.Path
		catNodes[cat.ID] = app.NodeCount{ID: cat.ID, ParentID: cat.ParentID, Code: cat.Code, Name: cat.Name}
	}
	o.ByCategory = treeLines(stats.RollUp(catPaths, t.byCategory, addInto), catNodes, catPaths)
	return o, nil
}

func addNode(a, b app.NodeCount) app.NodeCount {
	a.Total += b.Total
	a.Closed += b.Closed
	a.Dismissed += b.Dismissed
	a.Overdue += b.Overdue
	return a
}

func addInto(dst *app.NodeCount, src app.NodeCount) { *dst = addNode(*dst, src) }

// treeLines names the rolled-up figures and orders them as the tree is drawn
// (by materialised path); nodes without problems are left out.
func treeLines(sums map[int64]app.NodeCount, nodes map[int64]app.NodeCount, paths map[int64]string) []app.NodeCount {
	out := make([]app.NodeCount, 0, len(sums))
	for id, sum := range sums {
		n, ok := nodes[id]
		if !ok || sum.Total == 0 {
			continue
		}
		n.Total, n.Closed, n.Dismissed, n.Overdue = sum.Total, sum.Closed, sum.Dismissed, sum.Overdue
		n.ClosureRate = stats.Rate(n.Closed, n.Total-n.Dismissed)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b app.NodeCount) int { return strings.Compare(paths[a.ID], paths[b.ID]) })
	return out
}

// Trend is the campaign's burn-down: per week or month, registered against
// closed and missed deadlines, and the backlog left at each period's end.
func (s *Service) Trend(ctx context.Context, c app.Caller, in app.TrendInput) ([]app.TrendPeriod, error) {
	in.Filter.From, in.Filter.To = time.Time{}, time.Time{}
	f, err := s.boardFilter(ctx, c, in.Filter)
	if err != nil {
		return nil, err
	}
	today := s.core.Today()
	if in.By == "" {
		in.By = stats.ByMonth
	}
	if in.By != stats.ByWeek && in.By != stats.ByMonth {
		return nil, domain.Invalid("by", "must be week or month")
	}
	if in.To.IsZero() {
		in.To = today
	}
	if in.From.IsZero() {
		p := stats.PeriodOf(in.By, in.To)
		for range 11 {
			p = stats.PeriodOf(in.By, p.Start.AddDays(-1))
		}
		in.From = p.Start
	}
	if in.To.Before(in.From) {
		return nil, domain.Invalid("to", "must not be before from")
	}
	periods := stats.Periods(in.By, in.From, in.To)
	limit := app.MaxTrendMonths
	if in.By == stats.ByWeek {
		limit = app.MaxTrendWeeks
	}
	if len(periods) > limit {
		return nil, domain.Invalid("from", "the range holds %d %ss; at most %d", len(periods), in.By, limit)
	}
	var instants []time.Time
	var dates []domain.Date
	for i, p := range periods {
		if i == 0 {
			instants = append(instants, stats.DayStart(p.Start, s.cfg.Location))
			dates = append(dates, p.Start)
		}
		instants = append(instants, stats.DayStart(p.End, s.cfg.Location))
		dates = append(dates, p.End)
	}
	m, err := s.boardMatch(ctx, f)
	if err != nil {
		return nil, err
	}
	idx, unlock, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	reg, closed, dismissed, missed, backlog := idx.trend(&m, instants, dates, today)
	unlock()
	out := make([]app.TrendPeriod, len(periods))
	for i, p := range periods {
		backlog += reg[i] - closed[i] - dismissed[i]
		out[i] = app.TrendPeriod{Period: p, Registered: reg[i], Closed: closed[i], Dismissed: dismissed[i], Overdue: missed[i],
			Backlog: backlog}
	}
	return out, nil
}

// relapseRate is relapsed ÷ recorded re-checks over the board's problems.
func (s *Service) relapseRate(ctx context.Context, f app.BoardFilter) (held, relapsed int64, err error) {
	held, relapsed, err = s.store.Read().Rechecks.Outcomes(ctx, f)
	if err != nil {
		return 0, 0, fmt.Errorf("re-check outcomes: %w", err)
	}
	return held, relapsed, nil
}
