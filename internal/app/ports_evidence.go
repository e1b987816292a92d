package app

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Attachment is an uploaded file (evidence). Its content lives in the
// BlobStore under its SHA-256; the row keeps what the uploader called it.
type Attachment struct {
	ID          int64
	SHA256      string
	Size        int64
	ContentType string // detected from the content, never from the name
	Name        string
	UploadedBy  int64
	CreatedAt   time.Time
}

// Evidence returns the attachment as the domain records it in an action.
func (a *Attachment) Evidence() domain.Evidence {
	return domain.Evidence{ID: a.ID, Name: a.Name, SHA256: a.SHA256, Size: a.Size, ContentType: a.ContentType}
}

// ProblemAttachment is an attachment as a problem uses it: which action brought it, who and when.
type ProblemAttachment struct {
	Attachment
	ProblemID  int64
	Action     domain.Action
	AttachedBy int64
	AttachedAt time.Time
}

// AttachmentRepo stores attachments and their links to problems.
type AttachmentRepo interface {
	Create(ctx context.Context, a *Attachment) error // sets ID
	// Get answers domain.ErrNotFound for an absent id.
	Get(ctx context.Context, id int64) (*Attachment, error)
	// GetMany returns the attachments with these ids that exist, in any order.
	GetMany(ctx context.Context, ids []int64) ([]*Attachment, error)
	// ProblemIDs lists the problems an attachment is attached to.
	ProblemIDs(ctx context.Context, attachmentID int64) ([]int64, error)
	// Attach links attachments to a problem; links that exist already stay as they are.
	Attach(ctx context.Context, problemID int64, ids []int64, action domain.Action, by int64, at time.Time) error
	// Stored reports which of these contents an attachment row names.
	Stored(ctx context.Context, sha256s []string) (map[string]bool, error)
	// ForProblem lists a problem's attachments, oldest link first.
	ForProblem(ctx context.Context, problemID int64) ([]*ProblemAttachment, error)
}

// MilestoneRepo stores problems' milestones. ProblemRepo's Get and List load
// them into domain.Problem.Milestones.
type MilestoneRepo interface {
	// Save makes the stored milestones of a problem those given: rows not in
	// the list are deleted, new ones (ID 0) inserted and their IDs set, the
	// others updated.
	Save(ctx context.Context, problemID int64, ms []domain.Milestone, at time.Time) error
}

// Blob is a stored content.
type Blob struct {
	SHA256      string // hex
	Size        int64
	ContentType string // from the magic bytes, e.g. "application/pdf", "text/plain; charset=utf-8"
}

// IdempotencyRecord is a used Idempotency-Key with its first answer.
type IdempotencyRecord struct {
	UserID      int64
	Key         string
	RequestHash string
	Payload     []byte // the first answer as the face rendered it; nil until completed
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// IdempotencyRepo stores used Idempotency-Keys, unique per user.
type IdempotencyRepo interface {
	// Claim inserts the key. If the user holds it already and it has not
	// expired, it answers an error matching domain.ErrConflict; an expired one
	// is replaced. On MySQL a concurrent claim of the same key waits for the
	// first transaction to end.
	Claim(ctx context.Context, rec *IdempotencyRecord) error
	// Complete stores the answer of a claimed key, an opaque payload.
	Complete(ctx context.Context, userID int64, key string, payload []byte) error
	// Get answers domain.ErrNotFound when the user holds no such key.
	Get(ctx context.Context, userID int64, key string) (*IdempotencyRecord, error)
	// Purge deletes up to limit keys that expired before t; it returns how many.
	Purge(ctx context.Context, before time.Time, limit int) (int64, error)
}
