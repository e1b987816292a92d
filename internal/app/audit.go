package app

import (
	"context"
	"errors"
	"fmt"

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
func (s *Service) Audit(ctx context.Context, c Caller, q AuditQuery) ([]*audit.Entry, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	q.Ascending = false
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	return s.store.Read().Audit.List(ctx, q)
}

// VerifyResult is the outcome of checking the whole trail.
type VerifyResult struct {
	OK          bool
	Checked     int
	FirstBad    *int64 // global sequence of the first bad entry
	Reason      string
	Checkpoints int
}

// VerifyAudit recomputes every stream's hash chain, compares each with its
// recorded head, and checks every signed checkpoint against the entries it
// commits to. It names the first bad entry in trail order.
func (s *Service) VerifyAudit(ctx context.Context, c Caller) (*VerifyResult, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	return s.verifyAudit(ctx)
}

func (s *Service) verifyAudit(ctx context.Context) (*VerifyResult, error) {
	const page = 500
	r := s.store.Read().Audit
	res := &VerifyResult{}
	var worst *audit.Finding
	verifyStreams := func(streams []string, heads map[string]*audit.Head) error {
		entries, err := r.StreamEntries(ctx, streams)
		if err != nil {
			return err
		}
		byStream := map[string][]*audit.Entry{}
		for _, e := range entries {
			byStream[e.Stream] = append(byStream[e.Stream], e)
		}
		for _, st := range streams {
			v := audit.NewStreamVerifier(st)
			for _, e := range byStream[st] {
				v.Add(e)
			}
			worst = audit.Earliest(worst, v.Finish(heads[st]))
			res.Checked += v.Checked()
		}
		return nil
	}
	after := ""
	for {
		hs, err := r.Heads(ctx, after, page)
		if err != nil {
			return nil, err
		}
		if len(hs) == 0 {
			break
		}
		streams := make([]string, len(hs))
		heads := map[string]*audit.Head{}
		for i := range hs {
			streams[i] = hs[i].Stream
			heads[hs[i].Stream] = &hs[i]
		}
		if err := verifyStreams(streams, heads); err != nil {
			return nil, err
		}
		after = streams[len(streams)-1]
	}
	orphans, err := r.OrphanStreams(ctx)
	if err != nil {
		return nil, err
	}
	if len(orphans) > 0 {
		if err := verifyStreams(orphans, nil); err != nil {
			return nil, err
		}
	}
	cpFinding, cpReason, err := s.verifyCheckpoints(ctx, res)
	if err != nil {
		return nil, err
	}
	worst = audit.Earliest(worst, cpFinding)
	switch {
	case worst != nil:
		res.FirstBad, res.Reason = &worst.Seq, worst.String()
	case cpReason != "":
		res.Reason = cpReason
	default:
		res.OK = true
	}
	return res, nil
}

// verifyCheckpoints checks the signed checkpoints: their signatures, their
// chain of roots, and that every head they commit to is still in the trail.
func (s *Service) verifyCheckpoints(ctx context.Context, res *VerifyResult) (*audit.Finding, string, error) {
	r := s.store.Read().Audit
	var (
		worst    *audit.Finding
		prevRoot = audit.GenesisHash()
		number   int64
	)
	for {
		cps, err := r.Checkpoints(ctx, number, 100)
		if err != nil {
			return nil, "", err
		}
		if len(cps) == 0 {
			return worst, "", nil
		}
		for _, cp := range cps {
			if cp.Number != number+1 {
				return worst, fmt.Sprintf("checkpoint %d is missing", number+1), nil
			}
			if err := s.keys.VerifyCheckpoint(cp); err != nil {
				return worst, err.Error(), nil
			}
			if cp.PrevRoot != prevRoot {
				return worst, fmt.Sprintf("checkpoint %d does not follow checkpoint %d", cp.Number, number), nil
			}
			if f, err := checkCommittedHeads(ctx, r, cp); err != nil {
				return nil, "", err
			} else {
				worst = audit.Earliest(worst, f)
			}
			res.Checkpoints++
			number, prevRoot = cp.Number, cp.Root
		}
	}
}

func checkCommittedHeads(ctx context.Context, r AuditRepo, cp *audit.Checkpoint) (*audit.Finding, error) {
	var worst *audit.Finding
	for start := 0; start < len(cp.Heads); start += 500 {
		heads := cp.Heads[start:min(start+500, len(cp.Heads))]
		ids := make([]int64, len(heads))
		for i, h := range heads {
			ids[i] = h.EntryID
		}
		entries, err := r.EntriesByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		byID := map[int64]*audit.Entry{}
		for _, e := range entries {
			byID[e.Seq] = e
		}
		for _, h := range heads {
			e := byID[h.EntryID]
			switch {
			case e == nil:
				worst = audit.Earliest(worst, &audit.Finding{Seq: h.EntryID, Stream: h.Stream,
					Reason: fmt.Sprintf("missing, though signed checkpoint %d commits to it", cp.Number)})
			case e.Stream != h.Stream || e.StreamSeq != h.Seq || e.Hash != h.Hash:
				worst = audit.Earliest(worst, &audit.Finding{Seq: h.EntryID, Stream: h.Stream,
					Reason: fmt.Sprintf("differs from what signed checkpoint %d commits to", cp.Number)})
			}
		}
	}
	return worst, nil
}

// Checkpoint signs the heads of every stream that changed since the last
// checkpoint. It returns nil when nothing changed, or when another instance
// wrote the same checkpoint first.
func (s *Service) Checkpoint(ctx context.Context) (*audit.Checkpoint, error) {
	var out *audit.Checkpoint
	err := s.store.Tx(ctx, func(r Repos) error {
		out = nil
		heads, err := r.Audit.PendingHeads(ctx, 5000)
		if err != nil || len(heads) == 0 {
			return err
		}
		latest, err := r.Audit.LatestCheckpoint(ctx)
		if err != nil {
			return err
		}
		n, prev := int64(1), audit.GenesisHash()
		if latest != nil {
			n, prev = latest.Number+1, latest.Root
		}
		cp, err := s.keys.NewCheckpoint(n, s.now(), prev, heads)
		if err != nil {
			return err
		}
		if err := r.Audit.SaveCheckpoint(ctx, cp); err != nil {
			return err
		}
		out = cp
		return nil
	})
	if errors.Is(err, domain.ErrConflict) {
		return nil, nil
	}
	return out, err
}

// LatestCheckpoint returns the newest signed checkpoint, for external witnesses; nil when none.
func (s *Service) LatestCheckpoint(ctx context.Context, c Caller) (*audit.Checkpoint, error) {
	if err := requireAuditReader(c.Actor); err != nil {
		return nil, err
	}
	return s.store.Read().Audit.LatestCheckpoint(ctx)
}

// AuditVerifierKey returns the public key that checks checkpoint signatures.
func (s *Service) AuditVerifierKey() string { return s.keys.VerifierKey() }

// Audit actions besides the lifecycle's, and the object types entries name.
const (
	ActionLogin             = "login"
	ActionLogout            = "logout"
	ActionBootstrap         = "bootstrap"
	ActionUnitCreate        = "unit_create"
	ActionUnitUpdate        = "unit_update"
	ActionUserCreate        = "user_create"
	ActionUserUpdate        = "user_update"
	ActionUserResetPassword = "user_reset_password"
	ActionCategoryCreate    = "category_create"
	ActionCategoryUpdate    = "category_update"
)

// AuditActions lists every action an entry may record.
func AuditActions() []string {
	var out []string
	for _, a := range domain.Actions() {
		out = append(out, string(a))
	}
	out = append(out, ActionLogin, ActionLogout, ActionBootstrap, ActionUnitCreate, ActionUnitUpdate,
		ActionUserCreate, ActionUserUpdate, ActionUserResetPassword, ActionCategoryCreate, ActionCategoryUpdate,
		ActionAttachmentUpload, ActionRecheck, EscalationApproaching, EscalationOverdue, EscalationEscalated,
		ActionOutboxRetry)
	out = append(out, DirectoryAuditActions()...) // directory.go
	return append(out, BoardAuditActions()...)    // evaluation.go
}

// AuditObjectTypes lists the kinds of object entries name.
func AuditObjectTypes() []string {
	return append([]string{"problem", "user", "unit", "category", ObjectAttachment, "outbox"}, BoardAuditObjectTypes()...)
}

// AuditOutcomes lists the outcomes entries record.
func AuditOutcomes() []string { return []string{audit.OutcomeOK, audit.OutcomeRefused} }
