// Package oidcauth signs people in through an OpenID Connect provider: the
// authorization code flow with PKCE, state and nonce, issuer discovery and
// ID-token validation (github.com/coreos/go-oidc and golang.org/x/oauth2).
// It implements access.OIDCProvider.
package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/access"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rectify-team/rectify/internal/app"
)

// Config names the provider, the client registered with it and the claims
// that carry a person's username, name, groups and unit.
type Config struct {
	Issuer       string // discovery at Issuer/.well-known/openid-configuration
	ClientID     string
	ClientSecret string
	Scopes       []string // besides openid; default profile, email
	// Claims: UsernameClaim (default preferred_username), NameClaim (default
	// name), GroupsClaim (default groups; a string or an array), UnitClaim
	// (none by default; a string, split at "/" into a path, or an array).
	UsernameClaim string
	NameClaim     string
	GroupsClaim   string
	UnitClaim     string
	HTTPClient    *http.Client // nil: a client with a 10s timeout
}

// Provider is an OpenID provider, discovered on first use and kept once found.
type Provider struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
}

var _ access.OIDCProvider = (*Provider)(nil)

// New checks the configuration; it does not connect (see Check).
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("OIDC issuer %q: want an https:// URL", cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("OIDC: a client ID is required")
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile", "email"}
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if cfg.NameClaim == "" {
		cfg.NameClaim = "name"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg}, nil
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", app.ErrDirectoryUnavailable, what, err)
}

func refused(format string, args ...any) error {
	return &app.SignInRefusedError{Reason: fmt.Sprintf(format, args...)}
}

func (p *Provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.cfg.HTTPClient)
}

// discover reads the issuer's configuration once it answers.
func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	prov, err := oidc.NewProvider(p.ctx(ctx), p.cfg.Issuer)
	if err != nil {
		return nil, unavailable("discovery at "+p.cfg.Issuer, err)
	}
	p.provider = prov
	return prov, nil
}

// Check discovers the provider: at start, so that a wrong issuer shows in
// the log at once.
func (p *Provider) Check(ctx context.Context) error {
	_, err := p.discover(ctx)
	return err
}

func (p *Provider) oauth(prov *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: prov.Endpoint(),
		RedirectURL: redirectURL, Scopes: append([]string{oidc.ScopeOpenID}, p.cfg.Scopes...)}
}

// AuthURL is the authorization endpoint with state, nonce and the S256 challenge.
func (p *Provider) AuthURL(ctx context.Context, redirectURL, state, nonce, verifier string) (string, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth(prov, redirectURL).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange redeems the code and checks the ID token.
func (p *Provider) Exchange(ctx context.Context, redirectURL, code, verifier, nonce string) (*app.DirectoryPerson, error) {
	prov, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx = p.ctx(ctx)
	tok, err := p.oauth(prov, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
		why := re.ErrorCode
		if re.ErrorDescription != "" {
			why += ": " + re.ErrorDescription
		}
		return nil, refused("the provider refused the code (%s)", why)
	case err != nil:
		return nil, unavailable("token endpoint", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, refused("the provider answered without an ID token")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}).Verify(ctx, raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return nil, refused("the ID token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
	case err != nil && strings.Contains(err.Error(), "audience"):
		return nil, refused("the ID token is for another client (%v)", err)
	case err != nil && strings.Contains(err.Error(), "signature"):
		return nil, refused("the ID token's signature does not verify")
	case err != nil:
		return nil, refused("the ID token is not valid (%v)", err)
	}
	if idt.Nonce != nonce {
		return nil, refused("the ID token's nonce is not this sign-in's")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, refused("the ID token's claims do not decode (%v)", err)
	}
	person := &app.DirectoryPerson{Subject: idt.Subject, Username: claimString(claims, p.cfg.UsernameClaim),
		Name: claimString(claims, p.cfg.NameClaim), Groups: claimStrings(claims, p.cfg.GroupsClaim, "")}
	if p.cfg.UnitClaim != "" {
		person.Unit = claimStrings(claims, p.cfg.UnitClaim, "/")
	}
	return person, nil
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}

// claimStrings reads a string or an array of strings; a string is split at sep when given.
func claimStrings(claims map[string]any, name, sep string) []string {
	var out []string
	switch v := claims[name].(type) {
	case string:
		if sep == "" {
			return []string{v}
		}
		for _, part := range strings.Split(v, sep) {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	return out
}
