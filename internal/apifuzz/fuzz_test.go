package apifuzz

import (
	"net/http"
	"testing"
	"time"
)

// TestFindingsOfABrokenServer runs the fuzzer against servers that break the
// document in known ways, and expects each to be reported.
func TestFindingsOfABrokenServer(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   string
	}{
		{"a 500 for everything", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"boom"}}`))
		}, "server_error"},
		{"a bare 200 for everything", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Request-ID", "r")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, "invalid_accepted"},
		{"a bare 200 for everything", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Request-ID", "r")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
		}, "undocumented_response"},
		{"a 400 for everything", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Request-ID", "r")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"code":"invalid_input","message":"no","details":[{"field":"x","reason":"no"}]}}`))
		}, "valid_refused"},
	} {
		f, err := New("../../docs/openapi.yaml", 1, Target{Handler: http.HandlerFunc(c.answer),
			Users: []string{"u"}, Token: func(string) string { return "t" }, Pools: map[string][]int64{},
			Today: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		st, findings := f.Run(2 * f.Operations())
		found := false
		for _, fd := range findings {
			found = found || fd.Kind == c.want
		}
		if !found {
			t.Errorf("%s: no %s among %d findings of %d requests", c.name, c.want, len(findings), st.Requests)
		}
	}
}
