package web

import (
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Every action the trail records, every status, severity, source and role
// has a label in both languages, so that no page shows a message id.
func TestTheCatalogueNamesEverything(t *testing.T) {
	var ids []string
	for _, a := range app.AuditActions() {
		ids = append(ids, "act."+a)
	}
	for _, s := range domain.Severities() {
		ids = append(ids, "sev."+string(s))
	}
	for _, s := range domain.Sources() {
		ids = append(ids, "src."+string(s))
	}
	for _, r := range domain.Roles() {
		ids = append(ids, "role."+string(r))
	}
	for _, k := range reportKinds {
		ids = append(ids, "rp."+string(k))
	}
	for _, id := range ids {
		m, ok := catalogue[id]
		if !ok || m[0] == "" || m[1] == "" {
			t.Errorf("the catalogue lacks %s in Chinese or English", id)
		}
	}
	for _, s := range domain.Statuses() {
		if statusLabel(langEN, s) == "" || statusLabel(langZH, s) == string(s) {
			t.Errorf("status %s has no label", s)
		}
	}
}
