package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/store/storetest"
)

// The binary serves /metrics only to whom the operator chose: alone on
// RECTIFY_METRICS_ADDR, and on the main listener to RECTIFY_METRICS_TOKEN.
func TestBinaryMetricsAccess(t *testing.T) {
	const token = "metrics-token-for-the-test"
	get := func(url, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer func() { _ = res.Body.Close() }()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	env := func(extra ...string) []string {
		dir := t.TempDir()
		return append([]string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + filepath.Join(dir, "data"),
			"RECTIFY_ADMIN_PASSWORD=admin-secret-123"}, extra...)
	}

	// By default: no metrics anywhere.
	s := start(t, env())
	if code, _ := get(s.base+"/metrics", ""); code != http.StatusNotFound {
		t.Fatalf("default /metrics: %d, want 404", code)
	}
	s.stop()

	// A loopback metrics listener without a token; the main one still has none.
	maddr := freeAddr(t)
	s = start(t, env("RECTIFY_METRICS_ADDR="+maddr))
	if code, body := get("http://"+maddr+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "# HELP") {
		t.Fatalf("metrics listener: %d %.80s", code, body)
	}
	if code, _ := get(s.base+"/metrics", ""); code != http.StatusNotFound {
		t.Fatalf("main /metrics beside a metrics listener: %d, want 404", code)
	}
	s.stop()

	// With a token: both ask for it.
	maddr = freeAddr(t)
	s = start(t, env("RECTIFY_METRICS_ADDR="+maddr, "RECTIFY_METRICS_TOKEN="+token))
	for _, url := range []string{s.base + "/metrics", "http://" + maddr + "/metrics"} {
		if code, _ := get(url, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d, want 401", url, code)
		}
		if code, _ := get(url, "wrong-"+token); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", url, code)
		}
		if code, body := get(url, token); code != http.StatusOK || !strings.Contains(body, "# HELP") {
			t.Errorf("%s with the token: %d %.80s", url, code, body)
		}
	}
	s.stop()
}
