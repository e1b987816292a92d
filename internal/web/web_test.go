package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ledger"
	"github.com/rectify-team/rectify/internal/web"
)

// These tests drive the console over HTTP against the real use cases (SQLite,
// or MariaDB with RECTIFY_TEST_MYSQL_DSN); the browser suite in cmd/rectify
// drives it in Chromium.

type console struct {
	t   *testing.T
	e   *apptest.Env
	srv *httptest.Server
}

func newConsole(t *testing.T, opt web.Options) *console {
	t.Helper()
	e := apptest.New(t)
	h, err := web.New(web.ServicesOf(e.Svc), opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &console{t: t, e: e, srv: srv}
}

// browser is one person's cookie jar; it does not follow redirects.
type browser struct {
	c      *console
	client *http.Client
}

func (c *console) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.c.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = res.Body.Close() }()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%.500s", html)
	}
	return m[1]
}

func (b *browser) login(username string) {
	b.c.t.Helper()
	_, page := b.do("GET", "/login", nil, nil)
	res, body := b.do("POST", "/login", url.Values{"csrf": {csrfOf(b.c.t, page)}, "username": {username},
		"password": {apptest.Password}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		b.c.t.Fatalf("login %s: %d %s\n%.300s", username, res.StatusCode, res.Header.Get("Location"), body)
	}
}

func TestPagesNeedASessionAndCarryTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	b := c.browser()
	res, _ := b.do("GET", "/problems?status=submitted", nil, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next="+url.QueryEscape("/problems?status=submitted") {
		t.Fatalf("an anonymous page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", res.Header)
	}
	res, body := b.do("GET", "/login?lang=en", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sign in") || strings.Contains(body, "<script>") {
		t.Fatalf("the English sign-in page: %d\n%.300s", res.StatusCode, body)
	}
	if !strings.Contains(body, `<script src="/static/htmx-2.0.11.min.js"`) || strings.Contains(body, "echarts") {
		t.Fatal("the sign-in page should load htmx and not the chart library")
	}
	res, js := b.do("GET", "/static/htmx-2.0.11.min.js", nil, nil)
	if res.StatusCode != http.StatusOK || len(js) < 10000 {
		t.Fatalf("htmx: %d, %d bytes", res.StatusCode, len(js))
	}
	if res, _ := b.do("GET", "/nowhere", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown page: %d", res.StatusCode)
	}
}

func TestSessionCookieIsHttpOnlyLaxAndSecureWhenAsked(t *testing.T) {
	t.Parallel()
	for _, always := range []bool{false, true} {
		c := newConsole(t, web.Options{SecureCookies: always})
		b := c.browser()
		_, page := b.do("GET", "/login", nil, nil)
		// A sign-in without the form's token is refused.
		if res, _ := b.do("POST", "/login", url.Values{"username": {"owner1"}, "password": {apptest.Password}}, nil); res.StatusCode != http.StatusForbidden {
			t.Fatalf("a sign-in without its CSRF token: %d", res.StatusCode)
		}
		res, _ := b.do("POST", "/login", url.Values{"csrf": {csrfOf(t, page)}, "username": {"owner1"}, "password": {apptest.Password}}, nil)
		var session *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == "rectify_session" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != always {
			t.Fatalf("secure=%v: the session cookie %+v", always, session)
		}
		// The cookie is the API's own session: the API's resolver knows it.
		if _, err := c.e.Svc.Access.Authenticate(t.Context(), session.Value); err != nil {
			t.Fatalf("the cookie is not an API session: %v", err)
		}
	}
}

func TestStateChangesNeedTheSessionsCSRFToken(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Register(t, "CSRF 测试")
	b := c.browser()
	b.login("verifier")
	_, page := b.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	token := csrfOf(t, page)
	path := fmt.Sprintf("/problems/%d/comment", p.ID)
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"no token":      {url.Values{"text": {"a"}}, nil},
		"wrong token":   {url.Values{"text": {"b"}, "csrf": {"x" + token}}, nil},
		"wrong header":  {url.Values{"text": {"c"}}, map[string]string{"X-CSRF-Token": token[:10]}},
		"other origin":  {url.Values{"text": {"d"}, "csrf": {token}}, map[string]string{"Origin": "http://evil.example"}},
		"another token": {url.Values{"text": {"e"}, "csrf": {csrfOfOther(t, c)}}, nil},
	} {
		if res, _ := b.do("POST", path, tc.form, tc.header); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, res.StatusCode)
		}
	}
	if cs, _ := c.e.Svc.Lifecycle.Comments(t.Context(), c.e.Caller("verifier"), p.ID); len(cs) != 0 {
		t.Fatalf("a refused POST commented: %d comments", len(cs))
	}
	if res, _ := b.do("POST", path, url.Values{"text": {"同意"}, "csrf": {token}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("with the token: %d", res.StatusCode)
	}
	if res, _ := b.do("POST", path, url.Values{"text": {"同意"}}, map[string]string{"X-CSRF-Token": token}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("with the token in the header (htmx): %d", res.StatusCode)
	}
	if cs, _ := c.e.Svc.Lifecycle.Comments(t.Context(), c.e.Caller("verifier"), p.ID); len(cs) != 2 {
		t.Fatalf("comments: %d, want 2", len(cs))
	}
}

// csrfOfOther is another session's token, which must not pass for this one.
func csrfOfOther(t *testing.T, c *console) string {
	b := c.browser()
	b.login("leader")
	_, page := b.do("GET", "/", nil, nil)
	return csrfOf(t, page)
}

func TestUserTextIsEscapedAndButtonsComeFromTheDomain(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Register(t, `<script>alert("x")</script><img src=x onerror=alert(1)>`)
	verifier := c.browser()
	verifier.login("verifier")
	res, body := verifier.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("problem page: %d", res.StatusCode)
	}
	if strings.Contains(body, `<script>alert`) || strings.Contains(body, `<img src=x`) ||
		!strings.Contains(body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`) {
		t.Fatalf("the title is not escaped:\n%s", body)
	}
	actions := regexp.MustCompile(`id="act-([a-z_]+)"`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, m := range actions {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != "edit assign dismiss" {
		t.Fatalf("the verifier's actions on a registered problem: %v", got)
	}
	owner := c.browser()
	owner.login("owner1")
	_, body = owner.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	if strings.Contains(body, `id="act-`) {
		t.Fatal("the owner gets actions on an unassigned problem")
	}
	// Out of scope is the 404 page.
	other := c.browser()
	other.login("owner2")
	c.e.Drive(t, "assigned")
	if res, _ := other.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a problem of another team: %d", res.StatusCode)
	}
}

func TestAStaleFormSeesTheCurrentState(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Register(t, "两人同时办理")
	b := c.browser()
	b.login("verifier")
	_, page := b.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	token := csrfOf(t, page)
	if _, err := c.e.Svc.Lifecycle.Dismiss(t.Context(), c.e.Caller("verifier2"), p.ID, p.Version, "重复登记"); err != nil {
		t.Fatal(err)
	}
	res, body := b.do("POST", fmt.Sprintf("/problems/%d/assign", p.ID), url.Values{"csrf": {token},
		"version": {fmt.Sprint(p.Version)}, "assignee_id": {fmt.Sprint(c.e.Users["owner1"].ID)}, "measures": {"整改"}}, nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, `id="conflict"`) || !strings.Contains(body, "不予立项") {
		t.Fatalf("a stale assign: %d\n%.2000s", res.StatusCode, body)
	}
	if got, _ := c.e.Svc.Lifecycle.Problem(t.Context(), c.e.Caller("verifier"), p.ID); got.AssigneeID != 0 {
		t.Fatal("the stale assign went through")
	}
}

func TestARefusedFormKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	b := c.browser()
	b.login("inspector")
	_, page := b.do("GET", "/problems/new", nil, nil)
	res, body := b.do("POST", "/problems", url.Values{"csrf": {csrfOf(t, page)}, "title": {"没有类别的问题"},
		"description": {"现场描述"}, "severity": {"serious"}, "source": {"inspection"},
		"unit_id": {fmt.Sprint(c.e.Units["一班"].ID)}}, nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a registration without a category: %d", res.StatusCode)
	}
	if !strings.Contains(body, `value="没有类别的问题"`) || !strings.Contains(body, "现场描述") {
		t.Fatal("the refused form lost what was typed")
	}
	if !regexp.MustCompile(`id="f-category"[\s\S]*?</select><span class="field-error"`).MatchString(body) {
		t.Fatalf("no reason beside the category:\n%s", body)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	b := c.browser()
	b.login("leader")
	_, page := b.do("GET", "/", nil, nil)
	var token string
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range b.client.Jar.Cookies(u) {
		if ck.Name == "rectify_session" {
			token = ck.Value
		}
	}
	if res, _ := b.do("POST", "/logout", url.Values{"csrf": {csrfOf(t, page)}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if _, err := c.e.Svc.Access.Authenticate(t.Context(), token); err == nil {
		t.Fatal("the session outlived the logout")
	}
	if res, _ := b.do("GET", "/", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a page after logout: %d", res.StatusCode)
	}
}

func TestExportAndAttachmentsFollowTheListAndTheScope(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	ctx := t.Context()
	a, err := c.e.Svc.Evidence.Upload(ctx, c.e.Caller("inspector"), "现场.pdf", strings.NewReader("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := c.e.Caller("inspector")
	withPhoto, err := c.e.Svc.Lifecycle.Register(ctx, in, app.ProblemInput{Title: "带照片登记", CategoryID: 5, Severity: domain.SeverityGeneral,
		Source: domain.SourceInspection, UnitID: c.e.Units["一班"].ID, AttachmentIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	verifier := c.browser()
	verifier.login("verifier")
	_, page := verifier.do("GET", fmt.Sprintf("/problems/%d", withPhoto.ID), nil, nil)
	if !strings.Contains(page, fmt.Sprintf(`href="/attachments/%d?download=1"`, a.ID)) {
		t.Fatal("the problem page does not offer its file")
	}
	res, body := verifier.do("GET", fmt.Sprintf("/attachments/%d?download=1", a.ID), nil, nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "%PDF") || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download: %d %v", res.StatusCode, res.Header)
	}
	other := c.browser()
	other.login("owner2")
	if res, _ := other.do("GET", fmt.Sprintf("/attachments/%d", a.ID), nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another team's file: %d", res.StatusCode)
	}
	res, body = verifier.do("GET", "/problems/export.xlsx?severity=general", nil, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != ledger.MediaTypeXLSX || !strings.HasPrefix(body, "PK") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := verifier.do("GET", "/problems/export.xlsx?severity=nonsense", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an export with a bad filter: %d", res.StatusCode)
	}
}
