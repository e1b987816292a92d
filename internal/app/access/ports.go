package access

import (
	"context"
	"github.com/rectify-team/rectify/internal/app"
)

// The adapters this capability uses, implemented outside the use cases.

// Directory is an LDAP or Active Directory server: identity providers sit
// behind this one seam (internal/ldapauth implements it).
type Directory interface {
	// Authenticate checks a person's password with the directory.
	Authenticate(ctx context.Context, username, password string) (*app.DirectoryPerson, error)
	// Lookup reads a person without their password, for the periodic sync.
	Lookup(ctx context.Context, username string) (*app.DirectoryPerson, error)
}

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
	Exchange(ctx context.Context, redirectURL, code, verifier, nonce string) (*app.DirectoryPerson, error)
}
