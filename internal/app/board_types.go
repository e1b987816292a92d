package app

import (
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
