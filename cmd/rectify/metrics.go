package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rectify-team/rectify/internal/httpapi"
)

// startMetrics serves /metrics alone on RECTIFY_METRICS_ADDR, off the API's
// listener, asking for RECTIFY_METRICS_TOKEN when one is set (config requires
// it off loopback). It returns a function that stops it.
func startMetrics(addr, token string, m *httpapi.Metrics, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	guarded := m.Guarded(token)
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff") // as on every answer of the API
		w.Header().Set("X-Frame-Options", "DENY")
		guarded.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	log.Info("metrics serving", "addr", "http://"+ln.Addr().String()+"/metrics", "token", token != "")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
