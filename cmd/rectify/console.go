package main

import (
	"github.com/rectify-team/rectify/internal/app/wire"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/web"
)

// withConsole mounts the web console at "/" beside the API: the API keeps
// /api/v1 and its probes and metrics, the console takes every other path.
func withConsole(api http.Handler, svc *wire.Services, cfg *config.Config, log *slog.Logger) (http.Handler, error) {
	console, err := web.New(web.ServicesOf(svc), web.Options{Logger: log, SecureCookies: cfg.SecureCookies,
		MaxUploadBytes: cfg.MaxUploadBytes, TrustedProxies: cfg.TrustedProxies, OIDCCallback: consoleCallback(cfg, log)})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, "/api/"), p == "/api", p == "/healthz", p == "/readyz", p == "/metrics":
			api.ServeHTTP(w, r)
		default:
			console.ServeHTTP(w, r)
		}
	}), nil
}

// consoleCallback is the console's OpenID Connect callback among the
// registered ones; without it the console offers passwords only.
func consoleCallback(cfg *config.Config, log *slog.Logger) string {
	if cfg.SignIn.OIDC == nil {
		return ""
	}
	for _, r := range cfg.SignIn.RedirectURLs {
		if u, err := url.Parse(r); err == nil && u.Path == web.OIDCCallbackPath {
			return r
		}
	}
	log.Warn("the console does not offer OpenID Connect sign-in: RECTIFY_OIDC_REDIRECT_URL lists no https://HOST" + web.OIDCCallbackPath)
	return ""
}
