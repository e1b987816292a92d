package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Paths that exist answer 405 with Allow for the methods they do not serve,
// never 404: every path of docs/openapi.yaml × every method it lacks.
func TestWrongMethodsOnExistingPathsAre405(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, setup{metrics: true, metricsToken: metricsToken})
	doc, _ := loadSpec(t)
	param := regexp.MustCompile(`\{[^}]+\}`)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	checked := 0
	for tmpl, item := range doc.Paths.Map() {
		path := param.ReplaceAllString(tmpl, "1")
		var allowed []string
		for m := range item.Operations() {
			allowed = append(allowed, m)
		}
		for _, m := range methods {
			if slices.Contains(allowed, m) {
				continue
			}
			checked++
			hr := httptest.NewRequest(m, path, strings.NewReader("{}"))
			hr.Header.Set("Authorization", "Bearer "+s.token(t, "leader"))
			rec := httptest.NewRecorder()
			s.handler.ServeHTTP(rec, hr)
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405: %s", m, path, rec.Code, rec.Body)
				continue
			}
			allow := strings.Split(rec.Header().Get("Allow"), ", ")
			slices.Sort(allow)
			slices.Sort(allowed)
			if !slices.Equal(allow, allowed) {
				t.Errorf("%s %s: Allow %v, documented %v", m, path, allow, allowed)
			}
			if !strings.Contains(rec.Body.String(), `"code":"method_not_allowed"`) {
				t.Errorf("%s %s: not the one error shape: %s", m, path, rec.Body)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d path × method pairs checked", checked)
	}
}
