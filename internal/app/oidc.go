package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// OIDCProvider is an OpenID Connect provider (internal/oidcauth implements
// it): the authorization code flow with PKCE, state and nonce.
type OIDCProvider interface {
	// AuthURL is the provider's authorization endpoint asking for a code
	// for redirectURL, carrying state, nonce and verifier's S256 challenge.
	AuthURL(ctx context.Context, redirectURL, state, nonce, verifier string) (string, error)
	// Exchange redeems code with verifier and checks the ID token: its
	// signature, issuer, audience, expiry and nonce. A token or answer that
	// fails a check is an *SignInRefusedError; a provider that does not answer
	// is ErrDirectoryUnavailable.
	Exchange(ctx context.Context, redirectURL, code, verifier, nonce string) (*DirectoryPerson, error)
}

// OIDCSource is the configured OpenID Connect way in.
type OIDCSource struct {
	IdentitySource
	// RedirectURLs are the callbacks registered with the provider; the first
	// is the API's (GET /api/v1/auth/oidc/callback), others e.g. the console's.
	RedirectURLs []string
}

// WithOIDC enables signing in through an OpenID provider.
func WithOIDC(p OIDCProvider, src OIDCSource) Option {
	return func(o *Options) { o.OIDC, o.OIDCSrc = p, src }
}

// SignInRefusedError is a refused OpenID Connect sign-in, with why: the
// reason is the provider's or the token's, never a secret, so the client
// sees it (401 sign_in_refused).
type SignInRefusedError struct{ Reason string }

func (e *SignInRefusedError) Error() string { return "sign-in refused: " + e.Reason }
func (e *SignInRefusedError) Unwrap() error { return domain.ErrUnauthenticated }

// OIDCSignIn is an OpenID Connect sign-in under way, kept on the server
// until its callback consumes it (once) or it expires.
type OIDCSignIn struct {
	StateHash   string
	BindingHash string
	Nonce       string
	Verifier    string
	RedirectURL string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// SignInRepo keeps OpenID Connect sign-ins under way.
type SignInRepo interface {
	Create(ctx context.Context, s *OIDCSignIn) error
	// Take deletes and returns the sign-in of a state hash; domain.ErrNotFound
	// when there is none (never issued, used already, or purged).
	Take(ctx context.Context, stateHash string) (*OIDCSignIn, error)
	// Purge deletes sign-ins expired before a time.
	Purge(ctx context.Context, before time.Time) error
}

// OIDCSignInTTL is how long a started sign-in may take to come back.
const OIDCSignInTTL = 10 * time.Minute

// OIDCStart is where to send the browser, and the binding value the face
// keeps in a short-lived cookie and hands back to FinishOIDC: a callback
// from another browser (a login CSRF) does not carry it.
type OIDCStart struct {
	URL       string
	Binding   string
	ExpiresAt time.Time
}

var errOIDCOff = fmt.Errorf("OpenID Connect sign-in is not configured: %w", domain.ErrNotFound)

// StartOIDC begins an OpenID Connect sign-in towards redirectURL ("" for the
// API's callback; otherwise one of the configured callbacks, e.g. the web
// console's).
func (s *Service) StartOIDC(ctx context.Context, c Caller, redirectURL string) (*OIDCStart, error) {
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
		if errors.Is(err, ErrDirectoryUnavailable) {
			s.log.WarnContext(ctx, "OpenID Connect sign-in cannot start: the provider does not answer", "err", err)
		}
		return nil, err
	}
	now := s.now()
	in := &OIDCSignIn{StateHash: hashToken(state), BindingHash: hashToken(binding), Nonce: nonce, Verifier: verifier,
		RedirectURL: redirectURL, CreatedAt: now, ExpiresAt: now.Add(OIDCSignInTTL)}
	err = s.store.Tx(ctx, func(r Repos) error {
		if err := r.SignIns.Purge(ctx, now); err != nil {
			return err
		}
		return r.SignIns.Create(ctx, in)
	})
	if err != nil {
		return nil, err
	}
	return &OIDCStart{URL: url, Binding: binding, ExpiresAt: in.ExpiresAt}, nil
}

// OIDCCallback is what the provider sent back through the browser, and the
// binding the face kept since StartOIDC.
type OIDCCallback struct {
	State            string
	Code             string
	Error            string // the provider's error code, when it refused
	ErrorDescription string
	Binding          string
}

// FinishOIDC completes an OpenID Connect sign-in: it consumes the state
// (once), redeems the code, checks the ID token, maps its claims to the
// user's name, roles and unit (creating the user on a first sign-in) and
// issues a Rectify token. The API answers the token as JSON; the web console
// calls this too and sets its session cookie from the result. Every refusal
// is audited and counted against the client's address.
func (s *Service) FinishOIDC(ctx context.Context, c Caller, in OIDCCallback) (*LoginResult, error) {
	if s.oidc == nil {
		return nil, errOIDCOff
	}
	rec := Record{Stream: audit.SystemStream, Action: ActionLogin, ObjectType: "user", ObjectID: "oidc",
		Changes: map[string]any{"source": string(AuthOIDC)}}
	_, byIP, err := s.store.Read().Sessions.CountFailures(ctx, "", c.IP, s.now().Add(-s.cfg.LoginWindow))
	if err != nil {
		return nil, err
	}
	if byIP >= s.cfg.MaxFailuresPerIP {
		err := fmt.Errorf("too many failed logins; try again in %s: %w", s.cfg.LoginWindow, domain.ErrTooManyAttempts)
		s.auditRefusal(ctx, c, rec, err)
		return nil, err
	}
	refuse := func(username, why string, also func(Repos) error) error {
		if err := s.refuseLogin(ctx, c, username, rec, why, also); !errors.Is(err, ErrBadCredentials) {
			return err
		}
		return &SignInRefusedError{Reason: why}
	}
	if in.State == "" || len(in.State) > 200 {
		return nil, refuse("", "the callback carries no state", nil)
	}
	var started *OIDCSignIn
	err = s.store.Tx(ctx, func(r Repos) error {
		var err error
		started, err = r.SignIns.Take(ctx, hashToken(in.State))
		return err
	})
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, refuse("", "unknown or already used state", nil)
	case err != nil:
		return nil, err
	case !s.now().Before(started.ExpiresAt):
		return nil, refuse("", "the sign-in took longer than "+OIDCSignInTTL.String(), nil)
	case hashToken(in.Binding) != started.BindingHash:
		return nil, refuse("", "the callback came to another browser than the one that started the sign-in", nil)
	case in.Error != "":
		return nil, refuse("", "the provider refused: "+Truncate(in.Error+" "+in.ErrorDescription, 200), nil)
	case in.Code == "":
		return nil, refuse("", "the callback carries no code", nil)
	}
	p, err := s.oidc.Exchange(ctx, started.RedirectURL, in.Code, started.Verifier, started.Nonce)
	var refused *SignInRefusedError
	switch {
	case errors.Is(err, ErrDirectoryUnavailable):
		s.log.WarnContext(ctx, "OpenID Connect sign-in failed: the provider does not answer", "err", err)
		s.auditRefusal(ctx, c, rec, err)
		return nil, err
	case errors.As(err, &refused):
		return nil, refuse("", refused.Reason, nil)
	case err != nil:
		return nil, err
	}
	username := NormalizeUsername(p.Username)
	if username == "" || len([]rune(username)) > 64 {
		return nil, refuse("", "the ID token names no usable username (1 to 64 characters)", nil)
	}
	rec.ObjectID = username
	u, err := s.store.Read().Users.GetByUsername(ctx, username)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	roles := s.oidcSrc.Mapping.roles(p.Groups)
	switch {
	case u != nil && u.AuthSource != AuthOIDC:
		return nil, refuse(username, fmt.Sprintf("user %s signs in through %s, not OpenID Connect", username, u.AuthSource), nil)
	case len(roles) == 0:
		why := "in no group that maps to a role"
		return nil, refuse(username, why, func(r Repos) error {
			if u != nil && !u.Disabled {
				return s.endDirectoryUser(ctx, r, c, AuthOIDC, u, why)
			}
			return nil
		})
	case u != nil && u.Disabled:
		return nil, refuse(username, "user disabled", nil)
	}
	p.Username = username
	return s.openSession(ctx, c, username, rec, func(r Repos) (*User, error) {
		return s.applyPerson(ctx, r, c, AuthOIDC, s.oidcSrc.Mapping, u, p, roles)
	})
}

// randomText is 32 random bytes in base64url: states, nonces, PKCE verifiers.
func randomText() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
