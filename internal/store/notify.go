package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Inboxes.

type notificationRow struct {
	ID        int64 `gorm:"primaryKey"`
	UserID    int64
	EventID   string
	Kind      string
	ProblemID *int64
	Title     string
	Body      string
	CreatedAt time.Time
	ReadAt    *time.Time
}

func (r notificationRow) toApp() *app.Notification {
	n := &app.Notification{ID: r.ID, UserID: r.UserID, EventID: r.EventID, Kind: r.Kind, Title: r.Title, Body: r.Body,
		CreatedAt: r.CreatedAt.UTC(), ReadAt: utcPtr(r.ReadAt)}
	if r.ProblemID != nil {
		n.ProblemID = *r.ProblemID
	}
	return n
}

func idPtr(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

type notificationRepo struct{ base }

func (r notificationRepo) Create(ctx context.Context, ns []*app.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	if len(ns) == 1 { // most actions tell one user: a statement of fixed text (rawexec.go)
		n := ns[0]
		id, err := r.insertID(ctx, "INSERT INTO notifications (user_id, event_id, kind, problem_id, title, body, created_at, read_at) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, ?)", n.UserID, n.EventID, n.Kind, idPtr(n.ProblemID), n.Title, n.Body, n.CreatedAt, n.ReadAt)
		if err != nil {
			return fmt.Errorf("insert notifications: %w", err)
		}
		n.ID = id
		return nil
	}
	rows := make([]notificationRow, len(ns))
	for i, n := range ns {
		rows[i] = notificationRow{UserID: n.UserID, EventID: n.EventID, Kind: n.Kind, ProblemID: idPtr(n.ProblemID),
			Title: n.Title, Body: n.Body, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt}
	}
	if err := r.db(ctx).Table("notifications").Create(&rows).Error; err != nil {
		return fmt.Errorf("insert notifications: %w", err)
	}
	for i := range ns {
		ns[i].ID = rows[i].ID
	}
	return nil
}

func (r notificationRepo) List(ctx context.Context, q app.NotificationQuery) ([]*app.Notification, error) {
	tx := r.db(ctx).Table("notifications").Where("user_id = ?", q.UserID)
	if q.UnreadOnly {
		tx = tx.Where("read_at IS NULL")
	}
	if q.BeforeID > 0 {
		tx = tx.Where("id < ?", q.BeforeID)
	}
	var rows []notificationRow
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out := make([]*app.Notification, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r notificationRepo) Unread(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := r.db(ctx).Table("notifications").Where("user_id = ? AND read_at IS NULL", userID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

func (r notificationRepo) MarkRead(ctx context.Context, userID int64, ids []int64, at time.Time) (int64, error) {
	tx := r.db(ctx).Table("notifications").Where("user_id = ? AND read_at IS NULL", userID)
	if ids != nil {
		if len(ids) == 0 {
			return 0, nil
		}
		tx = tx.Where("id IN ?", ids)
	}
	res := tx.Update("read_at", at)
	if res.Error != nil {
		return 0, fmt.Errorf("mark notifications read: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// The webhook outbox.

type outboxRow struct {
	ID            int64 `gorm:"primaryKey"`
	EventID       string
	Target        string
	Kind          string
	Payload       string
	CreatedAt     time.Time
	NextAttemptAt time.Time
	Attempts      int
	LastAttemptAt *time.Time
	LastError     *string
	DeliveredAt   *time.Time
	ClaimedBy     *string
	ClaimedUntil  *time.Time
}

func (r outboxRow) toApp() *app.OutboxMessage {
	m := &app.OutboxMessage{ID: r.ID, EventID: r.EventID, Target: r.Target, Kind: r.Kind, Payload: []byte(r.Payload),
		CreatedAt: r.CreatedAt.UTC(), NextAttemptAt: r.NextAttemptAt.UTC(), Attempts: r.Attempts,
		LastAttemptAt: utcPtr(r.LastAttemptAt), DeliveredAt: utcPtr(r.DeliveredAt)}
	if r.LastError != nil {
		m.LastError = *r.LastError
	}
	return m
}

type outboxRepo struct{ base }

func (r outboxRepo) Add(ctx context.Context, ms []*app.OutboxMessage) error {
	if len(ms) == 0 {
		return nil
	}
	rows := make([]outboxRow, len(ms))
	for i, m := range ms {
		rows[i] = outboxRow{EventID: m.EventID, Target: m.Target, Kind: m.Kind, Payload: string(m.Payload),
			CreatedAt: m.CreatedAt, NextAttemptAt: m.NextAttemptAt}
	}
	if err := r.db(ctx).Table("outbox").Create(&rows).Error; err != nil {
		return fmt.Errorf("insert outbox: %w", err)
	}
	for i := range ms {
		ms[i].ID = rows[i].ID
	}
	return nil
}

// due selects the undelivered messages due at now that nobody holds.
func (r outboxRepo) due(tx *gorm.DB, now time.Time) *gorm.DB {
	return tx.Where("delivered_at IS NULL AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)", now, now)
}

func (r outboxRepo) Claim(ctx context.Context, token string, now, until time.Time, limit int) ([]*app.OutboxMessage, error) {
	var ids []int64
	if err := r.due(r.db(ctx).Table("outbox"), now).Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("due outbox: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// The conditions again: a message another instance claimed in between
	// stays its (on MariaDB the UPDATE re-reads a row it waited for).
	res := r.due(r.db(ctx).Table("outbox"), now).Where("id IN ?", ids).
		Updates(map[string]any{"claimed_by": token, "claimed_until": until})
	if res.Error != nil {
		return nil, fmt.Errorf("claim outbox: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	var rows []outboxRow
	if err := r.db(ctx).Table("outbox").Where("id IN ? AND claimed_by = ? AND delivered_at IS NULL", ids, token).
		Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("claimed outbox: %w", err)
	}
	out := make([]*app.OutboxMessage, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r outboxRepo) Delivered(ctx context.Context, id int64, token string, at time.Time) error {
	res := r.db(ctx).Table("outbox").Where("id = ? AND claimed_by = ? AND delivered_at IS NULL", id, token).
		Updates(map[string]any{"delivered_at": at, "last_attempt_at": at, "attempts": gorm.Expr("attempts + 1"),
			"claimed_by": nil, "claimed_until": nil})
	if res.Error != nil {
		return fmt.Errorf("outbox %d delivered: %w", id, res.Error)
	}
	return nil
}

func (r outboxRepo) Failed(ctx context.Context, id int64, token string, at, next time.Time, reason string) error {
	res := r.db(ctx).Table("outbox").Where("id = ? AND claimed_by = ? AND delivered_at IS NULL", id, token).
		Updates(map[string]any{"last_attempt_at": at, "attempts": gorm.Expr("attempts + 1"), "last_error": reason,
			"next_attempt_at": next, "claimed_by": nil, "claimed_until": nil})
	if res.Error != nil {
		return fmt.Errorf("outbox %d failed: %w", id, res.Error)
	}
	return nil
}

func (r outboxRepo) List(ctx context.Context, q app.OutboxQuery) ([]*app.OutboxMessage, error) {
	tx := r.db(ctx).Table("outbox")
	switch q.State {
	case app.OutboxPending:
		tx = tx.Where("delivered_at IS NULL")
	case app.OutboxFailing:
		tx = tx.Where("delivered_at IS NULL AND attempts > 0")
	case app.OutboxDelivered:
		tx = tx.Where("delivered_at IS NOT NULL")
	}
	if q.Target != "" {
		tx = tx.Where("target = ?", q.Target)
	}
	if q.BeforeID > 0 {
		tx = tx.Where("id < ?", q.BeforeID)
	}
	var rows []outboxRow
	if err := tx.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	out := make([]*app.OutboxMessage, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r outboxRepo) Release(ctx context.Context, prefix string) (int64, error) {
	res := r.db(ctx).Table("outbox").Where("delivered_at IS NULL AND claimed_by LIKE ? ESCAPE '!'", likePrefix(prefix)).
		Updates(map[string]any{"claimed_by": nil, "claimed_until": nil})
	if res.Error != nil {
		return 0, fmt.Errorf("release outbox claims: %w", res.Error)
	}
	return res.RowsAffected, nil
}

func (r outboxRepo) Retry(ctx context.Context, id int64, at time.Time) (*app.OutboxMessage, error) {
	var row outboxRow
	if err := r.db(ctx).Table("outbox").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("outbox message %d", id))
	}
	if row.DeliveredAt != nil {
		return nil, domain.Conflict("outbox message %d was delivered already", id)
	}
	res := r.db(ctx).Table("outbox").Where("id = ? AND delivered_at IS NULL", id).
		Updates(map[string]any{"next_attempt_at": at, "claimed_by": nil, "claimed_until": nil})
	if res.Error != nil {
		return nil, fmt.Errorf("retry outbox %d: %w", id, res.Error)
	}
	row.NextAttemptAt = at
	return row.toApp(), nil
}

// Leases.

type leaseRepo struct{ base }

func (r leaseRepo) Release(ctx context.Context, name, holder string) error {
	err := r.db(ctx).Table("leases").Where("name = ? AND holder = ?", name, holder).
		Updates(map[string]any{"holder": "", "expires_at": time.Unix(0, 0).UTC()}).Error
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

func (r leaseRepo) Acquire(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res := r.db(ctx).Table("leases").Where("name = ? AND (holder = ? OR expires_at < ?)", name, holder, now).
		Updates(map[string]any{"holder": holder, "expires_at": until})
	if res.Error != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	// MariaDB counts changed rows only: a renewal that sets the same values
	// (a clock that did not move) changes none. Read who holds it.
	var row struct {
		Holder    string
		ExpiresAt time.Time
	}
	if err := r.db(ctx).Table("leases").Where("name = ?", name).Take(&row).Error; err != nil {
		return false, notFound(err, "lease "+name)
	}
	return row.Holder == holder && !row.ExpiresAt.Before(until), nil
}
