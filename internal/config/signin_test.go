package config

import (
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestSignInSettings(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SignIn.LDAP != nil || c.SignIn.OIDC != nil || c.SignIn.SyncInterval != 15*time.Minute {
		t.Fatalf("defaults: %+v", c.SignIn)
	}
	c, err = Parse("rectify serve", []string{"--ldap-display-name", "域账号"}, env(map[string]string{
		"RECTIFY_LDAP_URL": "ldaps://ad.example.cn", "RECTIFY_LDAP_BASE_DN": "dc=example,dc=cn",
		"RECTIFY_LDAP_BIND_DN": "cn=svc,dc=example,dc=cn", "RECTIFY_LDAP_BIND_PASSWORD": "pw",
		"RECTIFY_LDAP_USER_FILTER": "(sAMAccountName={username})", "RECTIFY_LDAP_GROUP_ATTR": "memberOf",
		"RECTIFY_LDAP_GROUP_ROLES": `{"CN=QA,OU=Groups,DC=example,DC=cn":["inspector","owner"],"verifiers":["verifier"]}`,
		"RECTIFY_LDAP_UNIT_MAP":    `{"QA":4}`, "RECTIFY_LDAP_DEFAULT_UNIT": "2", "RECTIFY_LDAP_SYNC_INTERVAL": "0",
		"RECTIFY_OIDC_ISSUER": "https://sso.example.cn/realms/gov", "RECTIFY_OIDC_CLIENT_ID": "rectify",
		"RECTIFY_OIDC_CLIENT_SECRET": "s", "RECTIFY_OIDC_REDIRECT_URL": "https://r.example.cn/api/v1/auth/oidc/callback, https://r.example.cn/login/oidc",
		"RECTIFY_OIDC_SCOPES": "openid,profile,groups", "RECTIFY_OIDC_GROUP_ROLES": `{"leaders":["leader"]}`}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := c.SignIn
	if s.LDAP == nil || s.LDAP.BindPassword != "pw" || s.LDAP.GroupAttr != "memberOf" || s.LDAPName != "域账号" || s.SyncInterval != 0 ||
		!slices.Equal(s.LDAPMapping.GroupRoles["cn=qa,ou=groups,dc=example,dc=cn"], []domain.Role{domain.RoleInspector, domain.RoleOwner}) ||
		s.LDAPMapping.UnitByValue["QA"] != 4 || s.LDAPMapping.DefaultUnitID != 2 {
		t.Fatalf("ldap: %+v %+v", s.LDAP, s.LDAPMapping)
	}
	if s.OIDC == nil || s.OIDC.ClientSecret != "s" || !slices.Equal(s.OIDC.Scopes, []string{"profile", "groups"}) ||
		len(s.RedirectURLs) != 2 || s.RedirectURLs[1] != "https://r.example.cn/login/oidc" || s.OIDCName != "OpenID Connect" {
		t.Fatalf("oidc: %+v %v", s.OIDC, s.RedirectURLs)
	}

	ldap := map[string]string{"RECTIFY_LDAP_URL": "ldaps://ad", "RECTIFY_LDAP_BASE_DN": "dc=x", "RECTIFY_LDAP_GROUP_ROLES": `{"g":["owner"]}`}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	oidc := map[string]string{"RECTIFY_OIDC_ISSUER": "https://sso", "RECTIFY_OIDC_CLIENT_ID": "r",
		"RECTIFY_OIDC_REDIRECT_URL": "https://r/api/v1/auth/oidc/callback", "RECTIFY_OIDC_GROUP_ROLES": `{"g":["owner"]}`}
	if _, err := Parse("rectify serve", nil, env(ldap), io.Discard); err != nil {
		t.Fatalf("minimal ldap: %v", err)
	}
	if _, err := Parse("rectify serve", nil, env(oidc), io.Discard); err != nil {
		t.Fatalf("minimal oidc: %v", err)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{with(ldap, "RECTIFY_LDAP_GROUP_ROLES", ""), "RECTIFY_LDAP_GROUP_ROLES: required"},
		{with(ldap, "RECTIFY_LDAP_GROUP_ROLES", `{"g":["boss"]}`), "unknown role"},
		{with(ldap, "RECTIFY_LDAP_GROUP_ROLES", `["owner"]`), "JSON object"},
		{with(ldap, "RECTIFY_LDAP_UNIT_MAP", `{"x":0}`), "not a unit id"},
		{with(ldap, "RECTIFY_LDAP_BIND_DN", "cn=svc"), "RECTIFY_LDAP_BIND_PASSWORD"},
		{with(ldap, "RECTIFY_LDAP_SYNC_INTERVAL", "10s"), "RECTIFY_LDAP_SYNC_INTERVAL"},
		{with(ldap, "RECTIFY_LDAP_START_TLS", "maybe"), "RECTIFY_LDAP_START_TLS"},
		{with(oidc, "RECTIFY_OIDC_REDIRECT_URL", ""), "RECTIFY_OIDC_REDIRECT_URL: required"},
		{with(oidc, "RECTIFY_OIDC_REDIRECT_URL", "/relative"), "absolute URL"},
	} {
		_, err := Parse("rectify serve", nil, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one naming %q", tc.env, err, tc.want)
		}
	}
}

// TestAdapterChecks: the adapters' checks see the settings and their
// objections name the variables; without checks the settings pass as given.
func TestAdapterChecks(t *testing.T) {
	e := env(map[string]string{"RECTIFY_LDAP_URL": "ldaps://ad", "RECTIFY_LDAP_BASE_DN": "dc=x", "RECTIFY_LDAP_GROUP_ROLES": `{"g":["owner"]}`,
		"RECTIFY_OIDC_ISSUER": "https://sso", "RECTIFY_OIDC_CLIENT_ID": "r", "RECTIFY_OIDC_SCOPES": "openid,groups",
		"RECTIFY_OIDC_REDIRECT_URL": "https://r/api/v1/auth/oidc/callback", "RECTIFY_OIDC_GROUP_ROLES": `{"g":["owner"]}`,
		"RECTIFY_WEBHOOKS": `[{"name":"oa","kind":"generic","url":"https://oa.example.cn/hook","secret":"s","events":["problem.assigned"]}]`})
	var seenLDAP LDAP
	var seenOIDC OIDC
	var seenHooks string
	_, err := ParseChecked("rectify serve", nil, e, io.Discard, Checks{
		LDAP:     func(c LDAP) error { seenLDAP = c; return errors.New("ldap refused") },
		OIDC:     func(c OIDC) error { seenOIDC = c; return errors.New("oidc refused") },
		Webhooks: func(raw string) error { seenHooks = raw; return errors.New("RECTIFY_WEBHOOKS[0]: refused") },
	})
	for _, want := range []string{"RECTIFY_LDAP_*: ldap refused", "RECTIFY_OIDC_*: oidc refused", "RECTIFY_WEBHOOKS[0]: refused"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want one saying %q", err, want)
		}
	}
	if seenLDAP.URL != "ldaps://ad" || seenLDAP.BaseDN != "dc=x" || seenLDAP.UserFilter != "(uid={username})" ||
		seenOIDC.Issuer != "https://sso" || !slices.Equal(seenOIDC.Scopes, []string{"groups"}) || !strings.Contains(seenHooks, `"oa"`) {
		t.Errorf("the checks saw %+v %+v %q", seenLDAP, seenOIDC, seenHooks)
	}
	c, err := Parse("rectify serve", nil, e, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Notify.Webhooks; len(w) != 1 || w[0].Name != "oa" || w[0].Kind != "generic" || w[0].Secret != "s" || !slices.Equal(w[0].Events, []string{"problem.assigned"}) {
		t.Errorf("webhooks %+v", w)
	}
}

// TestConfigDoesNotImportTheUseCases: config reads settings into plain values;
// the adapters and the use cases come in through cmd/rectify only.
func TestConfigDoesNotImportTheUseCases(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if rest, ok := strings.CutPrefix(dep, "github.com/rectify-team/rectify/internal/"); ok &&
			rest != "config" && rest != "domain" && rest != "stats" {
			t.Errorf("config depends on %s", dep)
		}
	}
}
