package store

import (
	"context"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Contributions, published evaluations and notices: the board's own records.

type contributionRow struct {
	ID        int64 `gorm:"primaryKey"`
	Month     string
	UserID    *int64
	UnitID    int64
	Points    int
	Reason    string
	AwardedBy int64
	CreatedAt time.Time
}

func (row contributionRow) toApp() *app.Contribution {
	return &app.Contribution{ID: row.ID, Month: row.Month, UserID: deref(row.UserID), UnitID: row.UnitID, Points: row.Points,
		Reason: row.Reason, AwardedBy: row.AwardedBy, CreatedAt: row.CreatedAt.UTC()}
}

type contributionRepo struct{ base }

func (r contributionRepo) Create(ctx context.Context, c *app.Contribution) error {
	row := contributionRow{Month: c.Month, UserID: nullID(c.UserID), UnitID: c.UnitID, Points: c.Points, Reason: c.Reason,
		AwardedBy: c.AwardedBy, CreatedAt: c.CreatedAt}
	if err := r.db(ctx).Table("contributions").Create(&row).Error; err != nil {
		return fmt.Errorf("insert contribution: %w", err)
	}
	c.ID = row.ID
	return nil
}

func (r contributionRepo) List(ctx context.Context, q app.ContributionQuery) ([]*app.Contribution, error) {
	tx := r.db(ctx).Table("contributions")
	if q.Month != "" {
		tx = tx.Where("month = ?", q.Month)
	}
	if q.UserID > 0 {
		tx = tx.Where("user_id = ?", q.UserID)
	}
	if q.UnitID > 0 {
		tx = tx.Where("unit_id = ?", q.UnitID)
	}
	if q.BeforeID > 0 {
		tx = tx.Where("id < ?", q.BeforeID)
	}
	var rows []contributionRow
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list contributions: %w", err)
	}
	out := make([]*app.Contribution, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r contributionRepo) Sums(ctx context.Context, month string) (map[int64]int64, map[int64]int64, error) {
	var rows []struct {
		UserID *int64
		UnitID int64
		Points int64
	}
	if err := r.db(ctx).Table("contributions").Select("user_id, unit_id, SUM(points) AS points").Where("month = ?", month).
		Group("user_id, unit_id").Scan(&rows).Error; err != nil {
		return nil, nil, fmt.Errorf("contribution sums: %w", err)
	}
	byUser, byUnit := map[int64]int64{}, map[int64]int64{}
	for _, row := range rows {
		if row.UserID != nil {
			byUser[*row.UserID] += row.Points
		}
		byUnit[row.UnitID] += row.Points
	}
	return byUser, byUnit, nil
}

type publicationRow struct {
	Month       string `gorm:"primaryKey"`
	PublishedBy int64
	PublishedAt time.Time
	Snapshot    string
}

type publicationRepo struct{ base }

func (r publicationRepo) Get(ctx context.Context, month string) (*app.Publication, error) {
	var rows []publicationRow
	if err := r.db(ctx).Table("evaluation_publications").Where("month = ?", month).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("publication %s: %w", month, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("publication %s: %w", month, errNotFound)
	}
	row := rows[0]
	return &app.Publication{Month: row.Month, PublishedBy: row.PublishedBy, PublishedAt: row.PublishedAt.UTC(), Snapshot: row.Snapshot}, nil
}

func (r publicationRepo) Create(ctx context.Context, p *app.Publication) error {
	row := publicationRow{Month: p.Month, PublishedBy: p.PublishedBy, PublishedAt: p.PublishedAt, Snapshot: p.Snapshot}
	if err := r.db(ctx).Table("evaluation_publications").Create(&row).Error; err != nil {
		if isDuplicate(err) {
			return domain.Conflict("the evaluation of %s is already published", p.Month)
		}
		return fmt.Errorf("insert publication: %w", err)
	}
	return nil
}

type noticeRow struct {
	ID          int64 `gorm:"primaryKey"`
	Kind        string
	Title       string
	Body        string
	SourceType  string
	SourceRef   string
	Status      string
	Version     int64
	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedBy *int64
	PublishedAt *time.Time
}

func toNoticeRow(n *app.Notice) noticeRow {
	return noticeRow{ID: n.ID, Kind: string(n.Kind), Title: n.Title, Body: n.Body, SourceType: n.SourceType,
		SourceRef: n.SourceRef, Status: string(n.Status), Version: n.Version, CreatedBy: n.CreatedBy,
		CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, PublishedBy: nullID(n.PublishedBy), PublishedAt: n.PublishedAt}
}

func (row noticeRow) toApp() *app.Notice {
	return &app.Notice{ID: row.ID, Kind: app.NoticeKind(row.Kind), Title: row.Title, Body: row.Body, SourceType: row.SourceType,
		SourceRef: row.SourceRef, Status: app.NoticeStatus(row.Status), Version: row.Version, CreatedBy: row.CreatedBy,
		CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(), PublishedBy: deref(row.PublishedBy),
		PublishedAt: utcPtr(row.PublishedAt)}
}

type noticeRepo struct{ base }

func (r noticeRepo) Get(ctx context.Context, id int64) (*app.Notice, error) {
	var row noticeRow
	if err := r.db(ctx).Table("notices").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("notice %d", id))
	}
	return row.toApp(), nil
}

func (r noticeRepo) Create(ctx context.Context, n *app.Notice) error {
	row := toNoticeRow(n)
	if err := r.db(ctx).Table("notices").Create(&row).Error; err != nil {
		return fmt.Errorf("insert notice: %w", err)
	}
	n.ID = row.ID
	return nil
}

func (r noticeRepo) Update(ctx context.Context, n *app.Notice, expected int64) error {
	row := toNoticeRow(n)
	res := r.db(ctx).Table("notices").Where("id = ? AND version = ?", n.ID, expected).Updates(map[string]any{
		"kind": row.Kind, "title": row.Title, "body": row.Body, "source_type": row.SourceType, "source_ref": row.SourceRef,
		"status": row.Status, "version": row.Version, "updated_at": row.UpdatedAt, "published_by": row.PublishedBy,
		"published_at": row.PublishedAt})
	if res.Error != nil {
		return fmt.Errorf("update notice %d: %w", n.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("notice %d changed meanwhile: %w", n.ID, errConflict)
	}
	return nil
}

func (r noticeRepo) List(ctx context.Context, q app.NoticeQuery) ([]*app.Notice, error) {
	tx := r.db(ctx).Table("notices")
	if len(q.Statuses) > 0 {
		tx = tx.Where("status IN ?", q.Statuses)
	}
	if q.Kind != "" {
		tx = tx.Where("kind = ?", q.Kind)
	}
	if q.BeforeID > 0 {
		tx = tx.Where("id < ?", q.BeforeID)
	}
	var rows []noticeRow
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	out := make([]*app.Notice, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}
