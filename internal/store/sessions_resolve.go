package store

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/app"
)

// sessionUserRow is a session joined with its user and the user's unit path.
type sessionUserRow struct {
	ID               int64
	Username         string
	Name             string
	PasswordHash     string
	Roles            string
	UnitID           int64
	Disabled         bool
	AuthSource       string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	UnitPath         string
	SessionID        int64
	SessionCreatedAt time.Time
	ExpiresAt        time.Time
	RevokedAt        *time.Time
}

// Resolve reads a session and its user: every authenticated request makes
// it, so outside transactions it answers from the server's cache of resolved
// tokens when it can (authcache.go), and otherwise reads both in one query.
func (r sessionRepo) Resolve(ctx context.Context, hash string) (*app.Session, *app.User, error) {
	if r.tx != nil || r.auth == nil {
		return r.resolve(ctx, hash)
	}
	return r.auth.resolve(ctx, hash, r.resolve, r.readAuthEpoch)
}

func (r sessionRepo) resolve(ctx context.Context, hash string) (*app.Session, *app.User, error) {
	var row sessionUserRow
	err := r.db(ctx).Table("sessions t").
		Select("s.*, u.path AS unit_path, t.id AS session_id, t.created_at AS session_created_at, t.expires_at, t.revoked_at").
		Joins("JOIN users s ON s.id = t.user_id").Joins("JOIN units u ON u.id = s.unit_id").
		Where("t.token_hash = ?", hash).Take(&row).Error
	if err != nil {
		return nil, nil, notFound(err, "session")
	}
	u := userRow{ID: row.ID, Username: row.Username, Name: row.Name, PasswordHash: row.PasswordHash, Roles: row.Roles,
		UnitID: row.UnitID, Disabled: row.Disabled, AuthSource: row.AuthSource, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, UnitPath: row.UnitPath}.toApp()
	return &app.Session{ID: row.SessionID, TokenHash: hash, UserID: u.ID, CreatedAt: row.SessionCreatedAt.UTC(),
		ExpiresAt: row.ExpiresAt.UTC(), RevokedAt: utcPtr(row.RevokedAt)}, u, nil
}
