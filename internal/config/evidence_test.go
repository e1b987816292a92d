package config

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestEvidenceSettings(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxUploadBytes != 20<<20 || c.MaxExtensions != 2 ||
		!slices.Equal(c.EvidenceRequired, []domain.Severity{domain.SeveritySerious, domain.SeverityCritical}) {
		t.Fatalf("defaults: upload %d, extensions %d, evidence %v", c.MaxUploadBytes, c.MaxExtensions, c.EvidenceRequired)
	}
	c, err = Parse("rectify serve", []string{"--max-extensions", "3"}, env(map[string]string{
		"RECTIFY_MAX_UPLOAD": "5MiB", "RECTIFY_EVIDENCE_REQUIRED": "none", "RECTIFY_MAX_EXTENSIONS": "1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxUploadBytes != 5<<20 || c.MaxExtensions != 3 || len(c.EvidenceRequired) != 0 {
		t.Fatalf("set: upload %d, extensions %d, evidence %v", c.MaxUploadBytes, c.MaxExtensions, c.EvidenceRequired)
	}
	c, err = Parse("rectify serve", []string{"--max-upload", "1048576", "--evidence-required", "general,critical"}, env(nil), io.Discard)
	if err != nil || c.MaxUploadBytes != 1<<20 || !slices.Equal(c.EvidenceRequired, []domain.Severity{domain.SeverityGeneral, domain.SeverityCritical}) {
		t.Fatalf("flags: %v %+v", err, c)
	}
	for k, v := range map[string]string{"RECTIFY_MAX_UPLOAD": "lots", "RECTIFY_EVIDENCE_REQUIRED": "grave",
		"RECTIFY_MAX_EXTENSIONS": "-1"} {
		_, err := Parse("rectify serve", nil, env(map[string]string{k: v}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	if _, err := Parse("rectify serve", nil, env(map[string]string{"RECTIFY_MAX_UPLOAD": "100"}), io.Discard); err == nil {
		t.Errorf("a 100-byte upload limit was accepted")
	}
}
