package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// BoardInput filters the board (作风看板) and the trend as the caller gives them.
type BoardInput struct {
	UnitID     int64 // the unit and its subtree
	CategoryID int64 // the category and its subtree
	Severities []domain.Severity
	Sources    []domain.Source
	From       time.Time // registered at or after; zero: no bound
	To         time.Time // registered before; zero: no bound
}

// NodeCount is one unit's or category's line of the board: the figures of its subtree.
type NodeCount struct {
	ID          int64
	ParentID    int64
	Code        string // categories only
	Name        string
	Total       int64
	Closed      int64
	Dismissed   int64
	Overdue     int64
	ClosureRate *float64
}

// WarningCounts are the traffic lights (红黄绿灯) of the board's problems.
type WarningCounts struct{ Green, Yellow, Red int64 }

// Overview is the board. Rates are nil when their denominator is zero.
type Overview struct {
	AsOf       domain.Date
	Total      int64
	ByStatus   map[domain.Status]int64
	BySeverity map[domain.Severity]int64
	BySource   map[domain.Source]int64
	ByCategory []NodeCount
	ByUnit     []NodeCount
	Overdue    int64
	Warning    WarningCounts

	Closed         int64
	ClosedOnTime   int64
	ClosureRate    *float64 // closed ÷ (total − dismissed)
	OnTimeRate     *float64 // closed on time ÷ closed
	AvgDaysToClose *float64 // registration to 销号, over closed problems
	P90DaysToClose *float64 // nearest rank
	Reworked       int64    // sent back at least once
	ReworkRate     *float64 // reworked ÷ problems with a verification decision
	Reopened       int64    // reopened (回头看) at least once
	ReopenRate     *float64 // reopened ÷ problems ever closed
	Extensions     int64    // approved extensions

	RecheckHeld     int64    // re-checks (回头看) that found the fix holding
	RecheckRelapsed int64    // re-checks that found the problem back
	RelapseRate     *float64 // relapsed ÷ recorded re-checks
}

// boardFilter resolves the caller's scope and the filter's unit and category.
func (s *Service) boardFilter(ctx context.Context, c Caller, in BoardInput) (BoardFilter, error) {
	f := BoardFilter{Scope: ScopeOf(c.Actor), Severities: in.Severities, Sources: in.Sources,
		CreatedFrom: in.From, CreatedTo: in.To}
	r := s.store.Read()
	var v domain.Validator
	if in.UnitID > 0 {
		u, err := r.Units.Get(ctx, in.UnitID)
		if err != nil {
			if err := filterError(err, "unit_id", "no unit has id %d", in.UnitID); err != nil {
				return f, err
			}
		} else {
			f.UnitPath = u.Path
		}
	}
	if in.CategoryID > 0 {
		cat, err := r.Categories.Get(ctx, in.CategoryID)
		if err != nil {
			if err := filterError(err, "category_id", "no category has id %d", in.CategoryID); err != nil {
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
func (s *Service) Overview(ctx context.Context, c Caller, in BoardInput) (*Overview, error) {
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
	today := s.Today()
	idx, unlock, err := s.index(ctx)
	if err != nil {
		return nil, err
	}
	t := idx.overviewSums(&m, today, today.AddDays(s.cfg.Deadlines.YellowDays))
	unlock()
	o := &Overview{AsOf: today, ByStatus: map[domain.Status]int64{}, BySeverity: map[domain.Severity]int64{},
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
	o.Warning = WarningCounts{Green: t.openGreen + t.closedOnTime, Yellow: t.yellow, Red: t.overdue + t.closedLate}
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
	unitPaths, unitNodes := map[int64]string{}, map[int64]NodeCount{}
	for _, u := range units {
		unitPaths[u.ID] = u.Path
		unitNodes[u.ID] = NodeCount{ID: u.ID, ParentID: u.ParentID, Name: u.Name}
	}
	o.ByUnit = treeLines(stats.RollUp(unitPaths, t.byUnit, addInto), unitNodes, unitPaths)
	catPaths, catNodes := map[int64]string{}, map[int64]NodeCount{}
	for _, cat := range cats {
		catPaths[cat.ID] = cat.Path
		catNodes[cat.ID] = NodeCount{ID: cat.ID, ParentID: cat.ParentID, Code: cat.Code, Name: cat.Name}
	}
	o.ByCategory = treeLines(stats.RollUp(catPaths, t.byCategory, addInto), catNodes, catPaths)
	return o, nil
}

func addNode(a, b NodeCount) NodeCount {
	a.Total += b.Total
	a.Closed += b.Closed
	a.Dismissed += b.Dismissed
	a.Overdue += b.Overdue
	return a
}

func addInto(dst *NodeCount, src NodeCount) { *dst = addNode(*dst, src) }

// treeLines names the rolled-up figures and orders them as the tree is drawn
// (by materialised path); nodes without problems are left out.
func treeLines(sums map[int64]NodeCount, nodes map[int64]NodeCount, paths map[int64]string) []NodeCount {
	out := make([]NodeCount, 0, len(sums))
	for id, sum := range sums {
		n, ok := nodes[id]
		if !ok || sum.Total == 0 {
			continue
		}
		n.Total, n.Closed, n.Dismissed, n.Overdue = sum.Total, sum.Closed, sum.Dismissed, sum.Overdue
		n.ClosureRate = stats.Rate(n.Closed, n.Total-n.Dismissed)
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b NodeCount) int { return strings.Compare(paths[a.ID], paths[b.ID]) })
	return out
}

// TrendInput asks for the trend: the board's filter (its registration bounds
// aside), the period length and the first and last day to cover.
type TrendInput struct {
	Filter BoardInput
	By     stats.Granularity
	From   domain.Date // zero: eleven periods before the current one
	To     domain.Date // zero: today
}

// TrendPeriod is one bar of the trend.
type TrendPeriod struct {
	stats.Period
	Registered int64 // registered in the period
	Closed     int64 // closed in the period (and still closed)
	Dismissed  int64 // dismissed in the period
	Overdue    int64 // deadlines in the period that were missed
	Backlog    int64 // registered by the period's end and neither closed nor dismissed by then
}

// Trend limits: how many periods one answer may hold.
const (
	MaxTrendWeeks  = 104
	MaxTrendMonths = 60
)

// Trend is the campaign's burn-down: per week or month, registered against
// closed and missed deadlines, and the backlog left at each period's end.
func (s *Service) Trend(ctx context.Context, c Caller, in TrendInput) ([]TrendPeriod, error) {
	in.Filter.From, in.Filter.To = time.Time{}, time.Time{}
	f, err := s.boardFilter(ctx, c, in.Filter)
	if err != nil {
		return nil, err
	}
	today := s.Today()
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
	limit := MaxTrendMonths
	if in.By == stats.ByWeek {
		limit = MaxTrendWeeks
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
	out := make([]TrendPeriod, len(periods))
	for i, p := range periods {
		backlog += reg[i] - closed[i] - dismissed[i]
		out[i] = TrendPeriod{Period: p, Registered: reg[i], Closed: closed[i], Dismissed: dismissed[i], Overdue: missed[i],
			Backlog: backlog}
	}
	return out, nil
}
