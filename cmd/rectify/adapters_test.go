package main

import (
	"io"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/config"
)

// TestAdapterChecksAtStart: the adapters' objections to their settings come
// out of config's parse, naming the variable and the reason.
func TestAdapterChecksAtStart(t *testing.T) {
	ldap := map[string]string{"RECTIFY_LDAP_URL": "ldaps://ad", "RECTIFY_LDAP_BASE_DN": "dc=x", "RECTIFY_LDAP_GROUP_ROLES": `{"g":["owner"]}`}
	oidc := map[string]string{"RECTIFY_OIDC_ISSUER": "https://sso", "RECTIFY_OIDC_CLIENT_ID": "r",
		"RECTIFY_OIDC_REDIRECT_URL": "https://r/api/v1/auth/oidc/callback", "RECTIFY_OIDC_GROUP_ROLES": `{"g":["owner"]}`}
	with := func(base map[string]string, k, v string) func(string) string {
		return func(key string) string {
			if key == k {
				return v
			}
			return base[key]
		}
	}
	for _, env := range []func(string) string{with(ldap, "", ""), with(oidc, "", ""),
		with(nil, "RECTIFY_WEBHOOKS", `[{"name":"oa","kind":"generic","url":"https://oa.example.cn/hook","secret":"s"}]`)} {
		if _, err := config.ParseChecked("rectify serve", nil, env, io.Discard, adapterChecks()); err != nil {
			t.Errorf("a good setting refused: %v", err)
		}
	}
	for _, tc := range []struct {
		env  func(string) string
		want string
	}{
		{with(ldap, "RECTIFY_LDAP_URL", "ldap://ad"), "plain connection"},
		{with(ldap, "RECTIFY_LDAP_BASE_DN", ""), "base DN"},
		{with(ldap, "RECTIFY_LDAP_USER_FILTER", "(uid=alice)"), "{username}"},
		{with(oidc, "RECTIFY_OIDC_CLIENT_ID", ""), "client ID"},
		{with(oidc, "RECTIFY_OIDC_ISSUER", "sso.example"), "issuer"},
		{with(nil, "RECTIFY_WEBHOOKS", `[{"name":"oa","kind":"slack","url":"https://x.example.cn"}]`), `RECTIFY_WEBHOOKS[0] "oa": kind`},
	} {
		_, err := config.ParseChecked("rectify serve", nil, tc.env, io.Discard, adapterChecks())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err %v, want one naming %q", err, tc.want)
		}
	}
}
