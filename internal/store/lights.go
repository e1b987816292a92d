package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/rectify-team/rectify/internal/domain"
)

// The lights: each problem's traffic light (domain.Problem.Warning) as of one
// day, in the column problems.light, so that the list's warning and overdue
// filters walk an index in id order instead of each open status past every
// problem not yet due.
//
// The day, and the yellow days the lights were computed with, are the one
// row of problem_lights. Every write that changes what a light depends on
// (status, deadline, closed on time, milestones) computes the row's light in
// SQL for that day, in its own statement (a subquery reads the day), so a
// write never needs to know it. The scheduler's pass (KeepLights) moves the
// day to today: first the day (writes compute for the new day from then on),
// then the rows whose light a passing day can change, then ready. For data
// that does not change, a light only rises as days pass (green, yellow, red;
// none and a closed problem's stay), so the rows whose light may differ
// between day a and a later day b are the open ones whose deadline lies in
// [a, b) (now red) or in (a+Y, b+Y] (now yellow), and those with a milestone
// not done due in [a, b) (now behind): a few index ranges a day. Each pass
// checks the last move's rows again, so that a write that read the old day
// just before the move and committed after its rows were recomputed is
// corrected within one pass. A longer gap, another number of yellow days or a
// day before the last recomputes every row, five thousand at a time.
//
// The list uses the column only when ready and computed for its own today
// and yellow days; otherwise it filters on the deadline and milestones as
// before (slower, the same rows).

// lightsMaxDays bounds the days one move walks day by day; a longer gap
// recomputes every row.
const lightsMaxDays = 62

// lightOpenSQL is the light of an open problem with a deadline as of the
// lights' day (s.as_of, s.yellow_end in problem_lights s), from the SQL of
// its deadline and id.
func lightOpenSQL(deadline, id string) string {
	return "CASE WHEN " + deadline + " < s.as_of THEN 'red' WHEN " + deadline + " <= s.yellow_end OR EXISTS (SELECT 1 FROM milestones m WHERE m.problem_id = " +
		id + " AND m.done = FALSE AND m.due < s.as_of) THEN 'yellow' ELSE 'green' END"
}

// lightRowSQL is the light of problem p as of the lights' day, as
// domain.Problem.Warning defines it: a closed problem keeps whether it closed
// on time, registered and dismissed ones and those without a deadline have
// none.
var lightRowSQL = "(SELECT CASE WHEN p.status = '" + string(domain.StatusClosed) + "' AND p.closed_on_time IS NOT NULL THEN " +
	"CASE WHEN p.closed_on_time THEN 'green' ELSE 'red' END " +
	"WHEN p.status NOT IN ('" + strings.Join(openStatuses, "', '") + "') OR p.deadline IS NULL THEN '' ELSE " +
	lightOpenSQL("p.deadline", "p.id") + " END FROM problem_lights s)"

// lightOfDay reports whether p's light depends on the lights' day (an open
// problem with a deadline); the update then computes it in SQL.
func lightOfDay(p *domain.Problem) bool { return p.Status.Open() && !p.Deadline.IsZero() }

// lightValue is the light a write of p gives problems.light when it does not
// depend on the day (lightOfDay is false).
func lightValue(p *domain.Problem) string {
	switch {
	case p.Status == domain.StatusClosed && p.ClosedOnTime != nil:
		if *p.ClosedOnTime {
			return string(domain.WarningGreen)
		}
		return string(domain.WarningRed)
	}
	return string(domain.WarningNone)
}

// hasLight reports whether p's light may be other than none, so that a new
// row (whose column says none) needs its light computed.
func hasLight(p *domain.Problem) bool {
	return p.Status == domain.StatusClosed && p.ClosedOnTime != nil || p.Status.Open() && !p.Deadline.IsZero()
}

// relight computes the lights of the problems with the given ids.
func (b base) relight(ctx context.Context, ids []int64) error {
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		if err := b.db(ctx).Exec("UPDATE problems AS p SET light = "+lightRowSQL+" WHERE p.id IN ?", part).Error; err != nil {
			return fmt.Errorf("problem lights: %w", err)
		}
	}
	return nil
}

// lightsReadySQL counts 1 when the lights are computed for a day and a number
// of yellow days (the arguments), else 0.
const lightsReadySQL = "SELECT COUNT(*) FROM problem_lights WHERE ready = TRUE AND as_of = ? AND yellow_days = ?"

type lightsState struct {
	AsOf, Prev *string
	YellowDays int
	Ready      bool
}

// KeepLights brings the lights to day today with yellowDays yellow days
// (the scheduler's pass, once per tick; see above). Passes must not overlap:
// the scheduler's lease sees to it.
func (db *DB) KeepLights(ctx context.Context, today domain.Date, yellowDays int) error {
	g := db.gorm.WithContext(ctx)
	var st lightsState
	// The dates as text on both databases.
	if err := g.Raw("SELECT " + db.dateText("as_of") + " AS as_of, " + db.dateText("prev") + " AS prev, yellow_days, ready FROM problem_lights").
		Scan(&st).Error; err != nil {
		return fmt.Errorf("problem lights: %w", err)
	}
	var asOf domain.Date
	if st.AsOf != nil {
		d, err := domain.ParseDate(*st.AsOf)
		if err != nil {
			return fmt.Errorf("problem lights: day %q: %w", *st.AsOf, err)
		}
		asOf = d
	}
	yellowEnd := today.AddDays(yellowDays).String()
	full := asOf.IsZero() || st.YellowDays != yellowDays || today.Before(asOf) || asOf.DaysUntil(today) > lightsMaxDays
	if !full && asOf == today && st.Ready {
		if st.Prev == nil {
			return nil
		}
		prev, err := domain.ParseDate(*st.Prev)
		if err != nil {
			return fmt.Errorf("problem lights: day %q: %w", *st.Prev, err)
		}
		return db.relightCrossings(ctx, prev, today, yellowDays)
	}
	var prev any
	if !full && asOf != today {
		prev = asOf.String()
	}
	if err := db.lightsExec(ctx, "UPDATE problem_lights SET as_of = ?, prev = ?, yellow_days = ?, yellow_end = ?, ready = FALSE",
		today.String(), prev, yellowDays, yellowEnd); err != nil {
		return fmt.Errorf("problem lights: %w", err)
	}
	var err error
	switch {
	case full:
		err = db.relightAll(ctx)
	case asOf != today:
		err = db.relightCrossings(ctx, asOf, today, yellowDays)
	}
	if err != nil {
		return err
	}
	if err := db.lightsExec(ctx, "UPDATE problem_lights SET ready = TRUE WHERE as_of = ?", today.String()); err != nil {
		return fmt.Errorf("problem lights: %w", err)
	}
	return nil
}

// dateText is the SQL of a DATE column as YYYY-MM-DD text.
func (db *DB) dateText(col string) string { return db.dia().dateText(col) }

// relightChanged is the UPDATE of the lights that differ from their day's,
// among the rows a condition selects.
const relightChanged = "UPDATE problems AS p SET light = " + "%[1]s" + " WHERE %[2]s AND p.light <> %[1]s"

func (db *DB) relightWhere(ctx context.Context, where string, args ...any) error {
	if err := db.lightsExec(ctx, fmt.Sprintf(relightChanged, lightRowSQL, where), args...); err != nil {
		return fmt.Errorf("problem lights: %w", err)
	}
	return nil
}

// lightsExec runs one statement of a pass in a transaction of its own,
// retried on deadlocks and lock timeouts (with the writes it meets) as every
// transaction is.
func (db *DB) lightsExec(ctx context.Context, stmt string, args ...any) error {
	return db.txBase(ctx, func(ctx context.Context, b base) error { return b.db(ctx).Exec(stmt, args...).Error })
}

// relightCrossings recomputes the rows whose light may differ between day a
// and the later day b, day by day.
func (db *DB) relightCrossings(ctx context.Context, a, b domain.Date, yellowDays int) error {
	for d := a; d.Before(b); d = d.AddDays(1) {
		// Due on d: red from d+1. Due on d+Y+1: yellow from d+1.
		if err := db.relightWhere(ctx, "p.status IN ? AND p.deadline IN ?", openStatuses,
			[]string{d.String(), d.AddDays(yellowDays + 1).String()}); err != nil {
			return err
		}
		// A milestone due on d not done: behind from d+1.
		if err := db.relightWhere(ctx, "p.id IN (SELECT m.problem_id FROM milestones m WHERE m.due = ? AND m.done = FALSE)",
			d.String()); err != nil {
			return err
		}
	}
	return nil
}

// relightAll recomputes every row, five thousand ids at a time, each batch a
// statement of its own.
func (db *DB) relightAll(ctx context.Context) error {
	g := db.gorm.WithContext(ctx)
	after := int64(0)
	for {
		var ids []int64
		if err := g.Raw("SELECT id FROM problems WHERE id > ? ORDER BY id LIMIT 5000", after).Scan(&ids).Error; err != nil {
			return fmt.Errorf("problem lights: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		last := ids[len(ids)-1]
		if err := db.relightWhere(ctx, "p.id > ? AND p.id <= ?", after, last); err != nil {
			return err
		}
		after = last
	}
}
