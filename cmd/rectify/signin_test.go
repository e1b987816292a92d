package main

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// TestBinaryDirectorySignIn starts the binary against a slapd over StartTLS
// (its CA from a file) and an OpenID provider: both are offered, and a
// directory person signs in with the directory's password.
func TestBinaryDirectorySignIn(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{TLS: true})
	op := optest.Start(t, "http://rectify.test/api/v1/auth/oidc/callback", "http://rectify.test/login/oidc/callback")
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
		"RECTIFY_OIDC_REDIRECT_URL=http://rectify.test/api/v1/auth/oidc/callback,http://rectify.test/login/oidc/callback",
		`RECTIFY_OIDC_GROUP_ROLES={"owners":["owner"]}`}
	s := start(t, env)
	// The console offers both, and starts towards its own callback.
	page := s.get(t, "/login")
	if !strings.Contains(page, `id="login-oidc" href="/login/oidc?next=%2F">使用OpenID Connect登录</a>`) ||
		!strings.Contains(page, `id="login-ways">使用本系统账号或域账号的用户名和密码`) {
		t.Fatalf("the console's sign-in page:\n%s", page)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(s.base + "/login/oidc")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close() // a redirect: its body is not read
	if loc, _ := res.Location(); res.StatusCode != http.StatusFound || loc == nil ||
		loc.Query().Get("redirect_uri") != "http://rectify.test/login/oidc/callback" {
		t.Fatalf("the console's start: %d %v", res.StatusCode, loc)
	}
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
// get fetches a page of the console.
func (s *server) get(t *testing.T, path string) string {
	t.Helper()
	res, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return string(b)
}

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
		!strings.Contains(out, "the OpenID provider does not answer at start") ||
		!strings.Contains(out, "the console does not offer OpenID Connect sign-in") {
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

// TestConsoleSignsInThroughTheOpenIDProvider drives the console's OpenID
// Connect sign-in in Chromium: the sign-in page's button, the provider's
// login, and back to the page the person wanted, signed in with the role
// the mapping gives.
func TestConsoleSignsInThroughTheOpenIDProvider(t *testing.T) {
	root := startBrowser(t)
	addr := freeAddr(t)
	base := "http://" + addr
	op := optest.Start(t, base+"/login/oidc/callback")
	op.Add(optest.Person{Username: "erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"verifiers"}})
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + t.TempDir(), "RECTIFY_ADMIN_PASSWORD=admin-console-pw",
		"RECTIFY_SCHEDULER_INTERVAL=0",
		"RECTIFY_OIDC_ISSUER=" + op.Issuer, "RECTIFY_OIDC_CLIENT_ID=" + optest.ClientID, "RECTIFY_OIDC_CLIENT_SECRET=" + optest.ClientSecret,
		"RECTIFY_OIDC_REDIRECT_URL=" + base + "/api/v1/auth/oidc/callback," + base + "/login/oidc/callback",
		`RECTIFY_OIDC_GROUP_ROLES={"verifiers":["verifier"]}`, "RECTIFY_OIDC_DISPLAY_NAME=统一身份认证"}
	s := startAt(t, addr, env)
	p := newPerson(t, root, s.base, "erin")
	p.open("/problems?status=submitted")
	p.waitFor(`location.pathname === "/login" && !!document.querySelector("#login-oidc")`)
	if got := p.text("#login-oidc"); got != "使用统一身份认证登录" {
		t.Fatalf("the button says %q", got)
	}
	p.do(chromedp.Click(chromedp.CSS("#login-oidc")))
	// The test provider's login step has no page of its own: its form is
	// posted from the provider's origin, as its login page would.
	p.waitFor(`location.origin === ` + jsString(op.Issuer) + ` && location.search.includes("authRequestID=")`)
	eval[bool](p, `(() => { const f = document.createElement("form"); f.method = "post"; f.action = "/login/username";
		for (const [k, v] of [["id", new URLSearchParams(location.search).get("authRequestID")], ["username", "erin"], ["password", "op-pass"]]) {
			const i = document.createElement("input"); i.name = k; i.value = v; f.appendChild(i) }
		document.body.appendChild(f); f.submit(); return true })()`)
	p.waitFor(`location.origin === ` + jsString(base) + ` && location.pathname === "/problems" && location.search === "?status=submitted" &&
		document.readyState === "complete" && !!document.querySelector("#signout")`)
	p.open("/")
	p.waitFor(`document.readyState === "complete" && !!document.querySelector(".roles")`)
	if h, roles := p.text("h1"), p.text(".roles"); !strings.Contains(h, "鄂琳") || !strings.Contains(roles, "工作小组") || strings.Contains(roles, "管理员") {
		t.Fatalf("signed in as %q with %q", h, roles)
	}
	s.stop()
}
