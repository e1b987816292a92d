package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
)

// Signing in through the OpenID provider: the same use cases as the API's
// /auth/oidc/start and /auth/oidc/callback, ending in the console's session.

const (
	oidcStartPath = "/login/oidc"
	// OIDCCallbackPath is the console's callback; the operator registers
	// https://HOST/login/oidc/callback with the provider beside the API's.
	OIDCCallbackPath = "/login/oidc/callback"
	// oidcCookie keeps the browser's half of the sign-in (the binding, so that
	// a callback that did not start in this browser is refused) and the page
	// to return to, between the start and the callback. Lax: the callback is a
	// top-level navigation from the provider's site.
	oidcCookie = "rectify_console_oidc"
)

func (c *Console) startOIDC(w http.ResponseWriter, r *http.Request) {
	lang := language(w, r)
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	if c.opt.OIDCCallback == "" {
		c.errorPage(w, r, nil, http.StatusNotFound, "err.404")
		return
	}
	start, err := c.svc.Sessions.StartOIDC(r.Context(), app.Caller{IP: c.clientIP(r), RequestID: newRequestID()}, c.opt.OIDCCallback)
	switch {
	case errors.Is(err, app.ErrDirectoryUnavailable):
		c.loginRefused(w, r, lang, loginView{Next: next}, err)
		return
	case err != nil: // not configured (404), or the callback is not registered (a wiring mistake)
		c.fail(w, r, lang, nil, err)
		return
	}
	value := start.Binding + "." + base64.RawURLEncoding.EncodeToString([]byte(next))
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: value, Path: oidcStartPath,
		MaxAge: max(int(start.ExpiresAt.Sub(c.svc.Clock.Now()).Seconds()), 1), HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secure(r, c.opt.SecureCookies)})
	http.Redirect(w, r, start.URL, http.StatusFound)
}

// finishOIDC takes the provider's callback (providers add parameters of
// their own, such as iss or session_state, which are ignored), signs the
// person in as the password form does, and returns to the page they wanted.
func (c *Console) finishOIDC(w http.ResponseWriter, r *http.Request) {
	lang := language(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if c.opt.OIDCCallback == "" {
		c.errorPage(w, r, nil, http.StatusNotFound, "err.404")
		return
	}
	var binding, next string
	if ck, err := r.Cookie(oidcCookie); err == nil {
		var enc string
		binding, enc, _ = strings.Cut(ck.Value, ".")
		if raw, err := base64.RawURLEncoding.DecodeString(enc); err == nil {
			next = string(raw)
		}
		http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcStartPath, MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: secure(r, c.opt.SecureCookies)})
	}
	next = safeNext(next)
	q := r.URL.Query()
	res, err := c.svc.Sessions.FinishOIDC(r.Context(), app.Caller{IP: c.clientIP(r), RequestID: newRequestID()}, app.OIDCCallback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
		Binding: binding})
	if err != nil {
		c.loginRefused(w, r, lang, loginView{Next: next}, err)
		return
	}
	setSession(w, r, res, c.svc.Clock.Now(), c.opt.SecureCookies)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
