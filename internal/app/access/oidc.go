package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

var errOIDCOff = fmt.Errorf("OpenID Connect sign-in is not configured: %w", domain.ErrNotFound)

// StartOIDC begins an OpenID Connect sign-in towards redirectURL ("" for the
// API's callback; otherwise one of the configured callbacks, e.g. the web
// console's).
func (s *Service) StartOIDC(ctx context.Context, c app.Caller, redirectURL string) (*app.OIDCStart, error) {
	if s.oidc == nil {
		return nil, errOIDCOff
	}
	if redirectURL == "" && len(s.oidcSrc.RedirectURLs) > 0 {
		redirectURL = s.oidcSrc.RedirectURLs[0]
	}
	if !slices.Contains(s.oidcSrc.RedirectURLs, redirectURL) {
		return nil, domain.Invalid("redirect_url", "is not one of the configured OpenID Connect callbacks")
	}
	state, nonce, verifier, binding := randomText(), randomText(), randomText(), randomText()
	url, err := s.oidc.AuthURL(ctx, redirectURL, state, nonce, verifier)
	if err != nil {
		if errors.Is(err, app.ErrDirectoryUnavailable) {
			s.log.WarnContext(ctx, "OpenID Connect sign-in cannot start: the provider does not answer", "err", err)
		}
		return nil, err
	}
	now := s.core.Timestamp()
	in := &app.OIDCSignIn{StateHash: hashToken(state), BindingHash: hashToken(binding), Nonce: nonce, Verifier: verifier,
		RedirectURL: redirectURL, CreatedAt: now, ExpiresAt: now.Add(app.OIDCSignInTTL)}
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, _ time.Time) error {
		if err := r.SignIns.Purge(ctx, now); err != nil {
			return err
		}
		return r.SignIns.Create(ctx, in)
	})
	if err != nil {
		return nil, err
	}
	return &app.OIDCStart{URL: url, Binding: binding, ExpiresAt: in.ExpiresAt}, nil
}

// FinishOIDC completes an OpenID Connect sign-in: it consumes the state
// (once), redeems the code, checks the ID token, maps its claims to the
// user's name, roles and unit (creating the user on a first sign-in) and
// issues a Rectify token. The API answers the token as JSON; the web console
// calls this too and sets its session cookie from the result. Every refusal
// is audited and counted against the client's address.
func (s *Service) FinishOIDC(ctx context.Context, c app.Caller, in app.OIDCCallback) (*app.LoginResult, error) {
	if s.oidc == nil {
		return nil, errOIDCOff
	}
	rec := app.Record{Stream: audit.SystemStream, Action: app.ActionLogin, ObjectType: "user", ObjectID: "oidc",
		Changes: map[string]any{"source": string(app.AuthOIDC)}}
	_, byIP, err := s.store.Read().Sessions.CountFailures(ctx, "", c.IP, s.core.Timestamp().Add(-s.cfg.LoginWindow))
	if err != nil {
		return nil, err
	}
	if byIP >= s.cfg.MaxFailuresPerIP {
		err := fmt.Errorf("too many failed logins; try again in %s: %w", s.cfg.LoginWindow, domain.ErrTooManyAttempts)
		s.core.AuditRefusal(ctx, c, rec, err)
		return nil, err
	}
	refuse := func(username, why string, also func(ctx context.Context, r app.Repos, now time.Time) error) error {
		if err := s.refuseLogin(ctx, c, username, rec, why, also); !errors.Is(err, app.ErrBadCredentials) {
			return err
		}
		return &app.SignInRefusedError{Reason: why}
	}
	if in.State == "" || len(in.State) > 200 {
		return nil, refuse("", "the callback carries no state", nil)
	}
	var started *app.OIDCSignIn
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		var err error
		started, err = r.SignIns.Take(ctx, hashToken(in.State))
		return err
	})
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, refuse("", "unknown or already used state", nil)
	case err != nil:
		return nil, err
	case !s.core.Timestamp().Before(started.ExpiresAt):
		return nil, refuse("", "the sign-in took longer than "+app.OIDCSignInTTL.String(), nil)
	case hashToken(in.Binding) != started.BindingHash:
		return nil, refuse("", "the callback came to another browser than the one that started the sign-in", nil)
	case in.Error != "":
		return nil, refuse("", "the provider refused: "+app.Truncate(in.Error+" "+in.ErrorDescription, 200), nil)
	case in.Code == "":
		return nil, refuse("", "the callback carries no code", nil)
	}
	p, err := s.oidc.Exchange(ctx, started.RedirectURL, in.Code, started.Verifier, started.Nonce)
	var refused *app.SignInRefusedError
	switch {
	case errors.Is(err, app.ErrDirectoryUnavailable):
		s.log.WarnContext(ctx, "OpenID Connect sign-in failed: the provider does not answer", "err", err)
		s.core.AuditRefusal(ctx, c, rec, err)
		return nil, err
	case errors.As(err, &refused):
		return nil, refuse("", refused.Reason, nil)
	case err != nil:
		return nil, err
	}
	username := app.NormalizeUsername(p.Username)
	if username == "" || len([]rune(username)) > 64 {
		return nil, refuse("", "the ID token names no usable username (1 to 64 characters)", nil)
	}
	rec.ObjectID = username
	u, err := s.store.Read().Users.GetByUsername(ctx, username)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	roles := mappedRoles(s.oidcSrc.Mapping, p.Groups)
	switch {
	case u != nil && u.AuthSource != app.AuthOIDC:
		return nil, refuse(username, fmt.Sprintf("user %s signs in through %s, not OpenID Connect", username, u.AuthSource), nil)
	case len(roles) == 0:
		why := "in no group that maps to a role"
		return nil, refuse(username, why, func(ctx context.Context, r app.Repos, now time.Time) error {
			if u != nil && !u.Disabled {
				return s.endDirectoryUser(ctx, r, now, c, app.AuthOIDC, u, why)
			}
			return nil
		})
	case u != nil && u.Disabled:
		return nil, refuse(username, "user disabled", nil)
	}
	p.Username = username
	return s.openSession(ctx, c, username, rec, func(ctx context.Context, r app.Repos, now time.Time) (*app.User, error) {
		return s.applyPerson(ctx, r, now, c, app.AuthOIDC, s.oidcSrc.Mapping, u, p, roles)
	})
}

// randomText is 32 random bytes in base64url: states, nonces, PKCE verifiers.
func randomText() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
