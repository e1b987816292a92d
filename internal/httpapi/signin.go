package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
)

// Sign-in besides the local password: the ways in, and the OpenID Connect
// code flow. POST /auth/login serves local and directory (LDAP/AD) users
// alike; the user's auth_source decides.

// oidcCookie keeps the browser's half of an OpenID Connect sign-in (the
// binding) between /auth/oidc/start and /auth/oidc/callback, so that a
// callback that did not start in this browser (a login CSRF) is refused.
const (
	oidcCookie     = "rectify_oidc"
	oidcCookiePath = "/api/v1/auth/oidc"
)

func (a *api) routeSignIn(v1 *gin.RouterGroup) {
	v1.GET("/auth/providers", a.handle(a.providers))
	v1.GET("/auth/oidc/start", a.handle(a.startOIDC))
	v1.GET("/auth/oidc/callback", a.handle(a.finishOIDC))
}

type providerJSON struct {
	ID          string  `json:"id"`
	DisplayName string  `json:"display_name"`
	StartURL    *string `json:"start_url"` // where a browser begins; null for password sign-in
}

func (a *api) providers(c *gin.Context) error {
	if err := allowQuery(c); err != nil {
		return err
	}
	out := []providerJSON{}
	for _, p := range a.svc.Access.Providers() {
		j := providerJSON{ID: string(p.ID), DisplayName: p.DisplayName}
		if p.ID == app.AuthOIDC {
			start := oidcCookiePath + "/start"
			j.StartURL = &start
		}
		out = append(out, j)
	}
	c.JSON(http.StatusOK, gin.H{"providers": out})
	return nil
}

func (a *api) startOIDC(c *gin.Context) error {
	if err := allowQuery(c); err != nil {
		return err
	}
	start, err := a.svc.Access.StartOIDC(c.Request.Context(), caller(c), "")
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: start.Binding, Path: oidcCookiePath,
		MaxAge: int(app.OIDCSignInTTL.Seconds()), HttpOnly: true, Secure: secureRequest(c), SameSite: http.SameSiteLaxMode})
	c.Redirect(http.StatusFound, start.URL)
	return nil
}

// finishOIDC takes the provider's callback (providers add parameters of
// their own, such as iss or session_state, so unknown ones are not refused)
// and answers a Rectify token as POST /auth/login does.
func (a *api) finishOIDC(c *gin.Context) error {
	binding, _ := c.Cookie(oidcCookie)
	http.SetCookie(c.Writer, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: secureRequest(c), SameSite: http.SameSiteLaxMode})
	res, err := a.svc.Access.FinishOIDC(c.Request.Context(), caller(c), app.OIDCCallback{State: c.Query("state"), Code: c.Query("code"),
		Error: c.Query("error"), ErrorDescription: c.Query("error_description"), Binding: binding})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, loginResponse{Token: res.Token, ExpiresAt: res.ExpiresAt, User: toUserJSON(res.User)})
	return nil
}

// secureRequest reports a request that came over TLS, directly or through a
// proxy that says so, so that the cookie never travels over plain HTTP.
func secureRequest(c *gin.Context) bool {
	return c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https"
}
