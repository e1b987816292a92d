package store

import (
	"context"
	"fmt"
	"time"

	"github.com/rectify-team/rectify/internal/app"
)

// OpenID Connect sign-ins under way (app/oidc.go): a row per started sign-in,
// deleted by the callback that consumes it, so that a state works once.

type signInRow struct {
	StateHash   string `gorm:"primaryKey"`
	BindingHash string
	Nonce       string
	Verifier    string
	RedirectURL string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

type signInRepo struct{ base }

func (r signInRepo) Create(ctx context.Context, s *app.OIDCSignIn) error {
	row := signInRow{StateHash: s.StateHash, BindingHash: s.BindingHash, Nonce: s.Nonce, Verifier: s.Verifier,
		RedirectURL: s.RedirectURL, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
	if err := r.db(ctx).Table("oidc_sign_ins").Create(&row).Error; err != nil {
		return fmt.Errorf("insert oidc sign-in: %w", err)
	}
	return nil
}

// Take reads and deletes in one transaction (the caller's); the DELETE's row
// count decides, so that of two callbacks racing with one state only one wins.
func (r signInRepo) Take(ctx context.Context, stateHash string) (*app.OIDCSignIn, error) {
	var row signInRow
	if err := r.db(ctx).Table("oidc_sign_ins").Where("state_hash = ?", stateHash).Take(&row).Error; err != nil {
		return nil, notFound(err, "oidc sign-in")
	}
	res := r.db(ctx).Table("oidc_sign_ins").Where("state_hash = ?", stateHash).Delete(nil)
	if res.Error != nil {
		return nil, fmt.Errorf("consume oidc sign-in: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, fmt.Errorf("oidc sign-in taken meanwhile: %w", errNotFound)
	}
	return &app.OIDCSignIn{StateHash: row.StateHash, BindingHash: row.BindingHash, Nonce: row.Nonce, Verifier: row.Verifier,
		RedirectURL: row.RedirectURL, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC()}, nil
}

func (r signInRepo) Purge(ctx context.Context, before time.Time) error {
	return r.db(ctx).Table("oidc_sign_ins").Where("expires_at < ?", before).Delete(nil).Error
}
