package web_test

import (
	"encoding/base64"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
	"github.com/rectify-team/rectify/internal/oidcauth/optest"
	"github.com/rectify-team/rectify/internal/web"
)

// The console's callback as registered with the provider; the tests play
// the browser, so its host is never dialled.
const consoleCallback = "http://rectify.test/login/oidc/callback"

func ldapOption(t *testing.T, cfg ldapauth.Config) wire.Option {
	t.Helper()
	return apptest.LDAPOption(t, cfg)
}

func oidcOption(t *testing.T, issuer string) wire.Option {
	t.Helper()
	return apptest.OIDCOption(t, issuer, "http://rectify.test/api/v1/auth/oidc/callback", consoleCallback)
}

// newConsoleWith is the console on a service with these ways in, on the
// fixture's database and clock.
func newConsoleWith(t *testing.T, opt web.Options, opts ...wire.Option) *console {
	t.Helper()
	e := apptest.New(t)
	h, err := web.New(web.ServicesOf(e.Instance(t, opts...)), opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &console{t: t, e: e, srv: srv}
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.c.srv.URL + "/login/oidc/callback")
	for _, ck := range b.client.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

var oidcButton = regexp.MustCompile(`<a class="button" id="login-oidc" href="([^"]+)">([^<]+)</a>`)

func TestSignInPageOffersTheConfiguredWaysIn(t *testing.T) {
	t.Parallel()
	// Local accounts only: the password form, for them.
	plain := newConsole(t, web.Options{})
	_, page := plain.browser().do("GET", "/login", nil, nil)
	if !strings.Contains(page, `<p class="hint" id="login-ways">使用本系统账号的用户名和密码</p>`) || strings.Contains(page, "login-oidc") {
		t.Fatalf("the plain sign-in page:\n%s", page)
	}
	if res, _ := plain.browser().do("GET", "/login/oidc", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("OpenID Connect without a provider: %d", res.StatusCode)
	}

	// A directory and a provider: both offered, in both languages. The
	// directory's address is never dialled to list it.
	op := optest.Start(t, consoleCallback)
	ldap := ldapOption(t, ldapauth.Config{URL: "ldaps://127.0.0.1:1", BaseDN: "dc=example,dc=org", UserFilter: "(uid={username})"})
	c := newConsoleWith(t, web.Options{OIDCCallback: consoleCallback}, ldap, oidcOption(t, op.Issuer))
	_, page = c.browser().do("GET", "/login?next="+url.QueryEscape("/problems?status=submitted"), nil, nil)
	m := oidcButton.FindStringSubmatch(page)
	if m == nil || m[2] != "使用统一身份认证登录" || m[1] != "/login/oidc?next=%2Fproblems%3Fstatus%3Dsubmitted" {
		t.Fatalf("the OpenID Connect button: %v\n%s", m, page)
	}
	if !strings.Contains(page, `id="login-ways">使用本系统账号或域账号的用户名和密码</p>`) {
		t.Fatalf("the password form does not say whom it is for:\n%s", page)
	}
	_, page = c.browser().do("GET", "/login?lang=en", nil, nil)
	if m := oidcButton.FindStringSubmatch(page); m == nil || m[2] != "Sign in with 统一身份认证" ||
		!strings.Contains(page, `id="login-ways">Username and password of your Rectify account or 域账号</p>`) {
		t.Fatalf("the English sign-in page:\n%s", page)
	}

	// That directory does not answer: the password form says so, and the
	// local admin still signs in.
	b := c.browser()
	_, page = b.do("GET", "/login", nil, nil)
	res, body := b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"someone"}, "password": {"x"}}, nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `id="login-error">身份认证服务暂时无法访问`) {
		t.Fatalf("a directory sign-in with the directory down: %d\n%s", res.StatusCode, body)
	}
	b.login("admin")

	// A provider whose console callback is not registered: not offered.
	noCallback := newConsoleWith(t, web.Options{}, oidcOption(t, op.Issuer))
	if _, page := noCallback.browser().do("GET", "/login", nil, nil); strings.Contains(page, "login-oidc") {
		t.Fatal("the console offers OpenID Connect without its callback")
	}
	// A console callback the provider was not told of is refused by the use case.
	unregistered := newConsoleWith(t, web.Options{OIDCCallback: "http://elsewhere.test/login/oidc/callback"}, oidcOption(t, op.Issuer))
	if res, _ := unregistered.browser().do("GET", "/login/oidc", nil, nil); res.StatusCode != http.StatusBadRequest ||
		cookieNamed(res, "rectify_console_oidc") != nil {
		t.Fatalf("an unregistered callback: %d", res.StatusCode)
	}
}

// oidcStart follows the page's button to the provider and returns where the
// browser is sent, checking the binding cookie.
func (b *browser) oidcStart(t *testing.T, start string) string {
	t.Helper()
	res, _ := b.do("GET", start, nil, nil)
	ck := cookieNamed(res, "rectify_console_oidc")
	if res.StatusCode != http.StatusFound || ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode ||
		ck.Path != "/login/oidc" || ck.MaxAge != 600 {
		t.Fatalf("start: %d, cookie %+v", res.StatusCode, ck)
	}
	return res.Header.Get("Location")
}

// callback is the path the provider's redirect brings the browser to.
func callback(t *testing.T, back *url.URL) string {
	t.Helper()
	if !strings.HasPrefix(back.String(), consoleCallback+"?") {
		t.Fatalf("the provider sent the browser to %s, not the console's callback", back)
	}
	return back.Path + "?" + back.RawQuery
}

func TestOIDCSignInThroughTheConsole(t *testing.T) {
	t.Parallel()
	op := optest.Start(t, consoleCallback)
	op.Add(optest.Person{Username: "erin", Password: "op-pass", Name: "鄂琳", Groups: []string{"verifiers", "inspectors"}, Unit: "二班"})
	c := newConsoleWith(t, web.Options{OIDCCallback: consoleCallback}, oidcOption(t, op.Issuer))

	// From a page that needs a session, through the provider, back to it.
	b := c.browser()
	res, _ := b.do("GET", "/problems?status=submitted", nil, nil)
	res, page := b.do("GET", res.Header.Get("Location"), nil, nil)
	m := oidcButton.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("the sign-in page: %d\n%s", res.StatusCode, page)
	}
	loc := b.oidcStart(t, strings.ReplaceAll(m[1], "&amp;", "&"))
	au, _ := url.Parse(loc)
	if !strings.HasPrefix(loc, op.Issuer+"/") || au.Query().Get("redirect_uri") != consoleCallback {
		t.Fatalf("start redirects to %s", loc)
	}
	back := op.SignIn(t, loc, "erin", "op-pass")
	res, body := b.do("GET", callback(t, back)+"&iss="+url.QueryEscape(op.Issuer), nil, nil)
	session := cookieNamed(res, "rectify_session")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/problems?status=submitted" || session == nil ||
		!session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("callback: %d %s %+v\n%.500s", res.StatusCode, res.Header.Get("Location"), session, body)
	}
	if ck := cookieNamed(res, "rectify_console_oidc"); ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("the callback does not clear the binding cookie: %v", res.Header["Set-Cookie"])
	}
	u, err := c.e.Svc.Access.Authenticate(t.Context(), session.Value)
	if err != nil || u.Username != "erin" || u.AuthSource != app.AuthOIDC || u.UnitID != c.e.Units["二班"].ID ||
		!slices.Equal(u.Roles, []domain.Role{domain.RoleInspector, domain.RoleVerifier}) {
		t.Fatalf("the session's user %+v, %v", u, err)
	}
	res, page = b.do("GET", "/", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "您好，鄂琳") ||
		!strings.Contains(page, `<span class="tag">检查人</span>`) || !strings.Contains(page, `id="home-verify"`) {
		t.Fatalf("the signed-in home page: %d\n%s", res.StatusCode, page)
	}

	refused := func(name, path string, b *browser, why string) {
		t.Helper()
		res, page := b.do("GET", path, nil, nil)
		if res.StatusCode != http.StatusUnauthorized || cookieNamed(res, "rectify_session") != nil ||
			!strings.Contains(page, `id="login-error">登录未成功：`+why) || !strings.Contains(page, `id="login-submit"`) {
			t.Fatalf("%s: %d\n%s", name, res.StatusCode, page)
		}
	}
	// The same callback again.
	refused("replayed", callback(t, back), b, "登录状态无效或已使用")

	// The callback in another browser (no binding cookie): a login CSRF.
	victim := c.browser()
	back = op.SignIn(t, c.browser().oidcStart(t, "/login/oidc"), "erin", "op-pass")
	refused("another browser", callback(t, back), victim, "登录回调到达的浏览器与发起登录的不同")

	// A state that was never issued.
	a := c.browser()
	back = op.SignIn(t, a.oidcStart(t, "/login/oidc"), "erin", "op-pass")
	q := back.Query()
	q.Set("state", "forged"+q.Get("state"))
	back.RawQuery = q.Encode()
	refused("wrong state", callback(t, back), a, "登录状态无效或已使用")

	// The provider refuses.
	a = c.browser()
	au, _ = url.Parse(a.oidcStart(t, "/login/oidc"))
	refused("the provider refused", "/login/oidc/callback?error=access_denied&error_description=cancelled&state="+
		url.QueryEscape(au.Query().Get("state")), a, "身份提供方拒绝：access_denied cancelled")

	// Every refusal is in the trail.
	entries, err := c.e.Svc.Trail.Audit(t.Context(), c.e.Caller("leader"), app.AuditQuery{Action: "login", Outcome: "refused", Limit: 50})
	if err != nil || len(entries) != 4 {
		t.Fatalf("%d refused logins in the trail, want 4 (%v)", len(entries), err)
	}

	// Only pages of this site are returned to.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`} {
		b := c.browser()
		back := op.SignIn(t, b.oidcStart(t, "/login/oidc?next="+url.QueryEscape(next)), "erin", "op-pass")
		if res, _ := b.do("GET", callback(t, back), nil, nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("next=%s: %d %s", next, res.StatusCode, res.Header.Get("Location"))
		}
	}

	// Nor when the cookie itself was tampered with.
	b = c.browser()
	back = op.SignIn(t, b.oidcStart(t, "/login/oidc"), "erin", "op-pass")
	ck := b.cookie("rectify_console_oidc")
	binding, _, _ := strings.Cut(ck.Value, ".")
	cu, _ := url.Parse(c.srv.URL + "/login/oidc")
	b.client.Jar.SetCookies(cu, []*http.Cookie{{Name: ck.Name, Path: "/login/oidc",
		Value: binding + "." + base64.RawURLEncoding.EncodeToString([]byte("//evil.example/"))}})
	if res, _ := b.do("GET", callback(t, back), nil, nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("a tampered cookie's next: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// The provider down: the sign-in page says so, with the password form.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	_ = ln.Close() // a closed port: the provider is down
	down := newConsoleWith(t, web.Options{OIDCCallback: consoleCallback}, oidcOption(t, dead))
	res, page = down.browser().do("GET", "/login/oidc", nil, nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(page, `id="login-error">身份认证服务暂时无法访问`) ||
		cookieNamed(res, "rectify_console_oidc") != nil {
		t.Fatalf("provider down: %d\n%s", res.StatusCode, page)
	}
}

func TestDirectorySignInThroughTheConsole(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	c := newConsoleWith(t, web.Options{}, ldapOption(t, srv.Config()))
	b := c.browser()
	_, page := b.do("GET", "/login", nil, nil)
	res, body := b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"alice"}, "password": {"wrong"}}, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="login-error">用户名或密码错误`) {
		t.Fatalf("a wrong directory password: %d", res.StatusCode)
	}
	res, _ = b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, body)}, "username": {"alice"}, "password": {slapdtest.Password}}, nil)
	session := cookieNamed(res, "rectify_session")
	if res.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("alice's sign-in: %d", res.StatusCode)
	}
	u, err := c.e.Svc.Access.Authenticate(t.Context(), session.Value)
	if err != nil || u.AuthSource != app.AuthLDAP || u.UnitID != c.e.Units["一班"].ID ||
		!slices.Equal(u.Roles, []domain.Role{domain.RoleInspector, domain.RoleOwner}) {
		t.Fatalf("alice %+v, %v", u, err)
	}
	if _, page := b.do("GET", "/", nil, nil); !strings.Contains(page, `<span class="tag">检查人</span>`) || !strings.Contains(page, `id="home-todo"`) {
		t.Fatalf("alice's home page:\n%s", page)
	}
}
