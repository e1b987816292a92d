package app

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// ActionPasswordChange is a user changing their own password.
const ActionPasswordChange = "password_change"

// ChangePassword sets the caller's own password after checking the current
// one, and revokes every session of theirs, as a reset does: whoever else
// held one must sign in again.
func (s *Service) ChangePassword(ctx context.Context, c Caller, current, password string) error {
	rec := record{stream: audit.SystemStream, action: ActionPasswordChange, objectType: "user", objectID: idString(c.Actor.UserID)}
	err := s.store.Tx(ctx, func(r Repos) error {
		u, err := r.Users.Get(ctx, c.Actor.UserID)
		if err != nil {
			return err
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
			return domain.Invalid("current_password", "is not your current password")
		}
		if u.PasswordHash, err = s.HashPassword(password); err != nil {
			return err
		}
		now := s.now()
		u.UpdatedAt = now
		if err := r.Users.Update(ctx, u); err != nil {
			return err
		}
		if err := r.Sessions.RevokeUser(ctx, u.ID, now); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		rec := rec
		rec.changes = map[string]any{"password": "changed", "sessions": "revoked"}
		return r.Audit.Append(ctx, s.entry(c, now, rec))
	})
	if err != nil && refusable(err) {
		s.auditRefusal(ctx, c, rec, err)
	}
	return err
}
