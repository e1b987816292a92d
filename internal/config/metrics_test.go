package config

import (
	"io"
	"strings"
	"testing"
)

func TestMetricsSettings(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil || c.MetricsAddr != "" || c.MetricsToken != "" {
		t.Fatalf("metrics are off by default: %+v, %v", c, err)
	}
	c, err = Parse("rectify serve", []string{"--metrics-addr", "127.0.0.1:9090"}, env(nil), io.Discard)
	if err != nil || c.MetricsAddr != "127.0.0.1:9090" {
		t.Fatalf("a loopback listener needs no token: %v", err)
	}
	c, err = Parse("rectify serve", nil, env(map[string]string{"RECTIFY_METRICS_ADDR": "0.0.0.0:9090",
		"RECTIFY_METRICS_TOKEN": "0123456789abcdef"}), io.Discard)
	if err != nil || c.MetricsToken != "0123456789abcdef" {
		t.Fatalf("an open listener with a token: %v", err)
	}
	for name, e := range map[string]map[string]string{
		"open without token": {"RECTIFY_METRICS_ADDR": "0.0.0.0:9090"},
		"short token":        {"RECTIFY_METRICS_TOKEN": "short"},
		"no port":            {"RECTIFY_METRICS_ADDR": "127.0.0.1"},
	} {
		_, err := Parse("rectify serve", nil, env(e), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "RECTIFY_METRICS_") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
