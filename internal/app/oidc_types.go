package app

import (
	"context"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// OIDCSource is the configured OpenID Connect way in.
type OIDCSource struct {
	IdentitySource
	// RedirectURLs are the callbacks registered with the provider; the first
	// is the API's (GET /api/v1/auth/oidc/callback), others e.g. the console's.
	RedirectURLs []string
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

// OIDCCallback is what the provider sent back through the browser, and the
// binding the face kept since StartOIDC.
type OIDCCallback struct {
	State            string
	Code             string
	Error            string // the provider's error code, when it refused
	ErrorDescription string
	Binding          string
}
