package domain_test

import (
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

// TestEveryValueHasItsOwnLabel: each status, severity, source and warning
// level has a Chinese name of its own, which the import reads back.
func TestEveryValueHasItsOwnLabel(t *testing.T) {
	seen := map[string]string{}
	check := func(code, label string) {
		t.Helper()
		if label == "" || label == code {
			t.Errorf("%s has no label", code)
		}
		if other, dup := seen[label]; dup {
			t.Errorf("%s and %s are both %s", other, code, label)
		}
		seen[label] = code
	}
	for _, s := range domain.Statuses() {
		check(string(s), s.Label())
	}
	for _, s := range domain.Severities() {
		check(string(s), s.Label())
	}
	for _, s := range domain.Sources() {
		check(string(s), s.Label())
	}
	for _, w := range []domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen} {
		check(string(w), w.Label())
	}
	if domain.WarningNone.Label() != "" || domain.Severity("grave").Label() != "grave" {
		t.Errorf("no warning is %q, an unknown severity %q", domain.WarningNone.Label(), domain.Severity("grave").Label())
	}
	if domain.StatusRegistered.Label() != "已登记" || domain.SeveritySerious.Label() != "较重" || domain.SourceSpotCheck.Label() != "抽查" ||
		domain.WarningRed.Label() != "红灯" {
		t.Error("labels changed")
	}
}
