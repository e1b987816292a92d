package main

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// TestBinaryDirectorySignIn starts the binary against a slapd over StartTLS
// (its CA from a file) and an OpenID provider: both are offered, and a
// directory person signs in with the directory's password.
func TestBinaryDirectorySignIn(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{TLS: true})
	op := optest.Start(t, "http://rectify.test/api/v1/auth/oidc/callback")
	dir := t.TempDir()
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data"),
		"RECTIFY_ADMIN_PASSWORD=admin-secret-1",
		"RECTIFY_LDAP_URL=" + srv.URL, "RECTIFY_LDAP_START_TLS=true", "RECTIFY_LDAP_CA_FILE=" + srv.CAFile,
		"RECTIFY_LDAP_BIND_DN=" + slapdtest.ServiceDN, "RECTIFY_LDAP_BIND_PASSWORD=" + slapdtest.ServicePassword,
		"RECTIFY_LDAP_BASE_DN=" + slapdtest.PeopleDN, "RECTIFY_LDAP_GROUP_BASE_DN=" + slapdtest.GroupsDN,
		"RECTIFY_LDAP_GROUP_FILTER=(&(objectClass=groupOfNames)(member={dn}))", "RECTIFY_LDAP_UNIT_FROM_OU=true",
		"RECTIFY_LDAP_DISABLED_FILTER=(employeeType=disabled)", `RECTIFY_LDAP_GROUP_ROLES={"owners":["owner"],"verifiers":["verifier"]}`,
		"RECTIFY_LDAP_DISPLAY_NAME=域账号",
		"RECTIFY_OIDC_ISSUER=" + op.Issuer, "RECTIFY_OIDC_CLIENT_ID=" + optest.ClientID, "RECTIFY_OIDC_CLIENT_SECRET=" + optest.ClientSecret,
		"RECTIFY_OIDC_REDIRECT_URL=http://rectify.test/api/v1/auth/oidc/callback", `RECTIFY_OIDC_GROUP_ROLES={"owners":["owner"]}`}
	s := start(t, env)
	providers := s.call("GET", "/auth/providers", "", nil, http.StatusOK)["providers"].([]any)
	if len(providers) != 3 || providers[1].(map[string]any)["display_name"] != "域账号" {
		t.Fatalf("providers %v", providers)
	}
	bob := s.call("POST", "/auth/login", "", map[string]any{"username": "bob", "password": slapdtest.Password}, http.StatusOK)
	user := bob["user"].(map[string]any)
	if user["auth_source"] != "ldap" || user["name"] != "李博" || user["roles"].([]any)[0] != "verifier" {
		t.Fatalf("bob %v", user)
	}
	s.call("POST", "/auth/login", "", map[string]any{"username": "carol", "password": slapdtest.Password}, http.StatusUnauthorized)
	s.call("POST", "/auth/login", "", map[string]any{"username": "admin", "password": "admin-secret-1"}, http.StatusOK)
	s.stop()
}

// TestBinaryDirectoryDownAtStart: an unreachable directory and provider are
// warnings at start; the server serves, local accounts sign in, directory
// sign-ins answer 503.
func TestBinaryDirectoryDownAtStart(t *testing.T) {
	dir := t.TempDir()
	dead := freeAddr(t)
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data"),
		"RECTIFY_ADMIN_PASSWORD=admin-secret-1", "RECTIFY_LDAP_URL=ldaps://" + dead, "RECTIFY_LDAP_BASE_DN=dc=example,dc=org",
		"RECTIFY_LDAP_TIMEOUT=1s", `RECTIFY_LDAP_GROUP_ROLES={"owners":["owner"]}`,
		"RECTIFY_OIDC_ISSUER=http://" + dead, "RECTIFY_OIDC_CLIENT_ID=rectify",
		"RECTIFY_OIDC_REDIRECT_URL=http://rectify.test/api/v1/auth/oidc/callback", `RECTIFY_OIDC_GROUP_ROLES={"owners":["owner"]}`}
	s := start(t, env)
	if out := s.out.String(); !strings.Contains(out, "the LDAP directory does not answer at start") ||
		!strings.Contains(out, "the OpenID provider does not answer at start") {
		t.Fatalf("no warnings at start:\n%s", out)
	}
	s.call("POST", "/auth/login", "", map[string]any{"username": "someone", "password": "x"}, http.StatusServiceUnavailable)
	s.call("POST", "/auth/login", "", map[string]any{"username": "admin", "password": "admin-secret-1"}, http.StatusOK)
	s.stop()
	loopsStoppedBeforeClose(t, s.out.String(), "directory-sync", "scheduler", "dispatcher", "checkpoint")

	// A plain ldap:// URL without StartTLS is refused at start, with the reason.
	cmd := exec.Command(binary, "serve", "--addr", freeAddr(t))
	cmd.Env = append(env, "RECTIFY_LDAP_URL=ldap://"+dead)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "plain connection") {
		t.Fatalf("plain ldap:// accepted: %v\n%s", err, out)
	}
}
