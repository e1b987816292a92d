package apptest

import (
	"github.com/rectify-team/rectify/internal/app/wire"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/oidcauth"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
)

// SignInMapping maps the test directory's and provider's groups to roles.
func SignInMapping() app.DirectoryMapping {
	return app.DirectoryMapping{GroupRoles: map[string][]domain.Role{
		"owners": {domain.RoleOwner}, "inspectors": {domain.RoleInspector}, "verifiers": {domain.RoleVerifier}}}
}

// LDAPOption is a service option signing people in against the directory cfg names.
func LDAPOption(t *testing.T, cfg ldapauth.Config) wire.Option {
	t.Helper()
	d, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return wire.WithDirectory(d, app.IdentitySource{DisplayName: "域账号", Mapping: SignInMapping()})
}

// OIDCOption is a service option signing people in through the test provider
// at issuer, back to these callbacks.
func OIDCOption(t *testing.T, issuer string, redirectURLs ...string) wire.Option {
	t.Helper()
	p, err := oidcauth.New(oidcauth.Config{Issuer: issuer, ClientID: optest.ClientID, ClientSecret: optest.ClientSecret,
		UnitClaim: "department"})
	if err != nil {
		t.Fatal(err)
	}
	return wire.WithOIDC(p, app.OIDCSource{IdentitySource: app.IdentitySource{DisplayName: "统一身份认证", Mapping: SignInMapping()},
		RedirectURLs: redirectURLs})
}
