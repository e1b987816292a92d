package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// scoped restricts a query over problems p to what scope sees: everything,
// or the problems assigned to the user plus those of the unit subtree.
func scoped(tx *gorm.DB, s app.Scope) *gorm.DB {
	switch {
	case s.All:
		return tx
	case s.UnitPath != "":
		return tx.Where("(p.assignee_id = ? OR p.unit_id IN (SELECT id FROM units WHERE path LIKE ? ESCAPE '!'))",
			s.UserID, likePrefix(s.UnitPath))
	default:
		return tx.Where("p.assignee_id = ?", s.UserID)
	}
}

// Escalations.

type escalationRepo struct{ base }

func (r escalationRepo) Due(ctx context.Context, kind string, from, to domain.Date, limit int) ([]int64, error) {
	tx := r.db(ctx).Table("problems p").
		Where("p.status IN ? AND p.deadline IS NOT NULL AND p.deadline <= ?",
			[]domain.Status{domain.StatusAssigned, domain.StatusRectifying}, to.String())
	if !from.IsZero() {
		tx = tx.Where("p.deadline >= ?", from.String())
	}
	tx = tx.Where("NOT EXISTS (SELECT 1 FROM escalations e WHERE e.problem_id = p.id AND e.kind = ? AND e.deadline = p.deadline)", kind)
	var ids []int64
	if err := tx.Order("p.deadline, p.id").Limit(limit).Pluck("p.id", &ids).Error; err != nil {
		return nil, fmt.Errorf("problems due for %s: %w", kind, err)
	}
	return ids, nil
}

func (r escalationRepo) Raise(ctx context.Context, problemID int64, kind string, deadline domain.Date, at time.Time) (bool, error) {
	row := map[string]any{"problem_id": problemID, "kind": kind, "deadline": deadline.String(), "raised_at": at}
	err := r.db(ctx).Table("escalations").Create(row).Error
	switch {
	case isDuplicate(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("raise %s of problem %d: %w", kind, problemID, err)
	}
	return true, nil
}

// Re-checks.

type recheckRow struct {
	ID         int64 `gorm:"primaryKey"`
	ProblemID  int64
	Round      int
	OffsetDays int
	DueOn      string
	Status     string
	Note       *string
	CheckedBy  *int64
	CheckedAt  *time.Time
	RemindedAt *time.Time
	CreatedAt  time.Time

	// The problem's summary, when read with it.
	Code         string     `gorm:"->"`
	Title        string     `gorm:"->"`
	PStatus      string     `gorm:"->;column:p_status"`
	UnitID       int64      `gorm:"->"`
	AssigneeID   *int64     `gorm:"->"`
	Deadline     *string    `gorm:"->"`
	ClosedAt     *time.Time `gorm:"->"`
	ClosedOnTime *bool      `gorm:"->"`
}

const recheckColumns = "r.id, r.problem_id, r.round, r.offset_days, r.due_on, r.status, r.note, r.checked_by, " +
	"r.checked_at, r.reminded_at, r.created_at, p.code, p.title, p.status AS p_status, p.unit_id, p.assignee_id, " +
	"p.deadline, p.closed_at, p.closed_on_time"

func (row recheckRow) toApp() (*app.Recheck, error) {
	due, err := domain.ParseDate(row.DueOn)
	if err != nil {
		return nil, fmt.Errorf("re-check %d: due_on: %w", row.ID, err)
	}
	rc := &app.Recheck{ID: row.ID, ProblemID: row.ProblemID, Round: row.Round, OffsetDays: row.OffsetDays, DueOn: due,
		Status: app.RecheckStatus(row.Status), CheckedAt: utcPtr(row.CheckedAt), RemindedAt: utcPtr(row.RemindedAt),
		CreatedAt: row.CreatedAt.UTC()}
	if row.Note != nil {
		rc.Note = *row.Note
	}
	if row.CheckedBy != nil {
		rc.CheckedBy = *row.CheckedBy
	}
	rc.Problem = app.ProblemRef{ID: row.ProblemID, Code: row.Code, Title: row.Title, Status: domain.Status(row.PStatus),
		UnitID: row.UnitID, ClosedAt: utcPtr(row.ClosedAt), ClosedOnTime: row.ClosedOnTime}
	if row.AssigneeID != nil {
		rc.Problem.AssigneeID = *row.AssigneeID
	}
	if row.Deadline != nil {
		rc.Problem.Deadline, _ = domain.ParseDate(*row.Deadline)
	}
	return rc, nil
}

type recheckRepo struct{ base }

func (r recheckRepo) read(ctx context.Context) *gorm.DB {
	return r.db(ctx).Table("rechecks r").Joins("JOIN problems p ON p.id = r.problem_id").Select(recheckColumns)
}

func (r recheckRepo) Create(ctx context.Context, rs []*app.Recheck) error {
	if len(rs) == 0 {
		return nil
	}
	rows := make([]recheckRow, len(rs))
	for i, rc := range rs {
		rows[i] = recheckRow{ProblemID: rc.ProblemID, Round: rc.Round, OffsetDays: rc.OffsetDays, DueOn: rc.DueOn.String(),
			Status: string(rc.Status), CreatedAt: rc.CreatedAt}
	}
	if err := r.db(ctx).Table("rechecks").Create(&rows).Error; err != nil {
		return fmt.Errorf("insert re-checks: %w", err)
	}
	for i := range rs {
		rs[i].ID = rows[i].ID
	}
	return nil
}

func (r recheckRepo) Get(ctx context.Context, id int64) (*app.Recheck, error) {
	var row recheckRow
	if err := r.read(ctx).Where("r.id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("re-check %d", id))
	}
	return row.toApp()
}

func (r recheckRepo) Record(ctx context.Context, rc *app.Recheck) error {
	res := r.db(ctx).Table("rechecks").Where("id = ? AND status = ?", rc.ID, string(app.RecheckPending)).
		Updates(map[string]any{"status": string(rc.Status), "note": rc.Note, "checked_by": rc.CheckedBy, "checked_at": rc.CheckedAt})
	if res.Error != nil {
		return fmt.Errorf("record re-check %d: %w", rc.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("re-check %d: %w", rc.ID, domain.Conflict("the re-check was recorded already"))
	}
	return nil
}

func (r recheckRepo) CancelPending(ctx context.Context, problemID int64) (int64, error) {
	res := r.db(ctx).Table("rechecks").Where("problem_id = ? AND status = ?", problemID, string(app.RecheckPending)).
		Update("status", string(app.RecheckCancelled))
	if res.Error != nil {
		return 0, fmt.Errorf("cancel re-checks of problem %d: %w", problemID, res.Error)
	}
	return res.RowsAffected, nil
}

func (r recheckRepo) List(ctx context.Context, q app.RecheckQuery) ([]*app.Recheck, error) {
	tx := scoped(r.read(ctx), q.Scope)
	if !q.DueBy.IsZero() {
		tx = tx.Where("r.due_on <= ?", q.DueBy.String())
	}
	if len(q.Statuses) > 0 {
		tx = tx.Where("r.status IN ?", q.Statuses)
	}
	if q.ProblemID > 0 {
		tx = tx.Where("r.problem_id = ?", q.ProblemID)
	}
	if q.After.ID > 0 {
		due := q.After.DueOn.String()
		tx = tx.Where("(r.due_on > ? OR (r.due_on = ? AND r.id > ?))", due, due, q.After.ID)
	}
	var rows []recheckRow
	if err := tx.Order("r.due_on, r.id").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list re-checks: %w", err)
	}
	return recheckRows(rows)
}

func recheckRows(rows []recheckRow) ([]*app.Recheck, error) {
	out := make([]*app.Recheck, len(rows))
	for i, row := range rows {
		rc, err := row.toApp()
		if err != nil {
			return nil, err
		}
		out[i] = rc
	}
	return out, nil
}

func (r recheckRepo) DueUnreminded(ctx context.Context, today domain.Date, limit int) ([]*app.Recheck, error) {
	var rows []recheckRow
	err := r.read(ctx).Where("r.status = ? AND r.due_on <= ? AND r.reminded_at IS NULL", string(app.RecheckPending), today.String()).
		Order("r.due_on, r.id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("due re-checks: %w", err)
	}
	return recheckRows(rows)
}

func (r recheckRepo) MarkReminded(ctx context.Context, id int64, at time.Time) (bool, error) {
	res := r.db(ctx).Table("rechecks").Where("id = ? AND reminded_at IS NULL", id).Update("reminded_at", at)
	if res.Error != nil {
		return false, fmt.Errorf("re-check %d reminded: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

func (r recheckRepo) Outcomes(ctx context.Context, f app.BoardFilter) (held, relapsed int64, err error) {
	tx := scoped(r.db(ctx).Table("rechecks r").Joins("JOIN problems p ON p.id = r.problem_id"), f.Scope).
		Where("r.status IN ?", []string{string(app.RecheckHeld), string(app.RecheckRelapsed)})
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
	var rows []struct {
		Status string
		N      int64
	}
	if err := tx.Select("r.status, COUNT(*) AS n").Group("r.status").Find(&rows).Error; err != nil {
		return 0, 0, fmt.Errorf("re-check outcomes: %w", err)
	}
	for _, row := range rows {
		if row.Status == string(app.RecheckHeld) {
			held = row.N
		} else {
			relapsed = row.N
		}
	}
	return held, relapsed, nil
}
