package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Attachments.

type attachmentRow struct {
	ID          int64  `gorm:"primaryKey"`
	SHA256      string `gorm:"column:sha256"`
	Size        int64
	ContentType string
	Name        string
	UploadedBy  int64
	CreatedAt   time.Time
}

func (r attachmentRow) toApp() *app.Attachment {
	return &app.Attachment{ID: r.ID, SHA256: r.SHA256, Size: r.Size, ContentType: r.ContentType, Name: r.Name,
		UploadedBy: r.UploadedBy, CreatedAt: r.CreatedAt.UTC()}
}

type attachmentRepo struct{ base }

func (r attachmentRepo) Create(ctx context.Context, a *app.Attachment) error {
	row := attachmentRow{SHA256: a.SHA256, Size: a.Size, ContentType: a.ContentType, Name: a.Name,
		UploadedBy: a.UploadedBy, CreatedAt: a.CreatedAt}
	if err := r.db(ctx).Table("attachments").Create(&row).Error; err != nil {
		return fmt.Errorf("insert attachment: %w", err)
	}
	a.ID = row.ID
	return nil
}

func (r attachmentRepo) Get(ctx context.Context, id int64) (*app.Attachment, error) {
	var row attachmentRow
	if err := r.db(ctx).Table("attachments").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("attachment %d", id))
	}
	return row.toApp(), nil
}

func (r attachmentRepo) GetMany(ctx context.Context, ids []int64) ([]*app.Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []attachmentRow
	if err := r.db(ctx).Table("attachments").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load attachments: %w", err)
	}
	out := make([]*app.Attachment, len(rows))
	for i, row := range rows {
		out[i] = row.toApp()
	}
	return out, nil
}

func (r attachmentRepo) Stored(ctx context.Context, sums []string) (map[string]bool, error) {
	out := make(map[string]bool, len(sums))
	if len(sums) == 0 {
		return out, nil
	}
	var found []string
	if err := r.db(ctx).Table("attachments").Where("sha256 IN ?", sums).Distinct("sha256").Pluck("sha256", &found).Error; err != nil {
		return nil, fmt.Errorf("stored attachments: %w", err)
	}
	for _, s := range found {
		out[s] = true
	}
	return out, nil
}

func (r attachmentRepo) ProblemIDs(ctx context.Context, attachmentID int64) ([]int64, error) {
	var ids []int64
	err := r.db(ctx).Table("problem_attachments").Where("attachment_id = ?", attachmentID).
		Order("problem_id").Pluck("problem_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("problems of attachment %d: %w", attachmentID, err)
	}
	return ids, nil
}

type problemAttachmentRow struct {
	ProblemID    int64
	AttachmentID int64
	Action       string
	AttachedBy   int64
	AttachedAt   time.Time
}

func (r attachmentRepo) Attach(ctx context.Context, problemID int64, ids []int64, action domain.Action, by int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	rows := make([]problemAttachmentRow, len(ids))
	for i, id := range ids {
		rows[i] = problemAttachmentRow{ProblemID: problemID, AttachmentID: id, Action: string(action), AttachedBy: by, AttachedAt: at}
	}
	// A link that exists already keeps the action that first brought it.
	err := r.db(ctx).Table("problem_attachments").Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	if err != nil {
		return fmt.Errorf("attach to problem %d: %w", problemID, err)
	}
	return nil
}

func (r attachmentRepo) ForProblem(ctx context.Context, problemID int64) ([]*app.ProblemAttachment, error) {
	var rows []struct {
		ID          int64
		SHA256      string `gorm:"column:sha256"`
		Size        int64
		ContentType string
		Name        string
		UploadedBy  int64
		CreatedAt   time.Time
		ProblemID   int64
		Action      string
		AttachedBy  int64
		AttachedAt  time.Time
	}
	err := r.db(ctx).Table("problem_attachments pa").
		Select("a.*, pa.problem_id, pa.action, pa.attached_by, pa.attached_at").
		Joins("JOIN attachments a ON a.id = pa.attachment_id").
		Where("pa.problem_id = ?", problemID).Order("pa.attached_at, a.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("attachments of problem %d: %w", problemID, err)
	}
	out := make([]*app.ProblemAttachment, len(rows))
	for i, row := range rows {
		a := attachmentRow{ID: row.ID, SHA256: row.SHA256, Size: row.Size, ContentType: row.ContentType, Name: row.Name,
			UploadedBy: row.UploadedBy, CreatedAt: row.CreatedAt}
		out[i] = &app.ProblemAttachment{Attachment: *a.toApp(), ProblemID: row.ProblemID, Action: domain.Action(row.Action),
			AttachedBy: row.AttachedBy, AttachedAt: row.AttachedAt.UTC()}
	}
	return out, nil
}

// Milestones.

type milestoneRow struct {
	ID        int64 `gorm:"primaryKey"`
	ProblemID int64
	Due       string
	Title     string
	Done      bool
	DoneAt    *time.Time
	DoneBy    *int64
	CreatedAt time.Time
}

func (r milestoneRow) toDomain() (domain.Milestone, error) {
	due, err := domain.ParseDate(r.Due)
	if err != nil {
		return domain.Milestone{}, fmt.Errorf("milestone %d: due: %w", r.ID, err)
	}
	return domain.Milestone{ID: r.ID, Due: due, Title: r.Title, Done: r.Done, DoneAt: utcPtr(r.DoneAt), DoneBy: deref(r.DoneBy)}, nil
}

type milestoneRepo struct{ base }

func (r milestoneRepo) Save(ctx context.Context, problemID int64, ms []domain.Milestone, at time.Time) error {
	var keep []int64
	for _, m := range ms {
		if m.ID != 0 {
			keep = append(keep, m.ID)
		}
	}
	del := r.db(ctx).Table("milestones").Where("problem_id = ?", problemID)
	if len(keep) > 0 {
		del = del.Where("id NOT IN ?", keep)
	}
	if err := del.Delete(nil).Error; err != nil {
		return fmt.Errorf("replace milestones of problem %d: %w", problemID, err)
	}
	for i := range ms {
		m := &ms[i]
		if m.ID == 0 {
			row := milestoneRow{ProblemID: problemID, Due: m.Due.String(), Title: m.Title, Done: m.Done, DoneAt: m.DoneAt,
				DoneBy: nullID(m.DoneBy), CreatedAt: at}
			if err := r.db(ctx).Table("milestones").Create(&row).Error; err != nil {
				return fmt.Errorf("insert milestone of problem %d: %w", problemID, err)
			}
			m.ID = row.ID
			continue
		}
		err := r.db(ctx).Table("milestones").Where("id = ? AND problem_id = ?", m.ID, problemID).
			Updates(map[string]any{"done": m.Done, "done_at": m.DoneAt, "done_by": nullID(m.DoneBy)}).Error
		if err != nil {
			return fmt.Errorf("update milestone %d: %w", m.ID, err)
		}
	}
	// Behind its plan or not: the problem's light may change.
	return r.relight(ctx, []int64{problemID})
}

// behindScheduleSQL is the SQL of domain.Problem.BehindSchedule: a milestone
// of problem p whose due date lies before today and that is not done.
const behindScheduleSQL = "EXISTS (SELECT 1 FROM milestones m WHERE m.problem_id = p.id AND m.done = ? AND m.due < ?)"

// Idempotency keys.

type idempotencyRow struct {
	ID          int64 `gorm:"primaryKey"`
	UserID      int64
	IdemKey     string
	RequestHash string
	Payload     []byte // NULL until completed
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

type idempotencyRepo struct{ base }

func (r idempotencyRepo) insert(ctx context.Context, rec *app.IdempotencyRecord) error {
	row := idempotencyRow{UserID: rec.UserID, IdemKey: rec.Key, RequestHash: rec.RequestHash,
		CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}
	return r.db(ctx).Table("idempotency_keys").Create(&row).Error
}

func (r idempotencyRepo) Claim(ctx context.Context, rec *app.IdempotencyRecord) error {
	err := r.insert(ctx, rec)
	if !isDuplicate(err) {
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		return nil
	}
	// Taken: by a live key (a repeat, or another request), or by one that
	// expired and was not purged yet, which the new request replaces.
	res := r.db(ctx).Table("idempotency_keys").Where("user_id = ? AND idem_key = ? AND expires_at <= ?",
		rec.UserID, rec.Key, rec.CreatedAt).Delete(nil)
	if res.Error != nil {
		return fmt.Errorf("replace expired idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("idempotency key: %w", domain.Conflict("the key is in use"))
	}
	if err := r.insert(ctx, rec); err != nil {
		return duplicateAsConflict(err, "claim idempotency key")
	}
	return nil
}

func (r idempotencyRepo) Complete(ctx context.Context, userID int64, key string, payload []byte) error {
	if payload == nil {
		payload = []byte{} // completed, with an empty answer: not NULL
	}
	res := r.db(ctx).Table("idempotency_keys").Where("user_id = ? AND idem_key = ?", userID, key).
		Update("payload", payload)
	if res.Error != nil {
		return fmt.Errorf("store the response of an idempotency key: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return errors.New("store the response of an idempotency key: the key was not claimed")
	}
	return nil
}

func (r idempotencyRepo) Get(ctx context.Context, userID int64, key string) (*app.IdempotencyRecord, error) {
	var row idempotencyRow
	err := r.db(ctx).Table("idempotency_keys").Where("user_id = ? AND idem_key = ?", userID, key).Take(&row).Error
	if err != nil {
		return nil, notFound(err, "idempotency key")
	}
	return &app.IdempotencyRecord{UserID: row.UserID, Key: row.IdemKey, RequestHash: row.RequestHash,
		Payload: row.Payload, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC()}, nil
}

func (r idempotencyRepo) Purge(ctx context.Context, before time.Time, limit int) (int64, error) {
	var ids []int64
	err := r.db(ctx).Table("idempotency_keys").Where("expires_at <= ?", before).Order("expires_at").Limit(limit).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	res := r.db(ctx).Table("idempotency_keys").Where("id IN ? AND expires_at <= ?", ids, before).Delete(nil)
	return res.RowsAffected, res.Error
}
