package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DB != "sqlite:rectify.db" || c.Location.String() != "Asia/Shanghai" ||
		c.AuditKeyFile != "data/audit.key" || !c.Migrate || c.Demo || c.TokenTTL != 12*time.Hour || c.DBMaxConns != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	if d := c.Deadlines; d.GeneralDays != 30 || d.SeriousDays != 15 || d.CriticalDays != 7 || d.YellowDays != 3 {
		t.Fatalf("deadline defaults: %+v", d)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := Parse("rectify serve", []string{"--addr", "127.0.0.1:9", "--deadline-days", "10,5,2", "--demo"},
		env(map[string]string{"RECTIFY_ADDR": "0.0.0.0:1", "RECTIFY_DATA_DIR": "/srv/r", "RECTIFY_TZ": "UTC",
			"RECTIFY_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2", "RECTIFY_ADMIN_PASSWORD": "s3cret-pass"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9" || c.DataDir != "/srv/r" || c.AuditKeyFile != "/srv/r/audit.key" || !c.Demo ||
		c.Location.String() != "UTC" || c.AdminPassword != "s3cret-pass" || len(c.TrustedProxies) != 2 {
		t.Fatalf("got %+v", c)
	}
	if c.Deadlines.GeneralDays != 10 || c.Deadlines.CriticalDays != 2 {
		t.Fatalf("deadline days: %+v", c.Deadlines)
	}
}

func TestEveryBadValueIsNamed(t *testing.T) {
	_, err := Parse("rectify serve", nil, env(map[string]string{
		"RECTIFY_DB": "postgres://x", "RECTIFY_TZ": "Nowhere/Land", "RECTIFY_TOKEN_TTL": "forever",
		"RECTIFY_DEMO": "perhaps", "RECTIFY_YELLOW_DAYS": "many", "RECTIFY_DEADLINE_DAYS": "30,15",
		"RECTIFY_LOG_FORMAT": "xml", "RECTIFY_MAX_BODY": "12", "RECTIFY_DB_MAX_CONNS": "-1",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, key := range []string{"RECTIFY_DB", "RECTIFY_TZ", "RECTIFY_TOKEN_TTL", "RECTIFY_DEMO", "RECTIFY_YELLOW_DAYS",
		"RECTIFY_DEADLINE_DAYS", "RECTIFY_LOG_FORMAT", "RECTIFY_MAX_BODY", "RECTIFY_DB_MAX_CONNS"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not name %s: %v", key, err)
		}
	}
}

func TestStrayArgumentsAreRefused(t *testing.T) {
	if _, err := Parse("rectify serve", []string{"extra"}, env(nil), io.Discard); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}

func TestAuditLogWitnessAndMargin(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(map[string]string{"RECTIFY_DATA_DIR": "/srv/r"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuditLogFile != "/srv/r/audit-checkpoints.log" || c.AuditMargin != time.Minute || c.AuditWitness != "" {
		t.Fatalf("audit defaults: %+v", c)
	}
	c, err = Parse("rectify serve", nil, env(map[string]string{"RECTIFY_AUDIT_LOG": "/var/log/rectify/cp.log",
		"RECTIFY_AUDIT_MARGIN": "30s", "RECTIFY_AUDIT_WITNESS": "https://witness.example/add",
		"RECTIFY_AUDIT_WITNESS_KEY": "w+1+AAAA"}), io.Discard)
	if err != nil || c.AuditLogFile != "/var/log/rectify/cp.log" || c.AuditMargin != 30*time.Second ||
		c.AuditWitness != "https://witness.example/add" {
		t.Fatalf("audit settings: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{
		{"RECTIFY_AUDIT_MARGIN": "0s"},
		{"RECTIFY_AUDIT_WITNESS": "https://witness.example/add"},
		{"RECTIFY_AUDIT_WITNESS_KEY": "w+1+AAAA"},
		{"RECTIFY_AUDIT_WITNESS": "ftp://witness.example", "RECTIFY_AUDIT_WITNESS_KEY": "w+1+AAAA"},
	} {
		if _, err := Parse("rectify serve", nil, env(bad), io.Discard); err == nil || !strings.Contains(err.Error(), "RECTIFY_AUDIT_") {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
}
