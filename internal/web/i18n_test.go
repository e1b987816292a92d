package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
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
	for _, o := range app.AuditObjectTypes() {
		ids = append(ids, "obj."+o)
	}
	for _, o := range app.AuditOutcomes() {
		ids = append(ids, "au.outcome_"+o)
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

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	c := &Console{}
	for _, p := range []string{"10.0.0.0/8", "192.168.1.1"} {
		pfx, err := parseProxy(p)
		if err != nil {
			t.Fatal(err)
		}
		c.proxies = append(c.proxies, pfx)
	}
	for _, tc := range []struct{ remote, xff, want string }{
		{"203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},                       // not a proxy: its header is ignored
		{"10.1.2.3:1234", "198.51.100.7", "198.51.100.7"},                    // a trusted proxy
		{"10.1.2.3:1234", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"}, // the nearest untrusted hop
		{"192.168.1.1:80", "", "192.168.1.1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := c.clientIP(r); got != tc.want {
			t.Errorf("%s via %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// The formula the evaluation page shows is the one the scores are computed
// by: its English words are stats' own, whatever the weights.
func TestTheFormulaIsStatsOwn(t *testing.T) {
	w := stats.DefaultWeights()
	if got, want := formulaText(langEN, w), w.Formula(); got != want {
		t.Fatalf("the English formula\n%s\nis not stats'\n%s", got, want)
	}
	w.Workload, w.Critical = 0.55, 3.5
	if got := formulaText(langZH, w); !strings.Contains(got, "0.55 × 工作量") || !strings.Contains(got, "严重 3.5") {
		t.Fatalf("the Chinese formula: %s", got)
	}
}
