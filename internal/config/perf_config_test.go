package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestDBTimeoutAndPprof(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DBTimeout != 10*time.Second || c.PprofAddr != "" {
		t.Fatalf("defaults: db timeout %s, pprof %q", c.DBTimeout, c.PprofAddr)
	}
	c, err = Parse("rectify serve", []string{"--pprof", "127.0.0.1:6060"}, env(map[string]string{"RECTIFY_DB_TIMEOUT": "2s"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DBTimeout != 2*time.Second || c.PprofAddr != "127.0.0.1:6060" {
		t.Fatalf("got db timeout %s, pprof %q", c.DBTimeout, c.PprofAddr)
	}
	for _, tc := range []struct{ key, val, want string }{
		{"RECTIFY_PPROF", "0.0.0.0:6060", "RECTIFY_PPROF"},
		{"RECTIFY_PPROF", ":6060", "RECTIFY_PPROF"},
		{"RECTIFY_PPROF", "10.0.0.1:6060", "RECTIFY_PPROF"},
		{"RECTIFY_PPROF", "localhost", "RECTIFY_PPROF"},
		{"RECTIFY_DB_TIMEOUT", "1ms", "RECTIFY_DB_TIMEOUT"},
		{"RECTIFY_DB_TIMEOUT", "soon", "RECTIFY_DB_TIMEOUT"},
	} {
		_, err := Parse("rectify serve", nil, env(map[string]string{tc.key: tc.val}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: got %v, want an error naming %s", tc.key, tc.val, err, tc.want)
		}
	}
	for _, ok := range []string{"127.0.0.1:1", "[::1]:6060", "localhost:6060", "127.1.2.3:80"} {
		if !loopbackAddr(ok) {
			t.Errorf("%s should be loopback", ok)
		}
	}
}
