package httpapi_test

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _ := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q, want 3.0.3", doc.OpenAPI)
	}
}

var ginParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestEveryRouteIsDocumented compares the gin engine's routes with the
// document's operations, both ways.
func TestEveryRouteIsDocumented(t *testing.T) {
	doc, _ := loadSpec(t)
	s := newServerWith(t, setup{metrics: true, metricsToken: metricsToken})
	engine, ok := s.handler.(*gin.Engine)
	if !ok {
		t.Fatalf("httpapi.New returned %T, not *gin.Engine", s.handler)
	}
	served := map[string]bool{}
	for _, r := range engine.Routes() {
		if strings.Contains(r.Handler, "methodNotAllowed") {
			continue // a 405 that keeps a route with a parameter off a path of another method
		}
		served[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, k := range sortedKeys(served) {
		if !documented[k] {
			t.Errorf("route %s is served but not in docs/openapi.yaml", k)
		}
	}
	for _, k := range sortedKeys(documented) {
		if !served[k] {
			t.Errorf("operation %s is in docs/openapi.yaml but not served", k)
		}
	}
	if len(served) < 40 {
		t.Errorf("only %d routes served; expected the whole API", len(served))
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func enumStrings(t *testing.T, s *openapi3.Schema) []string {
	t.Helper()
	var out []string
	for _, v := range s.Enum {
		if v == nil {
			continue
		}
		out = append(out, v.(string))
	}
	return out
}

func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// TestDocumentEnumsMatchDomain keeps the document's enums equal to the domain's lists.
func TestDocumentEnumsMatchDomain(t *testing.T) {
	doc, _ := loadSpec(t)
	schema := func(name string) *openapi3.Schema {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Fatalf("no schema %s", name)
		}
		return ref.Value
	}
	warnings := []string{string(domain.WarningGreen), string(domain.WarningYellow), string(domain.WarningRed)}
	labels := make([]string, 0, 6)
	for _, s := range domain.Statuses() {
		labels = append(labels, s.Label())
	}
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"Status", enumStrings(t, schema("Status")), names(domain.Statuses())},
		{"Severity", enumStrings(t, schema("Severity")), names(domain.Severities())},
		{"Source", enumStrings(t, schema("Source")), names(domain.Sources())},
		{"Role", enumStrings(t, schema("Role")), names(domain.Roles())},
		{"Action", enumStrings(t, schema("Action")), names(domain.Actions())},
		{"ExtensionStatus", enumStrings(t, schema("ExtensionStatus")),
			names([]domain.ExtensionStatus{domain.ExtensionPending, domain.ExtensionApproved, domain.ExtensionRejected})},
		{"Problem.warning", enumStrings(t, schema("Problem").Properties["warning"].Value), warnings},
		{"Problem.status_label", enumStrings(t, schema("Problem").Properties["status_label"].Value), labels},
		{"AuditEntry.from_state", enumStrings(t, schema("AuditEntry").Properties["from_state"].Value), names(domain.Statuses())},
		{"AuditEntry.to_state", enumStrings(t, schema("AuditEntry").Properties["to_state"].Value), names(domain.Statuses())},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s enum is %v, the domain has %v", c.name, c.got, c.want)
		}
	}
	audit := enumStrings(t, schema("AuditAction"))
	for _, a := range domain.Actions() {
		if !slices.Contains(audit, string(a)) {
			t.Errorf("AuditAction lacks the lifecycle action %s", a)
		}
	}
}

// TestDocumentConventions checks what every operation must document: the
// request id on every answer, the one Error schema on every error, 401 on
// secured operations, 400 and 413 where a body is read, 404 where an id is
// in the path, and request bodies that refuse unknown fields.
func TestDocumentConventions(t *testing.T) {
	doc, _ := loadSpec(t)
	errorSchema := doc.Components.Schemas["Error"].Value
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := strings.ToUpper(method) + " " + path
			if op.Description == "" && op.Summary == "" {
				t.Errorf("%s: no summary or description", name)
			}
			statuses := map[int]bool{}
			for code, resp := range op.Responses.Map() {
				st := 0
				for _, c := range code {
					st = st*10 + int(c-'0')
				}
				statuses[st] = true
				if resp.Value.Headers["X-Request-ID"] == nil {
					t.Errorf("%s %s: X-Request-ID not documented", name, code)
				}
				if st >= 400 {
					mt := resp.Value.Content.Get("application/json")
					if mt == nil || mt.Schema == nil || mt.Schema.Value != errorSchema {
						t.Errorf("%s %s: not the shared Error schema", name, code)
					}
				}
			}
			secured := op.Security == nil || len(*op.Security) > 0
			if secured && !statuses[http.StatusUnauthorized] {
				t.Errorf("%s: secured but no 401", name)
			}
			if strings.Contains(path, "{") && !statuses[http.StatusNotFound] {
				t.Errorf("%s: an id in the path but no 404", name)
			}
			if strings.HasPrefix(path, "/api/v1/") && path != "/api/v1/healthz" && !statuses[http.StatusServiceUnavailable] {
				t.Errorf("%s: reads the database but no 503", name)
			}
			idempotencyKey := false
			for _, prm := range op.Parameters {
				idempotencyKey = idempotencyKey || (prm.Value.In == "header" && prm.Value.Name == "Idempotency-Key")
			}
			if method == http.MethodPost && (!idempotencyKey || !statuses[http.StatusConflict] && path != "/api/v1/auth/login" && path != "/api/v1/auth/logout") {
				t.Errorf("%s: every POST documents Idempotency-Key and its 409", name)
			}
			for _, prm := range op.Parameters {
				if prm.Value.In == "header" && prm.Value.Name == "If-Match" &&
					(!statuses[http.StatusPreconditionFailed] || !statuses[http.StatusConflict]) {
					t.Errorf("%s: takes If-Match but lacks 412 or 409", name)
				}
			}
			if op.RequestBody != nil {
				if !statuses[http.StatusBadRequest] || !statuses[http.StatusRequestEntityTooLarge] {
					t.Errorf("%s: reads a body but lacks 400 or 413", name)
				}
				mt := op.RequestBody.Value.Content.Get("application/json")
				if mt == nil && (name == "POST /api/v1/attachments" || name == "POST /api/v1/problems/import") { // the uploads: multipart
					mt = op.RequestBody.Value.Content.Get("multipart/form-data")
				}
				if mt == nil || mt.Schema == nil {
					t.Errorf("%s: no JSON request schema", name)
					continue
				}
				ap := mt.Schema.Value.AdditionalProperties
				if ap.Has == nil || *ap.Has {
					t.Errorf("%s: the request schema must say additionalProperties: false (the server refuses unknown fields)", name)
				}
			}
		}
	}
}
