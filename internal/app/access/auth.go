package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/password"
)

// Login checks a password and opens a session. Repeated failures for one
// username or one IP within the window are throttled (domain.ErrTooManyAttempts).
func (s *Service) Login(ctx context.Context, c app.Caller, username, password string) (*app.LoginResult, error) {
	username = app.NormalizeUsername(username)
	var v domain.Validator
	v.Text("username", username, true, 64)
	v.Check(password != "", "password", "is required")
	v.Check(len(password) <= 72, "password", "is longer than 72 bytes")
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionLogin, ObjectType: "user", ObjectID: username}
	since := s.core.Timestamp().Add(-s.cfg.LoginWindow)
	byUser, byIP, err := s.store.Read().Sessions.CountFailures(ctx, username, c.IP, since)
	if err != nil {
		return nil, err
	}
	if byUser >= s.cfg.MaxFailuresPerUser || byIP >= s.cfg.MaxFailuresPerIP {
		err := fmt.Errorf("too many failed logins; try again in %s: %w", s.cfg.LoginWindow, domain.ErrTooManyAttempts)
		s.core.AuditRefusal(ctx, c, rec, err)
		return nil, err
	}
	u, err := s.store.Read().Users.GetByUsername(ctx, username)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	if s.dir != nil && (u == nil || u.AuthSource == app.AuthLDAP) {
		return s.directoryLogin(ctx, c, username, password, u, rec)
	}
	why := ""
	switch {
	case u == nil:
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password)) // same work as a real check
		why = "unknown user"
	case u.AuthSource != app.AuthLocal && u.AuthSource != "":
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		why = "signs in through " + string(u.AuthSource) + ", not with a local password"
		if u.AuthSource == app.AuthLDAP {
			why += "; no directory is configured"
		}
	case bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil:
		why = "wrong password"
	case u.Disabled:
		why = "user disabled"
	}
	if why != "" {
		return nil, s.refuseLogin(ctx, c, username, rec, why, nil)
	}
	return s.openSession(ctx, c, username, rec, func(context.Context, app.Repos, time.Time) (*app.User, error) { return u, nil })
}

func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("rectify-dummy-password"), s.cfg.BcryptCost)
	})
	return s.dummy
}

// newToken returns a random bearer token and the hash under which it is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("token: %w", err)
	}
	token = "rct_" + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authenticate resolves a bearer token to its user. Expired, revoked and
// unknown tokens, and tokens of disabled users, are all ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*app.User, error) {
	if token == "" || len(token) > 200 {
		return nil, domain.ErrUnauthenticated
	}
	sess, u, err := s.store.Read().Sessions.Resolve(ctx, hashToken(token)) // one query on every request
	if errors.Is(err, domain.ErrNotFound) {
		return nil, domain.ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if sess.RevokedAt != nil || !s.clock().Before(sess.ExpiresAt) {
		return nil, domain.ErrUnauthenticated
	}
	if u.Disabled {
		return nil, domain.ErrUnauthenticated
	}
	return u, nil
}

// Logout revokes the caller's token.
func (s *Service) Logout(ctx context.Context, c app.Caller, token string) error {
	return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		if err := r.Sessions.Revoke(ctx, hashToken(token), now); err != nil {
			return err
		}
		return r.Audit.Append(ctx, s.core.Entry(c, now, app.Record{Stream: audit.SystemStream, Action: app.ActionLogout,
			ObjectType: "user", ObjectID: app.IDString(c.Actor.UserID)}))
	})
}

// HashPassword checks the password policy (internal/password) for the
// account username with roles, naming field, and hashes the password.
func (s *Service) HashPassword(field, pw, username string, roles []domain.Role) (string, error) {
	if err := password.Check(field, pw, username, slices.Contains(roles, domain.RoleAdmin)); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Bootstrap creates the root unit and the first admin on an empty database.
// It returns created=false when users already exist. When password is empty
// a random one is generated and returned, to be printed once.
func (s *Service) Bootstrap(ctx context.Context, orgName, password string) (created bool, generated string, err error) {
	n, err := s.store.Read().Users.Count(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	if password == "" {
		if password, err = app.GeneratePassword(); err != nil {
			return false, "", err
		}
		generated = password
	}
	hash, err := s.HashPassword("password", password, "admin", []domain.Role{domain.RoleAdmin})
	if err != nil {
		return false, "", fmt.Errorf("RECTIFY_ADMIN_PASSWORD: %w", err)
	}
	system := app.Caller{Actor: domain.Actor{Username: "system"}}
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		unit := &app.Unit{Name: orgName, CreatedAt: now, UpdatedAt: now}
		if err := r.Units.Create(ctx, unit); err != nil {
			return err
		}
		admin := &app.User{Username: "admin", Name: "系统管理员", PasswordHash: hash, Roles: []domain.Role{domain.RoleAdmin},
			UnitID: unit.ID, CreatedAt: now, UpdatedAt: now}
		if err := r.Users.Create(ctx, admin); err != nil {
			return err
		}
		return r.Audit.Append(ctx, s.core.Entry(system, now, app.Record{Stream: audit.SystemStream, Action: app.ActionBootstrap,
			ObjectType: "user", ObjectID: app.IDString(admin.ID), Changes: map[string]any{"username": "admin", "unit": orgName}}))
	})
	if errors.Is(err, domain.ErrConflict) { // another instance bootstrapped first
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	return true, generated, nil
}

// ChangePassword changes the caller's own password, given the current one,
// and ends the caller's other sessions: the one that asked (token) stays. A
// wrong current password counts as a failed login for throttling.
func (s *Service) ChangePassword(ctx context.Context, c app.Caller, token, oldPassword, newPassword string) error {
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionPasswordChange, ObjectType: "user", ObjectID: app.IDString(c.Actor.UserID)}
	audited := false
	err := func() error {
		var v domain.Validator
		v.Check(oldPassword != "", "old", "is required: your current password")
		v.Check(len(oldPassword) <= password.MaxBytes, "old", "is longer than 72 bytes")
		v.Check(newPassword != "", "new", "is required")
		if err := v.Err(); err != nil {
			return err
		}
		username := c.Actor.Username
		byUser, byIP, err := s.store.Read().Sessions.CountFailures(ctx, username, c.IP, s.core.Timestamp().Add(-s.cfg.LoginWindow))
		if err != nil {
			return err
		}
		if byUser >= s.cfg.MaxFailuresPerUser || byIP >= s.cfg.MaxFailuresPerIP {
			return fmt.Errorf("too many failed attempts; try again in %s: %w", s.cfg.LoginWindow, domain.ErrTooManyAttempts)
		}
		u, err := s.store.Read().Users.Get(ctx, c.Actor.UserID)
		if err != nil {
			return err
		}
		if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(oldPassword)) != nil {
			wrong := domain.Invalid("old", "is not your current password")
			refusal := rec
			refusal.Outcome, refusal.Reason = audit.OutcomeRefused, "wrong current password"
			audited = true
			if err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
				if err := r.Sessions.RecordFailure(ctx, username, c.IP, now); err != nil {
					return err
				}
				return r.Audit.Append(ctx, s.core.Entry(c, now, refusal))
			}); err != nil {
				return err
			}
			return wrong
		}
		if newPassword == oldPassword {
			return domain.Invalid("new", "must differ from your current password")
		}
		hash, err := s.HashPassword("new", newPassword, u.Username, u.Roles)
		if err != nil {
			return err
		}
		return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
			if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
				return err
			}
			cur, err := r.Users.Get(ctx, u.ID)
			if err != nil {
				return err
			}
			if cur.PasswordHash != u.PasswordHash {
				return &domain.ConflictError{Reason: "the password was changed meanwhile; sign in again"}
			}
			cur.PasswordHash, cur.UpdatedAt = hash, now
			if err := r.Users.Update(ctx, cur); err != nil {
				return err
			}
			if err := r.Sessions.RevokeUserExcept(ctx, u.ID, hashToken(token), now); err != nil {
				return fmt.Errorf("revoke other sessions: %w", err)
			}
			if err := r.Sessions.ClearFailures(ctx, username); err != nil {
				return err
			}
			done := rec
			done.Changes = map[string]any{"password": "changed", "other_sessions": "revoked"}
			if err := r.Audit.Append(ctx, s.core.Entry(c, now, done)); err != nil {
				return err
			}
			return s.core.KeepResult(ctx, r, c, nil)
		})
	}()
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		if !audited && app.Refusable(err) && !errors.Is(err, app.ErrReplayed) {
			s.core.AuditRefusal(ctx, c, rec, err)
		}
		return err
	}
	return nil
}
