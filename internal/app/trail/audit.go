package trail

import (
	"context"
	"github.com/rectify-team/rectify/internal/app"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

func requireAuditReader(a domain.Actor) error {
	if !a.ReadsAudit() {
		return domain.Forbidden("role_required", "the audit trail is for verifiers, leaders and admins")
	}
	return nil
}

// Audit lists trail entries, newest first.
func (s *Service) Audit(ctx context.Context, c app.Caller, q app.AuditQuery) ([]*audit.Entry, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	q.Ascending = false
	if q.Limit <= 0 {
		q.Limit = app.DefaultPageSize
	}
	return s.store.Read().Audit.List(ctx, q)
}

// LatestCheckpoint returns the newest signed checkpoint, for external witnesses; nil when none.
func (s *Service) LatestCheckpoint(ctx context.Context, c app.Caller) (*audit.Checkpoint, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	return s.store.Read().Audit.LatestCheckpoint(ctx)
}

// AuditVerifierKey returns the public key that checks checkpoint signatures.
func (s *Service) AuditVerifierKey() string { return s.keys.VerifierKey() }
