package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// statsRepo reads the aggregates of the board, the trend, the evaluation and
// the discipline reports. Every query works on SQLite and MariaDB/MySQL alike;
// where they differ (durations, casts) the dialect picks the expression.
type statsRepo struct{ base }

// chunk is how many ids one IN list carries.
const chunk = 500

// boardWhere applies the caller's scope and the board's filters to a query on "problems p".
func (r statsRepo) boardWhere(tx *gorm.DB, f app.BoardFilter) *gorm.DB {
	if !f.Scope.All {
		if f.Scope.UnitPath != "" {
			tx = tx.Where("(p.assignee_id = ? OR p.unit_id IN (SELECT id FROM units WHERE path LIKE ? ESCAPE '!'))",
				f.Scope.UserID, likePrefix(f.Scope.UnitPath))
		} else {
			tx = tx.Where("p.assignee_id = ?", f.Scope.UserID)
		}
	}
	if f.UnitPath != "" {
		tx = tx.Where("p.unit_id IN (SELECT id FROM units WHERE path LIKE ? ESCAPE '!')", likePrefix(f.UnitPath))
	}
	if f.CategoryPath != "" {
		tx = tx.Where("p.category_id IN (SELECT id FROM categories WHERE path LIKE ? ESCAPE '!')", likePrefix(f.CategoryPath))
	}
	if len(f.Severities) > 0 {
		tx = tx.Where("p.severity IN ?", f.Severities)
	}
	if len(f.Sources) > 0 {
		tx = tx.Where("p.source IN ?", f.Sources)
	}
	if !f.CreatedFrom.IsZero() {
		tx = tx.Where("p.created_at >= ?", f.CreatedFrom.UTC())
	}
	if !f.CreatedTo.IsZero() {
		tx = tx.Where("p.created_at < ?", f.CreatedTo.UTC())
	}
	return tx
}

// openList is the SQL list of the states in which a deadline runs.
const openList = "('assigned', 'rectifying', 'submitted')"

type boardGroupRow struct {
	Status       string
	UnitID       int64
	CategoryID   int64
	Severity     string
	Source       string
	N            int64
	Overdue      int64
	Yellow       int64
	OpenGreen    int64
	ClosedOnTime int64
	ClosedLate   int64
	Reworked     int64
	Verified     int64
	EverClosed   int64
	Reopened     int64
	Extensions   int64
}

// BoardGroups is the board in one pass over the covering index
// idx_problems_board, grouped in the index's order.
func (r statsRepo) BoardGroups(ctx context.Context, f app.BoardFilter, today, yellowEnd domain.Date) ([]app.BoardGroup, error) {
	t, y := today.String(), yellowEnd.String()
	sel := "p.status, p.unit_id, p.category_id, p.severity, p.source, COUNT(*) AS n, " +
		"SUM(CASE WHEN p.status IN " + openList + " AND p.deadline < ? THEN 1 ELSE 0 END) AS overdue, " +
		"SUM(CASE WHEN p.status IN " + openList + " AND p.deadline >= ? AND p.deadline <= ? THEN 1 ELSE 0 END) AS yellow, " +
		"SUM(CASE WHEN p.status IN " + openList + " AND p.deadline > ? THEN 1 ELSE 0 END) AS open_green, " +
		"SUM(CASE WHEN p.status = 'closed' AND p.closed_on_time = 1 THEN 1 ELSE 0 END) AS closed_on_time, " +
		"SUM(CASE WHEN p.status = 'closed' AND p.closed_on_time = 0 THEN 1 ELSE 0 END) AS closed_late, " +
		"SUM(CASE WHEN p.rework_count > 0 THEN 1 ELSE 0 END) AS reworked, " +
		"SUM(CASE WHEN p.status = 'closed' OR p.rework_count > 0 OR p.reopen_count > 0 THEN 1 ELSE 0 END) AS verified, " +
		"SUM(CASE WHEN p.status = 'closed' OR p.reopen_count > 0 THEN 1 ELSE 0 END) AS ever_closed, " +
		"SUM(CASE WHEN p.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened, " +
		"SUM(p.extension_count) AS extensions"
	tx := r.db(ctx).Table("problems p").Select(sel, t, t, y, y)
	tx = r.boardWhere(tx, f).Group("p.status, p.unit_id, p.category_id, p.severity, p.source")
	var rows []boardGroupRow
	if err := tx.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	out := make([]app.BoardGroup, len(rows))
	for i, g := range rows {
		out[i] = app.BoardGroup{Status: domain.Status(g.Status), UnitID: g.UnitID, CategoryID: g.CategoryID,
			Severity: domain.Severity(g.Severity), Source: domain.Source(g.Source), Count: g.N, Overdue: g.Overdue,
			Yellow: g.Yellow, OpenGreen: g.OpenGreen, ClosedOnTime: g.ClosedOnTime, ClosedLate: g.ClosedLate,
			Reworked: g.Reworked, Verified: g.Verified, EverClosed: g.EverClosed, Reopened: g.Reopened,
			Extensions: g.Extensions}
	}
	return out, nil
}

// closeSeconds is the dialect's expression for the seconds from registration to closure.
func (r statsRepo) closeSeconds() string {
	if r.dialect == DialectMySQL {
		return "(TIMESTAMPDIFF(MICROSECOND, p.created_at, p.closed_at) / 1000000.0)"
	}
	return "((julianday(p.closed_at) - julianday(p.created_at)) * 86400.0)"
}

// dayBucket is the whole number of days of a non-negative number of seconds.
func (r statsRepo) dayBucket(seconds string) string {
	if r.dialect == DialectMySQL {
		return "FLOOR(" + seconds + " / 86400)"
	}
	return "CAST(" + seconds + " / 86400 AS INTEGER)"
}

// CloseTimes finds the mean and the exact 90th percentile of the time to
// close without sorting every closed problem: a histogram by whole days finds
// the day that holds the percentile, then only that day's problems are sorted.
func (r statsRepo) CloseTimes(ctx context.Context, f app.BoardFilter) (app.CloseTimes, error) {
	secs := r.closeSeconds()
	bucket := r.dayBucket(secs)
	var hist []struct {
		B    int64
		N    int64
		Secs float64
	}
	tx := r.db(ctx).Table("problems p").Select(bucket+" AS b, COUNT(*) AS n, SUM("+secs+") AS secs").
		Where("p.status = ? AND p.closed_at IS NOT NULL", domain.StatusClosed)
	if err := r.boardWhere(tx, f).Group("b").Order("b").Scan(&hist).Error; err != nil {
		return app.CloseTimes{}, fmt.Errorf("close times: %w", err)
	}
	var out app.CloseTimes
	for _, h := range hist {
		out.Count += h.N
		out.SumSeconds += h.Secs
	}
	k := stats.NearestRank(out.Count, 0.9)
	if k == 0 {
		return out, nil
	}
	var before int64
	for _, h := range hist {
		if before+h.N < k {
			before += h.N
			continue
		}
		var vals []struct{ S float64 }
		tx := r.db(ctx).Table("problems p").Select(secs+" AS s").
			Where("p.status = ? AND p.closed_at IS NOT NULL AND "+bucket+" = ?", domain.StatusClosed, h.B)
		if err := r.boardWhere(tx, f).Order("s").Offset(int(k - before - 1)).Limit(1).Scan(&vals).Error; err != nil {
			return out, fmt.Errorf("close times percentile: %w", err)
		}
		if len(vals) == 1 {
			out.P90Seconds = vals[0].S
		}
		break
	}
	return out, nil
}

// caseBucket returns "CASE WHEN col < ? THEN 0 ... END" over the inner bounds and their arguments.
func caseBucket[T any](col string, bounds []T) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, len(bounds))
	b.WriteString("CASE")
	for i := 1; i < len(bounds); i++ {
		b.WriteString(" WHEN " + col + " < ? THEN " + strconv.Itoa(i-1))
		args = append(args, bounds[i])
	}
	b.WriteString(" ELSE -1 END")
	return b.String(), args
}

type bucketCount struct {
	B int
	N int64
}

func (r statsRepo) bucketed(ctx context.Context, f app.BoardFilter, col string, bounds []any, where string, args []any, periods int) ([]int64, error) {
	expr, cargs := caseBucket(col, bounds)
	tx := r.db(ctx).Table("problems p").Select(expr+" AS b, COUNT(*) AS n", cargs...).
		Where(col+" >= ? AND "+col+" < ?", bounds[0], bounds[len(bounds)-1])
	if where != "" {
		tx = tx.Where(where, args...)
	}
	var rows []bucketCount
	if err := r.boardWhere(tx, f).Group("b").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("trend: %w", err)
	}
	out := make([]int64, periods)
	for _, row := range rows {
		if row.B >= 0 && row.B < periods {
			out[row.B] = row.N
		}
	}
	return out, nil
}

// Trend counts registrations, closures and missed deadlines per period, each
// in one grouped query whose CASE maps a row to its period.
func (r statsRepo) Trend(ctx context.Context, q app.TrendQuery) (app.TrendCounts, error) {
	n := len(q.Instants) - 1
	var out app.TrendCounts
	if n < 1 || len(q.Dates) != n+1 {
		return out, fmt.Errorf("trend: %d instant and %d date bounds", len(q.Instants), len(q.Dates))
	}
	instants := make([]any, len(q.Instants))
	for i, t := range q.Instants {
		instants[i] = t.UTC()
	}
	dates := make([]any, len(q.Dates))
	for i, d := range q.Dates {
		dates[i] = d.String()
	}
	var err error
	if out.Registered, err = r.bucketed(ctx, q.Filter, "p.created_at", instants, "", nil, n); err != nil {
		return out, err
	}
	if out.Closed, err = r.bucketed(ctx, q.Filter, "p.closed_at", instants, "p.status = ?", []any{domain.StatusClosed}, n); err != nil {
		return out, err
	}
	if out.Dismissed, err = r.bucketed(ctx, q.Filter, "p.updated_at", instants, "p.status = ?", []any{domain.StatusDismissed}, n); err != nil {
		return out, err
	}
	if out.Missed, err = r.bucketed(ctx, q.Filter, "p.deadline", dates,
		"p.deadline < ? AND (p.status IN "+openList+" OR (p.status = 'closed' AND p.closed_on_time = 0))",
		[]any{q.Today.String()}, n); err != nil {
		return out, err
	}
	start := instants[0]
	tx := r.db(ctx).Table("problems p").Where("p.created_at < ?", start).
		Where("NOT (p.status = ? AND p.closed_at < ?)", domain.StatusClosed, start).
		Where("NOT (p.status = ? AND p.updated_at < ?)", domain.StatusDismissed, start)
	if err := r.boardWhere(tx, q.Filter).Count(&out.Baseline).Error; err != nil {
		return out, fmt.Errorf("trend baseline: %w", err)
	}
	return out, nil
}

type closedFactRow struct {
	ID          int64
	AssigneeID  *int64
	UnitID      int64
	Severity    string
	ReworkCount int
	Deadline    *string
	SubmittedAt *time.Time
	ClosedAt    time.Time
}

// ClosedBetween lists the problems closed in [from, to), by idx_problems_closed.
func (r statsRepo) ClosedBetween(ctx context.Context, from, to time.Time) ([]app.ClosedFact, error) {
	var rows []closedFactRow
	err := r.db(ctx).Table("problems p").
		Select("p.id, p.assignee_id, p.unit_id, p.severity, p.rework_count, p.deadline, p.submitted_at, p.closed_at").
		Where("p.status = ? AND p.closed_at >= ? AND p.closed_at < ?", domain.StatusClosed, from.UTC(), to.UTC()).
		Order("p.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("closed problems: %w", err)
	}
	out := make([]app.ClosedFact, len(rows))
	for i, row := range rows {
		f := app.ClosedFact{ProblemID: row.ID, AssigneeID: deref(row.AssigneeID), UnitID: row.UnitID,
			Severity: domain.Severity(row.Severity), ReworkCount: row.ReworkCount, SubmittedAt: utcPtr(row.SubmittedAt),
			ClosedAt: row.ClosedAt.UTC()}
		if row.Deadline != nil {
			f.Deadline, _ = domain.ParseDate(*row.Deadline)
		}
		out[i] = f
	}
	return out, nil
}

// problemIDCast is the dialect's cast of an audit entry's object id to a problem id.
func (r statsRepo) problemIDCast(col string) string {
	if r.dialect == DialectMySQL {
		return "CAST(" + col + " AS SIGNED)"
	}
	return "CAST(" + col + " AS INTEGER)"
}

type acceptRow struct {
	Seq        int64
	AcceptedAt time.Time
	ProblemID  int64
	AssigneeID *int64
	UnitID     int64
	AssignSeq  *int64
}

// AcceptedBetween lists the acceptances made in [from, to) with the
// assignment each answered: the latest assign entry of the problem's stream
// before the acceptance.
func (r statsRepo) AcceptedBetween(ctx context.Context, from, to time.Time) ([]app.AcceptFact, error) {
	var rows []acceptRow
	err := r.db(ctx).Raw("SELECT e.id AS seq, e.at AS accepted_at, p.id AS problem_id, p.assignee_id, p.unit_id, "+
		"(SELECT MAX(a.id) FROM audit_entries a WHERE a.stream = e.stream AND a.action = ? AND a.outcome = ? AND a.id < e.id) AS assign_seq "+
		"FROM audit_entries e JOIN problems p ON p.id = "+r.problemIDCast("e.object_id")+" "+
		"WHERE e.action = ? AND e.outcome = ? AND e.at >= ? AND e.at < ? AND e.object_type = ? ORDER BY e.id",
		domain.ActionAssign, audit.OutcomeOK, domain.ActionAccept, audit.OutcomeOK, from.UTC(), to.UTC(), "problem").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("acceptances: %w", err)
	}
	var assignSeqs []int64
	for _, row := range rows {
		if row.AssignSeq != nil {
			assignSeqs = append(assignSeqs, *row.AssignSeq)
		}
	}
	assignedAt, err := r.entryTimes(ctx, assignSeqs)
	if err != nil {
		return nil, err
	}
	out := make([]app.AcceptFact, len(rows))
	for i, row := range rows {
		f := app.AcceptFact{Seq: row.Seq, ProblemID: row.ProblemID, AcceptedAt: row.AcceptedAt.UTC(),
			AssigneeID: deref(row.AssigneeID), UnitID: row.UnitID}
		if row.AssignSeq != nil {
			f.AssignSeq = *row.AssignSeq
			if at, ok := assignedAt[f.AssignSeq]; ok {
				f.AssignedAt = &at
			}
		}
		out[i] = f
	}
	return out, nil
}

// entryTimes returns the time of each audit entry by sequence.
func (r statsRepo) entryTimes(ctx context.Context, seqs []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(seqs))
	for start := 0; start < len(seqs); start += chunk {
		var rows []struct {
			ID int64
			At time.Time
		}
		if err := r.db(ctx).Table("audit_entries").Select("id, at").Where("id IN ?", seqs[start:min(start+chunk, len(seqs))]).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("audit entry times: %w", err)
		}
		for _, row := range rows {
			out[row.ID] = row.At.UTC()
		}
	}
	return out, nil
}

type problemRefRow struct {
	ID           int64
	Code         string
	Title        string
	Status       string
	UnitID       int64
	AssigneeID   *int64
	Deadline     *string
	AssignedAt   *time.Time
	ClosedAt     *time.Time
	ClosedOnTime *bool
}

const problemRefColumns = "p.id, p.code, p.title, p.status, p.unit_id, p.assignee_id, p.deadline, p.assigned_at, p.closed_at, p.closed_on_time"

func (row problemRefRow) ref() app.ProblemRef {
	out := app.ProblemRef{ID: row.ID, Code: row.Code, Title: row.Title, Status: domain.Status(row.Status),
		UnitID: row.UnitID, AssigneeID: deref(row.AssigneeID), AssignedAt: utcPtr(row.AssignedAt),
		ClosedAt: utcPtr(row.ClosedAt), ClosedOnTime: row.ClosedOnTime}
	if row.Deadline != nil {
		out.Deadline, _ = domain.ParseDate(*row.Deadline)
	}
	return out
}

func (r statsRepo) refs(tx *gorm.DB, what string) ([]app.ProblemRef, error) {
	var rows []problemRefRow
	if err := tx.Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make([]app.ProblemRef, len(rows))
	for i, row := range rows {
		out[i] = row.ref()
	}
	return out, nil
}

func (r statsRepo) AwaitingAcceptance(ctx context.Context, assignedBefore time.Time) ([]app.ProblemRef, error) {
	return r.refs(r.db(ctx).Table("problems p").Select(problemRefColumns).
		Where("p.status = ? AND p.assigned_at < ?", domain.StatusAssigned, assignedBefore.UTC()).Order("p.id"), "awaiting acceptance")
}

func (r statsRepo) Overdue(ctx context.Context, today domain.Date, limit int) ([]app.ProblemRef, error) {
	return r.refs(r.db(ctx).Table("problems p").Select(problemRefColumns).
		Where("p.status IN ? AND p.deadline < ?", openStatuses, today.String()).Order("p.deadline, p.id").Limit(limit), "overdue")
}

func (r statsRepo) ClosedLateBetween(ctx context.Context, from, to time.Time) ([]app.ProblemRef, error) {
	return r.refs(r.db(ctx).Table("problems p").Select(problemRefColumns).
		Where("p.status = ? AND p.closed_at >= ? AND p.closed_at < ? AND p.closed_on_time = 0", domain.StatusClosed,
			from.UTC(), to.UTC()).Order("p.id"), "closed late")
}

func (r statsRepo) Problems(ctx context.Context, ids []int64) (map[int64]app.ProblemRef, error) {
	out := make(map[int64]app.ProblemRef, len(ids))
	for start := 0; start < len(ids); start += chunk {
		refs, err := r.refs(r.db(ctx).Table("problems p").Select(problemRefColumns).
			Where("p.id IN ?", ids[start:min(start+chunk, len(ids))]), "problems")
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			out[ref.ID] = ref
		}
	}
	return out, nil
}

func (r statsRepo) Entries(ctx context.Context, q app.EntryRangeQuery) ([]*audit.Entry, error) {
	tx := r.db(ctx).Table("audit_entries").Where("at >= ? AND at < ?", q.From.UTC(), q.To.UTC())
	if len(q.Actions) > 0 {
		tx = tx.Where("action IN ?", q.Actions)
	}
	if q.Outcome != "" {
		tx = tx.Where("outcome = ?", q.Outcome)
	}
	if q.Limit > 0 {
		tx = tx.Limit(q.Limit)
	}
	var rows []auditRow
	if err := tx.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	return toEntries(rows), nil
}

func (r statsRepo) ProblemEntries(ctx context.Context, problemIDs []int64, actions []string) ([]*audit.Entry, error) {
	var out []*audit.Entry
	for start := 0; start < len(problemIDs); start += chunk {
		part := problemIDs[start:min(start+chunk, len(problemIDs))]
		objects := make([]string, len(part))
		for i, id := range part {
			objects[i] = strconv.FormatInt(id, 10)
		}
		var rows []auditRow
		tx := r.db(ctx).Table("audit_entries").Where("object_type = ? AND object_id IN ? AND outcome = ?", "problem", objects, audit.OutcomeOK)
		if len(actions) > 0 {
			tx = tx.Where("action IN ?", actions)
		}
		if err := tx.Order("id").Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("problem entries: %w", err)
		}
		out = append(out, toEntries(rows)...)
	}
	return out, nil
}

type personRow struct {
	ID       int64
	Name     string
	Username string
	UnitID   int64
	Disabled bool
}

func (row personRow) ref() app.PersonRef {
	return app.PersonRef{ID: row.ID, Name: row.Name, Username: row.Username, UnitID: row.UnitID, Disabled: row.Disabled}
}

func (r statsRepo) People(ctx context.Context, ids []int64) (map[int64]app.PersonRef, error) {
	out := make(map[int64]app.PersonRef, len(ids))
	for start := 0; start < len(ids); start += chunk {
		var rows []personRow
		if err := r.db(ctx).Table("users").Select("id, name, username, unit_id, disabled").
			Where("id IN ?", ids[start:min(start+chunk, len(ids))]).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("people: %w", err)
		}
		for _, row := range rows {
			out[row.ID] = row.ref()
		}
	}
	return out, nil
}

func (r statsRepo) Owners(ctx context.Context) ([]app.PersonRef, error) {
	var rows []personRow
	if err := r.db(ctx).Table("users s").Select("s.id, s.name, s.username, s.unit_id, s.disabled").
		Where(r.concat(r.concat("','", "s.roles"), "','")+" LIKE ?", "%,"+string(domain.RoleOwner)+",%").
		Order("s.id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("owners: %w", err)
	}
	out := make([]app.PersonRef, len(rows))
	for i, row := range rows {
		out[i] = row.ref()
	}
	return out, nil
}
