package httpapi_test

// The harness: every request of the suite goes through apiServer.do, which
// validates the request and the response against docs/openapi.yaml, so that
// the document cannot drift from what the server does.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/ledger"
)

const specPath = "../../docs/openapi.yaml"

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// loadSpec loads and validates docs/openapi.yaml once for the whole suite.
func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			specErr = fmt.Errorf("load %s: %w", specPath, err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("%s is not a valid OpenAPI document: %w", specPath, err)
			return
		}
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("router for %s: %w", specPath, err)
			return
		}
		specDoc, specRouter = doc, r
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specDoc, specRouter
}

// bearerPresent is the document's security check: the request carries a bearer
// token. Whether the token is good is the server's business (401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// setup configures a test server.
type setup struct {
	maxBodyBytes   int64
	maxUploadBytes int64
	metrics        bool   // wire Prometheus metrics into the router and the service
	metricsToken   string // serve /metrics on the router to this bearer token
	logger         *slog.Logger
	failureEvery   time.Duration // Options.FailureLogEvery
	options        []wire.Option // a service with these (e.g. a directory) on the fixture's database
}

// apiServer is the real router on the real service on a fresh database.
type apiServer struct {
	env     *apptest.Env
	handler http.Handler
	metrics *httpapi.Metrics

	mu     sync.Mutex
	tokens map[string]string
}

func newServer(t *testing.T) *apiServer { return newServerWith(t, setup{}) }

func newServerWith(t *testing.T, s setup) *apiServer {
	t.Helper()
	loadSpec(t)
	env := apptest.New(t)
	svc := env.Svc
	opt := httpapi.Options{MaxBodyBytes: s.maxBodyBytes, MaxUploadBytes: s.maxUploadBytes, Logger: s.logger,
		FailureLogEvery: s.failureEvery}
	var m *httpapi.Metrics
	if s.metrics {
		// The fixture's service has no metrics sink; a second service on the
		// same database, clock and keys has one, as cmd/rectify wires it.
		m = httpapi.NewMetrics(env.DB.SQL())
		svc = wire.New(env.DB, env.Keys, env.Svc.Core.Config(), wire.WithClock(env.Clock.Now), wire.WithMetrics(m), wire.WithWorkbookReader(ledger.Parse))
		opt.Metrics, opt.MetricsToken = m, s.metricsToken
	}
	if len(s.options) > 0 {
		svc = env.Instance(t, s.options...)
	}
	h, err := httpapi.New(httpapi.ServicesOf(svc), opt)
	if err != nil {
		t.Fatalf("httpapi.New: %v", err)
	}
	return &apiServer{env: env, handler: h, metrics: m, tokens: map[string]string{}}
}

// req is one request of a test.
type req struct {
	method string
	path   string
	as     string // fixture user whose token is sent; "" sends none
	token  string // a raw bearer token, instead of as
	body   any    // nil: no body; string or []byte: sent as is; anything else: JSON
	header map[string]string
	// chunked sends the body without Content-Length.
	chunked bool
}

// res is what the server answered.
type res struct {
	status int
	header http.Header
	body   []byte
}

func (r res) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode unmarshals the body into v.
func (r res) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// obj returns the body as a JSON object.
func (r res) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// apiError is the one error shape.
type apiError struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

type fieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

type transitionDetails struct {
	Status         string   `json:"status"`
	Action         string   `json:"action"`
	AllowedActions []string `json:"allowed_actions"`
}

func (r res) apiError(t testing.TB) apiError {
	t.Helper()
	var e apiError
	r.decode(t, &e)
	if e.Error.Code == "" {
		t.Fatalf("not an error body: %s", r.body)
	}
	return e
}

func (r res) fields(t testing.TB) []fieldError {
	t.Helper()
	e := r.apiError(t)
	var fs []fieldError
	if err := json.Unmarshal(e.Error.Details, &fs); err != nil {
		t.Fatalf("details are not field errors: %s", r.body)
	}
	return fs
}

func (r res) hasField(t testing.TB, field string) bool {
	t.Helper()
	for _, f := range r.fields(t) {
		if f.Field == field {
			return true
		}
	}
	return false
}

// token logs a fixture user in over HTTP once and returns the bearer token.
func (s *apiServer) token(t testing.TB, username string) string {
	t.Helper()
	s.mu.Lock()
	tok, ok := s.tokens[username]
	s.mu.Unlock()
	if ok {
		return tok
	}
	r := s.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": username, "password": apptest.Password}})
	if r.status != http.StatusOK {
		t.Fatalf("login %s: %s", username, r)
	}
	var out struct {
		Token string `json:"token"`
	}
	r.decode(t, &out)
	s.mu.Lock()
	s.tokens[username] = out.Token
	s.mu.Unlock()
	return out.Token
}

// advance moves the fake clock and drops cached tokens, which may have expired.
func (s *apiServer) advance(d time.Duration) {
	s.env.Clock.Advance(d)
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// forget drops a cached token (after logout, disable, password reset).
func (s *apiServer) forget(username string) {
	s.mu.Lock()
	delete(s.tokens, username)
	s.mu.Unlock()
}

func bodyBytes(t testing.TB, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("marshal body: %v", err)
	}
	return b
}

func (s *apiServer) newRequest(t testing.TB, r req, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr := httptest.NewRequest(r.method, r.path, rd)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
		if r.chunked {
			hr.ContentLength = -1
			hr.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	switch {
	case r.token != "":
		hr.Header.Set("Authorization", "Bearer "+r.token)
	case r.as != "":
		hr.Header.Set("Authorization", "Bearer "+s.token(t, r.as))
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	return hr
}

// do sends one request through the real router and checks, against
// docs/openapi.yaml, that the route is documented, that the response (status,
// headers, body) is documented, and that a request the document refuses is
// not accepted by the server. It also refuses any 5xx but the documented 503.
func (s *apiServer) do(t testing.TB, r req) res {
	t.Helper()
	_, router := loadSpec(t)
	body := bodyBytes(t, r.body)
	served := s.newRequest(t, r, body)
	checked := served.Clone(context.Background())
	if body != nil {
		checked.Body = io.NopCloser(bytes.NewReader(body))
	}

	route, pathParams, err := router.FindRoute(checked)
	if err != nil {
		t.Fatalf("%s %s is not described in docs/openapi.yaml: %v", r.method, r.path, err)
	}
	reqIn := &openapi3filter.RequestValidationInput{
		Request: checked, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, SkipSettingDefaults: true, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), reqIn)

	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, served)
	resp := rec.Result()
	defer func() { _ = resp.Body.Close() }() // a recorder's body, in memory
	out := res{status: resp.StatusCode, header: resp.Header, body: rec.Body.Bytes()}

	where := fmt.Sprintf("%s %s → %d", r.method, r.path, out.status)
	if out.status >= 500 && out.status != http.StatusServiceUnavailable {
		t.Errorf("%s: server error: %s", where, out.body)
	}
	if reqErr != nil && out.status < 400 {
		t.Errorf("%s: the server accepted a request that docs/openapi.yaml refuses: %s", where, brief(reqErr))
	}
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn, Status: out.status, Header: out.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	respIn.SetBodyBytes(out.body)
	if err := openapi3filter.ValidateResponse(context.Background(), respIn); err != nil {
		t.Errorf("%s: the response does not match docs/openapi.yaml: %v\nbody: %s", where, err, out.body)
	}
	// kin-openapi skips 304; check it by hand: documented, with its headers, no body.
	if out.status == http.StatusNotModified {
		documented := route.Operation.Responses.Status(http.StatusNotModified)
		switch {
		case documented == nil:
			t.Errorf("%s: 304 is not documented", where)
		case len(out.body) != 0:
			t.Errorf("%s: 304 with a body: %s", where, out.body)
		default:
			for name, h := range documented.Value.Headers {
				if h.Value.Required && out.header.Get(name) == "" {
					t.Errorf("%s: documented header %s missing", where, name)
				}
			}
		}
	}
	if out.header.Get("X-Request-ID") == "" {
		t.Errorf("%s: no X-Request-ID", where)
	}
	return out
}

// brief keeps the first lines of a validation error; kin-openapi appends
// whole schemas, which drown the reason.
func brief(err error) string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) > 3 {
		lines = lines[:3]
	}
	return strings.Join(lines, " ")
}

// row is one table row: a request, the status it must get, and, for errors,
// the error code; check may look further.
type row struct {
	name   string
	req    req
	status int
	code   string
	check  func(t *testing.T, r res)
}

func (s *apiServer) run(t *testing.T, rows []row) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.req)
			if r.status != tc.status {
				t.Fatalf("%s %s: got %s, want status %d", tc.req.method, tc.req.path, r, tc.status)
			}
			if tc.code != "" {
				if got := r.apiError(t).Error.Code; got != tc.code {
					t.Fatalf("error code %q, want %q: %s", got, tc.code, r.body)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// must sends a request and fails the test unless the status is want.
func (s *apiServer) must(t testing.TB, want int, r req) res {
	t.Helper()
	out := s.do(t, r)
	if out.status != want {
		t.Fatalf("%s %s: got %s, want %d", r.method, r.path, out, want)
	}
	return out
}

// problem is the wire form of a problem, as far as the tests read it.
type problem struct {
	ID               int64    `json:"id"`
	Code             string   `json:"code"`
	Title            string   `json:"title"`
	Status           string   `json:"status"`
	StatusLabel      string   `json:"status_label"`
	Version          int64    `json:"version"`
	UnitID           int64    `json:"unit_id"`
	AssigneeID       *int64   `json:"assignee_id"`
	Deadline         *string  `json:"deadline"`
	Measures         string   `json:"measures"`
	Percent          int      `json:"percent"`
	Warning          *string  `json:"warning"`
	Overdue          bool     `json:"overdue"`
	ReworkCount      int      `json:"rework_count"`
	ReopenCount      int      `json:"reopen_count"`
	ExtensionCount   int      `json:"extension_count"`
	ClosedOnTime     *bool    `json:"closed_on_time"`
	ClosedAt         *string  `json:"closed_at"`
	CreatedBy        int64    `json:"created_by"`
	AvailableActions []string `json:"available_actions"`
}

func (r res) problem(t testing.TB) problem {
	t.Helper()
	var p problem
	r.decode(t, &p)
	return p
}

type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type auditEntry struct {
	Seq        int64           `json:"seq"`
	Stream     string          `json:"stream"`
	StreamSeq  int64           `json:"stream_seq"`
	ActorID    *int64          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	RequestID  string          `json:"request_id"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	FromState  *string         `json:"from_state"`
	ToState    *string         `json:"to_state"`
	Changes    json.RawMessage `json:"changes"`
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason"`
}

// id returns a fixture user's id.
func (s *apiServer) id(username string) int64 { return s.env.Users[username].ID }

// unit returns a fixture unit's id.
func (s *apiServer) unit(name string) int64 { return s.env.Units[name].ID }

func pathf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// register registers a problem in a unit over HTTP as the inspector.
func (s *apiServer) register(t testing.TB, title, unit string, extra map[string]any) problem {
	t.Helper()
	body := map[string]any{"title": title, "description": "描述：" + title, "category_id": 5, "severity": "general",
		"source": "inspection", "unit_id": s.unit(unit)}
	for k, v := range extra {
		body[k] = v
	}
	return s.must(t, http.StatusCreated, req{method: "POST", path: "/api/v1/problems", as: "inspector", body: body}).problem(t)
}

// act posts a lifecycle action and expects 200.
func (s *apiServer) act(t testing.TB, as string, id int64, action string, body any) problem {
	t.Helper()
	r := s.must(t, http.StatusOK, req{method: "POST", path: pathf("/api/v1/problems/%d/%s", id, action), as: as, body: body})
	p := r.problem(t)
	if want := `"` + itoa(p.Version) + `"`; r.header.Get("ETag") != want {
		t.Fatalf("%s: ETag %q, want %q", action, r.header.Get("ETag"), want)
	}
	return p
}

// assign assigns problem id to owner as the verifier, with a deadline ("" for the severity's default).
func (s *apiServer) assign(t testing.TB, id int64, owner, deadline string) problem {
	t.Helper()
	body := map[string]any{"assignee_id": s.id(owner), "measures": "整改措施"}
	if deadline != "" {
		body["deadline"] = deadline
	}
	return s.act(t, "verifier", id, "assign", body)
}
