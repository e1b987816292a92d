package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// errNoBlobs answers uploads and downloads on a service without a blob store.
var errNoBlobs = fmt.Errorf("attachments are not configured on this server: %w", app.ErrUnavailable)

// Upload stores a file as evidence (整改佐证材料). Its type is decided by its
// content against the allowed types, never by its name; its SHA-256 is
// recorded; the same content is stored once. Until it is attached to a
// problem, only the uploader sees it.
func (s *Service) Upload(ctx context.Context, c app.Caller, name string, content io.Reader) (*app.Attachment, error) {
	if s.blobs == nil {
		return nil, errNoBlobs
	}
	name = app.CleanFileName(name)
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionAttachmentUpload, ObjectType: app.ObjectAttachment,
		Changes: map[string]any{"name": name}}
	b, err := s.blobs.Put(content, func(b app.Blob) error {
		if b.Size == 0 {
			return domain.Invalid("file", "is empty")
		}
		if !domain.EvidenceTypeAllowed(b.ContentType) {
			return &domain.UnsupportedTypeError{Field: "file", Type: mediaType(b.ContentType), Reason: fmt.Sprintf(
				"the content is %s, which is not accepted as evidence (the file name does not matter); "+
					"accepted: images (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC), PDF, Office documents (Word, Excel, PowerPoint, "+
					"OpenDocument) and plain text", mediaType(b.ContentType))}
		}
		return nil
	})
	if err != nil {
		var (
			val    *domain.ValidationError
			unsupp *domain.UnsupportedTypeError
		)
		if errors.As(err, &val) || errors.As(err, &unsupp) {
			s.core.Observe(app.ActionAttachmentUpload, audit.OutcomeRefused)
			s.core.AuditRefusal(ctx, c, rec, err)
		}
		return nil, err
	}
	if k := c.Idempotency; k != nil && k.Hash == "" {
		// An upload is the same request when it brings the same file under the
		// same name (multipart boundaries differ between retries).
		sum := sha256.Sum256([]byte("POST /api/v1/attachments\n" + name + "\n" + b.SHA256))
		k.Hash = hex.EncodeToString(sum[:])
	}
	var out *app.Attachment
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		a := &app.Attachment{SHA256: b.SHA256, Size: b.Size, ContentType: b.ContentType, Name: name,
			UploadedBy: c.Actor.UserID, CreatedAt: now}
		if err := r.Attachments.Create(ctx, a); err != nil {
			return err
		}
		rec := rec
		// Each upload its own stream: uploads by different people share no
		// stream head (a row every upload would otherwise lock and write).
		rec.Stream, rec.ObjectID = attachmentStream(a.ID), app.IDString(a.ID)
		rec.Changes = map[string]any{"name": a.Name, "sha256": a.SHA256, "size": a.Size, "content_type": a.ContentType}
		if err := r.Audit.Append(ctx, s.core.Entry(c, now, rec)); err != nil {
			return err
		}
		out = a
		return s.core.KeepResult(ctx, r, c, a)
	})
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		return nil, err
	}
	s.core.Observe(app.ActionAttachmentUpload, audit.OutcomeOK)
	return out, nil
}

func attachmentStream(id int64) string { return "attachment/" + app.IDString(id) }

func mediaType(ct string) string {
	base, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(base)
}

// canSeeAttachment reports whether the actor may see a: its uploader while it
// is attached nowhere, afterwards whoever sees a problem it is attached to.
func canSeeAttachment(ctx context.Context, r app.Repos, actor domain.Actor, a *app.Attachment, seen map[int64]bool) (bool, error) {
	ids, err := r.Attachments.ProblemIDs(ctx, a.ID)
	if err != nil {
		return false, err
	}
	if len(ids) == 0 {
		return a.UploadedBy == actor.UserID, nil
	}
	for _, id := range ids {
		visible, ok := seen[id]
		if !ok {
			p, err := r.Problems.Get(ctx, id)
			if err != nil {
				return false, err
			}
			visible = actor.CanSee(p)
			seen[id] = visible
		}
		if visible {
			return true, nil
		}
	}
	return false, nil
}

// OpenAttachment returns an attachment the caller may see and its content;
// anything else is domain.ErrNotFound. The caller closes the content.
func (s *Service) OpenAttachment(ctx context.Context, c app.Caller, id int64) (*app.Attachment, io.ReadSeekCloser, error) {
	if s.blobs == nil {
		return nil, nil, errNoBlobs
	}
	r := s.store.Read()
	a, err := r.Attachments.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ok, err := canSeeAttachment(ctx, r, c.Actor, a, map[int64]bool{})
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("attachment %d: %w", id, domain.ErrNotFound)
	}
	f, err := s.blobs.Open(a.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("attachment %d: content %s: %w", id, a.SHA256, err)
	}
	return a, f, nil
}

// ProblemAttachments lists the attachments of a problem the caller may see.
func (s *Service) ProblemAttachments(ctx context.Context, c app.Caller, id int64) ([]*app.ProblemAttachment, error) {
	if _, err := app.VisibleProblem(ctx, s.store.Read(), c, id); err != nil {
		return nil, err
	}
	return s.store.Read().Attachments.ForProblem(ctx, id)
}

// DistinctIDs keeps the first occurrence of each id, in order, and refuses
// more than max distinct ones, naming field. Actions call it before their
// transaction opens; it stops at the first id past the bound, so an
// oversized list costs one pass over at most max+1 distinct ids and never
// the writer's lock.
func DistinctIDs(field string, ids []int64, max int) ([]int64, error) {
	return distinctSeq(field, slices.Values(ids), len(ids), max)
}

// distinctSeq is distinctIDs over a sequence of n ids.
func distinctSeq(field string, ids iter.Seq[int64], n, max int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	seen := make(map[int64]struct{}, min(n, max+1))
	uniq := make([]int64, 0, min(n, max))
	for id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		if len(uniq) == max {
			return nil, domain.Invalid(field, "names more than %d distinct ids; at most %d allowed", max, max)
		}
		seen[id] = struct{}{}
		uniq = append(uniq, id)
	}
	return uniq, nil
}

// EvidenceIDs is DistinctIDs for an action's attachment_ids.
func EvidenceIDs(ids []int64) ([]int64, error) {
	return DistinctIDs("attachment_ids", ids, domain.MaxAttachmentsPerAction)
}

// Resolve resolves the attachment_ids of an action, already made distinct
// and bounded by evidenceIDs: each must be the caller's own upload attached
// nowhere yet, or one the caller already sees. Anything else reads as
// unknown (400 naming the field), so that ids do not reveal other people's files.
func Resolve(ctx context.Context, r app.Repos, actor domain.Actor, uniq []int64) ([]domain.Evidence, []int64, error) {
	if len(uniq) == 0 {
		return nil, nil, nil
	}
	found, err := r.Attachments.GetMany(ctx, uniq)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]*app.Attachment, len(found))
	for _, a := range found {
		byID[a.ID] = a
	}
	var (
		v   domain.Validator
		out []domain.Evidence
	)
	seen := map[int64]bool{}
	for _, id := range uniq {
		a, ok := byID[id]
		if ok {
			if ok, err = canSeeAttachment(ctx, r, actor, a, seen); err != nil {
				return nil, nil, err
			}
		}
		if !ok {
			v.Add("attachment_ids", "no attachment with id %d that you may use (upload it first with POST /api/v1/attachments)", id)
			continue
		}
		out = append(out, a.Evidence())
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	return out, uniq, nil
}

// CollectOrphanBlobs removes stored contents that no attachment names and that
// were not stored (again) within OrphanGrace: the files of uploads whose
// transaction failed after the content was kept. Contents are compared with
// the wall clock, as the files' times are. It returns how many it removed.
func (s *Service) CollectOrphanBlobs(ctx context.Context) (int, error) {
	if s.blobs == nil {
		return 0, nil
	}
	cutoff := time.Now().Add(-app.OrphanGrace)
	var old []string
	err := s.blobs.Walk(func(sum string, modified time.Time) error {
		if modified.Before(cutoff) {
			old = append(old, sum)
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("walk stored contents: %w", err)
	}
	removed := 0
	for batch := range slices.Chunk(old, 500) {
		known, err := s.store.Read().Attachments.Stored(ctx, batch)
		if err != nil {
			return removed, err
		}
		for _, sum := range batch {
			if known[sum] {
				continue
			}
			ok, err := s.blobs.RemoveIfOlder(sum, cutoff)
			if err != nil {
				return removed, err
			}
			if ok {
				removed++
				s.log.InfoContext(ctx, "orphan attachment content removed", "sha256", sum)
			}
		}
	}
	return removed, nil
}
