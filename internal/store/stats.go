package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// statsRepo reads what the board's in-memory index, the evaluation and the
// discipline reports need. Every query works on SQLite and MariaDB/MySQL alike.
type statsRepo struct{ base }

// chunk is how many ids one IN list carries.
const chunk = 500

// boardColumns are the board's fields of a problem.
const boardColumns = "p.id, p.status, p.unit_id, p.category_id, p.severity, p.source, p.assignee_id, p.deadline, " +
	"p.closed_on_time, p.rework_count, p.reopen_count, p.extension_count, p.version, p.created_at, p.updated_at, " +
	"p.assigned_at, p.submitted_at, p.closed_at"

// milestoneDue is the due date of a problem's earliest milestone not done: a
// passed one makes the problem yellow.
const milestoneDue = "(SELECT MIN(m.due) FROM milestones m WHERE m.problem_id = p.id AND m.done = ?) AS milestone_due"

// BoardRows pages through the problems by id (the primary key), or reads
// those updated since a time, or those with given ids, with their earliest
// open milestone. A full load reads the milestones in one grouped query
// rather than one lookup a problem.
func (r statsRepo) BoardRows(ctx context.Context, q app.BoardRowsQuery) ([]app.BoardRow, error) {
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	withDue := !q.UpdatedSince.IsZero() || q.IDs != nil
	tx := r.db(ctx).Table("problems p").Select(boardColumns)
	if withDue {
		tx = r.db(ctx).Table("problems p").Select(boardColumns+", "+milestoneDue, false)
	}
	if q.IDs != nil {
		tx = tx.Where("p.id IN ?", q.IDs)
	}
	if q.AfterID > 0 {
		tx = tx.Where("p.id > ?", q.AfterID)
	}
	if !q.UpdatedSince.IsZero() {
		tx = tx.Where("p.updated_at >= ?", q.UpdatedSince.UTC())
	}
	if q.Limit > 0 {
		tx = tx.Order("p.id").Limit(q.Limit)
	}
	out, err := scanBoardRows(tx, withDue)
	if err != nil {
		return nil, fmt.Errorf("board rows: %w", markUnavailable(err))
	}
	if q.UpdatedSince.IsZero() && q.IDs == nil && len(out) > 0 {
		var due []struct {
			ProblemID int64
			Due       string
		}
		if err := r.db(ctx).Table("milestones").Select("problem_id, MIN(due) AS due").
			Where("done = ? AND problem_id >= ? AND problem_id <= ?", false, out[0].ID, out[len(out)-1].ID).
			Group("problem_id").Scan(&due).Error; err != nil {
			return nil, fmt.Errorf("board milestones: %w", err)
		}
		byID := make(map[int64]domain.Date, len(due))
		for _, d := range due {
			byID[d.ProblemID], _ = domain.ParseDate(d.Due)
		}
		for i := range out {
			out[i].MilestoneDue = byID[out[i].ID]
		}
	}
	return out, nil
}

// scanBoardRows runs tx, a select of boardColumns (and milestone_due when
// withDue), and reads its rows by hand: the full load reads a million of
// them and a refresh after a burst of writes tens of thousands, which
// gorm's reflection made several times slower.
func scanBoardRows(tx *gorm.DB, withDue bool) ([]app.BoardRow, error) {
	rows, err := tx.Rows()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var (
		b                                 app.BoardRow
		status, severity, source          string
		assignee                          sql.NullInt64
		deadline, due                     sql.NullString
		closedOnTime                      sql.NullBool
		assignedAt, submittedAt, closedAt sql.NullTime
	)
	dests := []any{&b.ID, &status, &b.UnitID, &b.CategoryID, &severity, &source, &assignee, &deadline, &closedOnTime,
		&b.ReworkCount, &b.ReopenCount, &b.ExtensionCount, &b.Version, &b.CreatedAt, &b.UpdatedAt,
		&assignedAt, &submittedAt, &closedAt}
	if withDue {
		dests = append(dests, &due)
	}
	out := []app.BoardRow{}
	for rows.Next() {
		b = app.BoardRow{}
		due = sql.NullString{}
		if err := rows.Scan(dests...); err != nil {
			return nil, err
		}
		b.Status, b.Severity, b.Source = domain.Status(status), domain.Severity(severity), domain.Source(source)
		b.AssigneeID = assignee.Int64
		b.CreatedAt, b.UpdatedAt = b.CreatedAt.UTC(), b.UpdatedAt.UTC()
		if closedOnTime.Valid {
			v := closedOnTime.Bool
			b.ClosedOnTime = &v
		}
		b.AssignedAt, b.SubmittedAt, b.ClosedAt = nullUTC(assignedAt), nullUTC(submittedAt), nullUTC(closedAt)
		if deadline.Valid && deadline.String != "" {
			b.Deadline, _ = domain.ParseDate(deadline.String)
		}
		if due.Valid && due.String != "" {
			b.MilestoneDue, _ = domain.ParseDate(due.String)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func nullUTC(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// BoardVersions reads idx_problems_updated_version alone (InnoDB's secondary
// index entries and SQLite's carry the id): the refresh's probe. It reads
// every change of the refresh margin on every board read, so it reads two
// integers a row, scanned by hand: no time to parse (on SQLite, text) and
// no reflection — 12,000 recent changes took 20 ms with updated_at through
// gorm's Scan.
func (r statsRepo) BoardVersions(ctx context.Context, since time.Time) ([]app.BoardVersion, error) {
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	rows, err := r.db(ctx).Raw("SELECT id, version FROM problems WHERE updated_at >= ?", since.UTC()).Rows()
	if err != nil {
		return nil, fmt.Errorf("board versions: %w", markUnavailable(err))
	}
	defer func() { _ = rows.Close() }()
	out := []app.BoardVersion{}
	for rows.Next() {
		var v app.BoardVersion
		if err := rows.Scan(&v.ID, &v.Version); err != nil {
			return nil, fmt.Errorf("board versions: %w", markUnavailable(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("board versions: %w", markUnavailable(err))
	}
	return out, nil
}

// Acceptances lists the acceptances of [from, to) from idx_audit_action_at,
// which covers the columns read.
func (r statsRepo) Acceptances(ctx context.Context, from, to time.Time) ([]app.Acceptance, error) {
	var rows []struct {
		ID       int64
		ObjectID string
		At       time.Time
	}
	err := r.db(ctx).Table("audit_entries").Select("id, object_id, at").
		Where("action = ? AND outcome = ? AND at >= ? AND at < ?", domain.ActionAccept, audit.OutcomeOK, from.UTC(), to.UTC()).
		Order("id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("acceptances: %w", err)
	}
	out := make([]app.Acceptance, 0, len(rows))
	for _, row := range rows {
		id, err := strconv.ParseInt(row.ObjectID, 10, 64)
		if err != nil {
			continue // not a problem's entry
		}
		out = append(out, app.Acceptance{Seq: row.ID, ProblemID: id, At: row.At.UTC()})
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
