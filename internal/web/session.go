package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// maxFilesPerForm bounds a form's body: this many files at the upload limit.
const maxFilesPerForm = 5

const (
	sessionCookie = "rectify_session"
	// loginCookie carries the sign-in form's CSRF token before there is a session.
	loginCookie = "rectify_login"
	csrfField   = "csrf"
	csrfHeader  = "X-CSRF-Token"
)

// The session cookie holds the same bearer token as the API's login, so that
// logging out, disabling the user or resetting the password revokes it by
// the same events.
func sessionToken(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func secure(r *http.Request, always bool) bool { return always || r.TLS != nil }

// setSession keeps the cookie as long as the session lives, counted from the
// server's clock (Max-Age) so that a client's wrong clock does not matter.
func setSession(w http.ResponseWriter, r *http.Request, res *app.LoginResult, now time.Time, always bool) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: res.Token, Path: "/", MaxAge: max(int(res.ExpiresAt.Sub(now).Seconds()), 1),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r, always)})
}

func clearSession(w http.ResponseWriter, r *http.Request, always bool) {
	if _, err := r.Cookie(sessionCookie); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r, always)})
}

// csrfToken is derived from the session token, which a cross-site page can
// neither read (HttpOnly) nor guess: a keyed hash of it proves that a form
// came from a page this session loaded.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte("rectify console csrf v1"))
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF accepts a state change whose form field or header carries the
// session's token, and whose Origin, when sent, is this host.
func (c *Console) checkCSRF(q *request) bool {
	if o := q.r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != q.r.Host {
			return false
		}
	}
	got := q.r.Header.Get(csrfHeader)
	if got == "" {
		// The form value is read only after the body limit is set by the handler's
		// parse; a multipart form is parsed here with the upload limit.
		if err := c.parseForm(q); err != nil {
			return false
		}
		got = q.r.PostFormValue(csrfField)
	}
	want := csrfToken(q.token)
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// parseForm reads a urlencoded or multipart body within the limits.
func (c *Console) parseForm(q *request) error {
	if q.r.PostForm != nil {
		return nil
	}
	// A form brings at most a handful of phone photos at once.
	limit := c.opt.MaxUploadBytes*maxFilesPerForm + 1<<20
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, limit)
	if strings.HasPrefix(q.r.Header.Get("Content-Type"), "multipart/form-data") {
		return q.r.ParseMultipartForm(8 << 20)
	}
	return q.r.ParseForm()
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginView struct {
	Username string
	Next     string
	Error    string
	// Ways is who the password form is for (local accounts, the LDAP
	// directory), OIDC the provider's button and OIDCStart where it leads;
	// both come from the configured providers.
	Ways      string
	OIDC      string
	OIDCStart string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := language(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if tok := sessionToken(r); tok != "" {
		if _, err := c.svc.Sessions.Authenticate(r.Context(), tok); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	c.renderLogin(w, r, lang, http.StatusOK, loginView{Next: r.URL.Query().Get("next")})
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, lang string, status int, v loginView) {
	var ways []string
	for _, p := range c.svc.Sessions.Providers() {
		switch p.ID {
		case app.AuthLocal:
			ways = append(ways, translate(lang, "login.local"))
		case app.AuthLDAP:
			ways = append(ways, p.DisplayName)
		case app.AuthOIDC:
			if c.opt.OIDCCallback != "" {
				v.OIDC = translate(lang, "login.oidc", p.DisplayName)
				v.OIDCStart = oidcStartPath + "?next=" + urlQueryEscape(safeNext(v.Next))
			}
		}
	}
	v.Ways = translate(lang, "login.ways", strings.Join(ways, translate(lang, "login.ways_sep")))
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r, c.opt.SecureCookies)})
	c.render(w, r, status, "login", &page{lang: lang, CSRF: tok, Title: translate(lang, "login.title"), Data: v})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := language(w, r)
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "err.400", translate(lang, "why.other"))
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || !hmac.Equal([]byte(ck.Value), []byte(r.PostFormValue(csrfField))) {
		c.errorPage(w, r, nil, http.StatusForbidden, "err.csrf")
		return
	}
	v := loginView{Username: r.PostFormValue("username"), Next: r.PostFormValue("next")}
	caller := app.Caller{IP: c.clientIP(r), RequestID: newRequestID()}
	res, err := c.svc.Sessions.Login(r.Context(), caller, v.Username, r.PostFormValue("password"))
	if err != nil {
		c.loginRefused(w, r, lang, v, err)
		return
	}
	setSession(w, r, res, c.svc.Clock.Now(), c.opt.SecureCookies)
	http.Redirect(w, r, safeNext(v.Next), http.StatusSeeOther)
}

// loginRefused shows why a sign-in, by password or through the OpenID
// provider, did not succeed, on the sign-in page; the use case audited it.
func (c *Console) loginRefused(w http.ResponseWriter, r *http.Request, lang string, v loginView, err error) {
	var (
		val     *domain.ValidationError
		refused *app.SignInRefusedError
	)
	switch {
	case errors.Is(err, domain.ErrTooManyAttempts):
		v.Error = translate(lang, "login.throttled")
		c.renderLogin(w, r, lang, http.StatusTooManyRequests, v)
	case errors.Is(err, app.ErrDirectoryUnavailable):
		c.log.Warn("console: sign-in failed: the directory or provider does not answer", "err", err)
		v.Error = translate(lang, "login.unavailable")
		c.renderLogin(w, r, lang, http.StatusServiceUnavailable, v)
	case errors.As(err, &refused):
		v.Error = translate(lang, "login.refused", reasonText(lang, refused.Reason))
		c.renderLogin(w, r, lang, http.StatusUnauthorized, v)
	case errors.Is(err, domain.ErrUnauthenticated), errors.As(err, &val):
		v.Error = translate(lang, "login.bad")
		c.renderLogin(w, r, lang, http.StatusUnauthorized, v)
	default:
		c.fail(w, r, lang, nil, err)
	}
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

func (c *Console) logout(q *request) {
	if err := c.svc.Sessions.Logout(q.ctx(), q.caller, q.token); err != nil {
		c.fail(q.w, q.r, q.lang, q, err)
		return
	}
	clearSession(q.w, q.r, c.opt.SecureCookies)
	http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
