package stats

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Month is a calendar month in the organisation's time zone, such as 2026-03.
type Month struct {
	Year  int
	Month time.Month
}

var monthPattern = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseMonth parses YYYY-MM strictly.
func ParseMonth(s string) (Month, error) {
	m := monthPattern.FindStringSubmatch(s)
	if m == nil {
		return Month{}, fmt.Errorf("%q is not a month of the form YYYY-MM", s)
	}
	y, _ := strconv.Atoi(m[1])
	mon, _ := strconv.Atoi(m[2])
	if y < 1900 || mon < 1 || mon > 12 {
		return Month{}, fmt.Errorf("%q is not a month of the form YYYY-MM", s)
	}
	return Month{Year: y, Month: time.Month(mon)}, nil
}

// MonthOf returns the month of a date.
func MonthOf(d domain.Date) Month {
	t, _ := time.Parse(time.DateOnly, d.String())
	return Month{Year: t.Year(), Month: t.Month()}
}

// String renders YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Prev returns the month before.
func (m Month) Prev() Month {
	if m.Month == time.January {
		return Month{Year: m.Year - 1, Month: time.December}
	}
	return Month{Year: m.Year, Month: m.Month - 1}
}

// Next returns the month after.
func (m Month) Next() Month {
	if m.Month == time.December {
		return Month{Year: m.Year + 1, Month: time.January}
	}
	return Month{Year: m.Year, Month: m.Month + 1}
}

// First returns the month's first day.
func (m Month) First() domain.Date { return domain.NewDate(m.Year, m.Month, 1) }

// Last returns the month's last day.
func (m Month) Last() domain.Date { return m.Next().First().AddDays(-1) }

// Start returns the instant the month begins in loc.
func (m Month) Start(loc *time.Location) time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, loc)
}

// End returns the instant the month ends in loc (the next month's start; exclusive).
func (m Month) End(loc *time.Location) time.Time { return m.Next().Start(loc) }

// Before reports whether m is earlier than n.
func (m Month) Before(n Month) bool {
	return m.Year < n.Year || (m.Year == n.Year && m.Month < n.Month)
}

// DayStart returns the instant date d begins in loc.
func DayStart(d domain.Date, loc *time.Location) time.Time {
	t, _ := time.Parse(time.DateOnly, d.String())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// Weekday returns the day of the week of d.
func Weekday(d domain.Date) time.Weekday {
	t, _ := time.Parse(time.DateOnly, d.String())
	return t.Weekday()
}

// Granularity is the length of a trend period.
type Granularity string

// Trend granularities.
const (
	ByWeek  Granularity = "week"
	ByMonth Granularity = "month"
)

// Period is one bar of a trend: [Start, End) in dates.
type Period struct {
	Label string      // 2026-W10 (ISO week) or 2026-03
	Start domain.Date // first day
	End   domain.Date // the day after the last
}

// PeriodOf returns the period of granularity g that contains d. Weeks run
// Monday to Sunday and are labelled by ISO week number.
func PeriodOf(g Granularity, d domain.Date) Period {
	if g == ByMonth {
		m := MonthOf(d)
		return Period{Label: m.String(), Start: m.First(), End: m.Next().First()}
	}
	offset := (int(Weekday(d)) + 6) % 7 // days since Monday
	start := d.AddDays(-offset)
	t, _ := time.Parse(time.DateOnly, start.String())
	y, w := t.ISOWeek()
	return Period{Label: fmt.Sprintf("%04d-W%02d", y, w), Start: start, End: start.AddDays(7)}
}

// Periods lists the consecutive periods from the one containing from to the
// one containing to, inclusive.
func Periods(g Granularity, from, to domain.Date) []Period {
	var out []Period
	for p := PeriodOf(g, from); !p.Start.After(to); p = PeriodOf(g, p.End) {
		out = append(out, p)
	}
	return out
}

// Working days are Monday to Friday. Public holidays and the weekend days
// swapped for them (调休) are not modelled: see docs/board.md.

// IsWorkingDay reports whether d is Monday to Friday.
func IsWorkingDay(d domain.Date) bool {
	wd := Weekday(d)
	return wd != time.Saturday && wd != time.Sunday
}

// NextWorkingDay returns the first working day strictly after d.
func NextWorkingDay(d domain.Date) domain.Date {
	n := d.AddDays(1)
	for !IsWorkingDay(n) {
		n = n.AddDays(1)
	}
	return n
}

// AcceptanceLimit is the last day on which a problem assigned on d is accepted
// "within one working day": the end of the first working day after d.
func AcceptanceLimit(assigned domain.Date) domain.Date { return NextWorkingDay(assigned) }

// AcceptedLate reports whether a problem assigned on assigned and accepted
// on accepted missed the one-working-day limit, and by how many calendar days.
func AcceptedLate(assigned, accepted domain.Date) (bool, int) {
	limit := AcceptanceLimit(assigned)
	if !accepted.After(limit) {
		return false, 0
	}
	return true, limit.DaysUntil(accepted)
}
