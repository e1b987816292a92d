package app

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// ParseProblemFilter reads the problem list's filters from a query, the same
// for every face: multi-valued filters take repeated parameters or
// comma-separated values; registration bounds are an RFC 3339 time or a date
// in loc (an upper date includes its day). Paging (limit, cursor) is the
// face's own. A bad value is a ValidationError naming the parameter.
func ParseProblemFilter(q url.Values, loc *time.Location) (ProblemFilter, error) {
	var f ProblemFilter
	multi := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	for _, s := range multi("status") {
		if !domain.Status(s).Valid() {
			return f, domain.Invalid("status", "unknown status %s", strconv.Quote(s))
		}
		f.Statuses = append(f.Statuses, domain.Status(s))
	}
	for _, s := range multi("severity") {
		if !domain.Severity(s).Valid() {
			return f, domain.Invalid("severity", "unknown severity %s", strconv.Quote(s))
		}
		f.Severities = append(f.Severities, domain.Severity(s))
	}
	for _, s := range multi("source") {
		if !domain.Source(s).Valid() {
			return f, domain.Invalid("source", "unknown source %s", strconv.Quote(s))
		}
		f.Sources = append(f.Sources, domain.Source(s))
	}
	for _, s := range multi("warning") {
		if !domain.WarningLevel(s).Valid() {
			return f, domain.Invalid("warning", "must be green, yellow or red")
		}
		f.Warnings = append(f.Warnings, domain.WarningLevel(s))
	}
	ids := map[string]*int64{"category_id": &f.CategoryID, "unit_id": &f.UnitID, "assignee_id": &f.AssigneeID}
	for name, dst := range ids {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return f, domain.Invalid(name, "must be a positive integer id")
			}
			*dst = n
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, domain.Invalid("overdue", "must be true or false")
		}
		f.Overdue = &b
	}
	f.Text = strings.TrimSpace(q.Get("q"))
	if len([]rune(f.Text)) > 100 {
		return f, domain.Invalid("q", "is longer than 100 characters")
	}
	var err error
	for name, dst := range map[string]*domain.Date{"deadline_from": &f.DeadlineFrom, "deadline_to": &f.DeadlineTo} {
		if v := q.Get(name); v != "" {
			if *dst, err = domain.ParseDate(v); err != nil {
				return f, domain.Invalid(name, "%s", err.Error())
			}
		}
	}
	if f.CreatedFrom, err = ParseInstant("created_from", q.Get("created_from"), loc, false); err != nil {
		return f, err
	}
	if f.CreatedTo, err = ParseInstant("created_to", q.Get("created_to"), loc, true); err != nil {
		return f, err
	}
	return f, nil
}

// ParseInstant reads an RFC 3339 time, or a date meaning the start of that day in
// the organisation's zone (for an upper bound: the start of the next day, so
// that the named day is included).
func ParseInstant(field, v string, loc *time.Location, upper bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		return time.Time{}, domain.Invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 time")
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
