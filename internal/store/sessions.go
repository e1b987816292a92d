package store

import (
	"context"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

type sessionRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

type sessionRepo struct{ base }

func (r sessionRepo) Create(ctx context.Context, s *app.Session) error {
	row := sessionRow{TokenHash: s.TokenHash, UserID: s.UserID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
	if err := r.db(ctx).Table("sessions").Create(&row).Error; err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	s.ID = row.ID
	return nil
}

func (r sessionRepo) GetByHash(ctx context.Context, hash string) (*app.Session, error) {
	var row sessionRow
	if err := r.db(ctx).Table("sessions").Where("token_hash = ?", hash).Take(&row).Error; err != nil {
		return nil, notFound(err, "session")
	}
	return &app.Session{ID: row.ID, TokenHash: row.TokenHash, UserID: row.UserID, CreatedAt: row.CreatedAt.UTC(),
		ExpiresAt: row.ExpiresAt.UTC(), RevokedAt: utcPtr(row.RevokedAt)}, nil
}

func (r sessionRepo) Revoke(ctx context.Context, hash string, at time.Time) error {
	if err := r.db(ctx).Table("sessions").Where("token_hash = ? AND revoked_at IS NULL", hash).Update("revoked_at", at).Error; err != nil {
		return err
	}
	return r.authChanged(ctx)
}

func (r sessionRepo) RevokeUser(ctx context.Context, userID int64, at time.Time) error {
	if err := r.db(ctx).Table("sessions").Where("user_id = ? AND revoked_at IS NULL", userID).Update("revoked_at", at).Error; err != nil {
		return err
	}
	return r.authChanged(ctx)
}

func (r sessionRepo) RevokeUserExcept(ctx context.Context, userID int64, keepHash string, at time.Time) error {
	if err := r.db(ctx).Table("sessions").Where("user_id = ? AND token_hash <> ? AND revoked_at IS NULL", userID, keepHash).
		Update("revoked_at", at).Error; err != nil {
		return err
	}
	return r.authChanged(ctx)
}

func (r sessionRepo) RecordFailure(ctx context.Context, username, ip string, at time.Time) error {
	return r.db(ctx).Table("login_failures").Create(map[string]any{"username": username, "ip": ip, "at": at}).Error
}

func (r sessionRepo) CountFailures(ctx context.Context, username, ip string, since time.Time) (int64, int64, error) {
	var byUser, byIP int64
	if err := r.db(ctx).Table("login_failures").Where("username = ? AND at >= ?", username, since).Count(&byUser).Error; err != nil {
		return 0, 0, err
	}
	if err := r.db(ctx).Table("login_failures").Where("ip = ? AND at >= ?", ip, since).Count(&byIP).Error; err != nil {
		return 0, 0, err
	}
	return byUser, byIP, nil
}

func (r sessionRepo) ClearFailures(ctx context.Context, username string) error {
	return r.db(ctx).Table("login_failures").Where("username = ?", username).Delete(nil).Error
}

type extensionRow struct {
	ID          int64 `gorm:"primaryKey"`
	ProblemID   int64
	RequestedBy int64
	OldDeadline string
	Deadline    string
	Reason      string
	Status      string
	DecidedBy   *int64
	Note        string
	CreatedAt   time.Time
	DecidedAt   *time.Time
}

type extensionRepo struct{ base }

func (r extensionRow) toDomain() *domain.Extension {
	old, _ := domain.ParseDate(r.OldDeadline)
	dl, _ := domain.ParseDate(r.Deadline)
	return &domain.Extension{ID: r.ID, ProblemID: r.ProblemID, RequestedBy: r.RequestedBy, OldDeadline: old, Deadline: dl,
		Reason: r.Reason, Status: domain.ExtensionStatus(r.Status), DecidedBy: deref(r.DecidedBy), Note: r.Note,
		CreatedAt: r.CreatedAt.UTC(), DecidedAt: utcPtr(r.DecidedAt)}
}

func (r extensionRepo) Create(ctx context.Context, e *domain.Extension) error {
	row := extensionRow{ProblemID: e.ProblemID, RequestedBy: e.RequestedBy, OldDeadline: e.OldDeadline.String(),
		Deadline: e.Deadline.String(), Reason: e.Reason, Status: string(e.Status), Note: e.Note, CreatedAt: e.CreatedAt}
	if err := r.db(ctx).Table("extensions").Create(&row).Error; err != nil {
		return fmt.Errorf("insert extension: %w", err)
	}
	e.ID = row.ID
	return nil
}

func (r extensionRepo) Get(ctx context.Context, problemID, id int64) (*domain.Extension, error) {
	var row extensionRow
	if err := r.db(ctx).Table("extensions").Where("id = ? AND problem_id = ?", id, problemID).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("extension %d", id))
	}
	return row.toDomain(), nil
}

func (r extensionRepo) Update(ctx context.Context, e *domain.Extension) error {
	res := r.db(ctx).Table("extensions").Where("id = ? AND status = ?", e.ID, domain.ExtensionPending).Updates(map[string]any{
		"status": string(e.Status), "decided_by": nullID(e.DecidedBy), "note": e.Note, "decided_at": e.DecidedAt})
	if res.Error != nil {
		return fmt.Errorf("update extension %d: %w", e.ID, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("extension %d was decided meanwhile: %w", e.ID, errConflict)
	}
	return nil
}

func (r extensionRepo) HasPending(ctx context.Context, problemID int64) (bool, error) {
	var n int64
	err := r.db(ctx).Table("extensions").Where("problem_id = ? AND status = ?", problemID, domain.ExtensionPending).Count(&n).Error
	return n > 0, err
}

func (r extensionRepo) List(ctx context.Context, problemID int64) ([]*domain.Extension, error) {
	var rows []extensionRow
	if err := r.db(ctx).Table("extensions").Where("problem_id = ?", problemID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list extensions: %w", err)
	}
	out := make([]*domain.Extension, len(rows))
	for i, row := range rows {
		out[i] = row.toDomain()
	}
	return out, nil
}

type commentRow struct {
	ID        int64 `gorm:"primaryKey"`
	ProblemID int64
	AuthorID  int64
	Text      string
	CreatedAt time.Time
}

type commentRepo struct{ base }

func (r commentRepo) Create(ctx context.Context, c *app.Comment) error {
	row := commentRow{ProblemID: c.ProblemID, AuthorID: c.AuthorID, Text: c.Text, CreatedAt: c.CreatedAt}
	if err := r.db(ctx).Table("comments").Create(&row).Error; err != nil {
		return fmt.Errorf("insert comment: %w", err)
	}
	c.ID = row.ID
	return nil
}

func (r commentRepo) List(ctx context.Context, problemID int64) ([]*app.Comment, error) {
	var rows []commentRow
	if err := r.db(ctx).Table("comments").Where("problem_id = ?", problemID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list comments: %w", err)
	}
	out := make([]*app.Comment, len(rows))
	for i, row := range rows {
		out[i] = &app.Comment{ID: row.ID, ProblemID: row.ProblemID, AuthorID: row.AuthorID, Text: row.Text, CreatedAt: row.CreatedAt.UTC()}
	}
	return out, nil
}
