package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/web"
)

// withConsole mounts the web console at "/" beside the API: the API keeps
// /api/v1 and its probes and metrics, the console takes every other path.
func withConsole(api http.Handler, svc *app.Service, cfg *config.Config, log *slog.Logger) (http.Handler, error) {
	console, err := web.New(svc, web.Options{Logger: log, SecureCookies: cfg.SecureCookies,
		MaxUploadBytes: cfg.MaxUploadBytes, TrustedProxies: cfg.TrustedProxies})
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
