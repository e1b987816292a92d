package apifuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Target is the server under test and what the fuzzer may know of its data.
type Target struct {
	Handler http.Handler
	// Token returns a working bearer token for a role's user; Renew is called
	// after a 401 to one of them (a logout, say) and returns a fresh one.
	Token func(user string) string
	Renew func(user string) string
	Users []string // one or more users per role; "" sends no token
	// Pools hold ids of things that exist, by resource name (problems, users,
	// units, categories, attachments, notices, rechecks, outbox, extensions,
	// milestones); path ids and id fields draw from them. The users pool must
	// not hold the users above: a fuzzed PATCH could disable them.
	Pools map[string][]int64
	// Names hold strings for fields, by operation id and field name ("login.username").
	Names map[string][]string
	// Files hold the content of upload parts by operation id (import: the template).
	Files map[string][]byte
	Today time.Time
	// Semantic reports whether a 400 to a request the document accepts is
	// about the data rather than the request's form (an unknown id, a date in
	// the past), which no schema can say.
	Semantic func(op string, e APIError) bool
}

// APIError is the server's error body.
type APIError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

// Finding is one disagreement between the document and the server.
type Finding struct {
	Kind    string // server_error, undocumented_response, invalid_accepted, valid_refused
	Op      string // METHOD path template
	Request string
	Status  int
	Detail  string
	key     string // what makes two findings the same
}

func (f Finding) String() string {
	return fmt.Sprintf("%s %s → %d\n    request: %s\n    %s", f.Kind, f.Op, f.Status, f.Request, f.Detail)
}

// Stats counts what a run sent and got.
type Stats struct {
	Requests, Valid, Invalid, Semantic400 int
	ByStatus                              map[int]int
	Ops                                   map[string]int // requests by operation
	Succeeded                             map[string]int // 2xx and 304 answers by operation
	Answers                               map[string]map[int]int
}

type operation struct {
	method, path string
	op           *openapi3.Operation
	params       openapi3.Parameters
}

// Fuzzer sends generated requests to a Target and checks the answers.
type Fuzzer struct {
	doc     *openapi3.T
	router  routers.Router
	target  Target
	g       *gen
	ops     []operation
	tokens  map[string]string
	keys    []string            // Idempotency-Keys used, for reuse
	cursors map[string][]string // next_cursor values seen, by path
}

// New loads the document at path and prepares a run with the given seed.
func New(specPath string, seed uint64, t Target) (*Fuzzer, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	f := &Fuzzer{doc: doc, router: router, target: t, tokens: map[string]string{}, cursors: map[string][]string{},
		g: &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), today: t.Today, pools: t.Pools, names: t.Names}}
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		methods := make([]string, 0, 4)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, m := range methods {
			op := item.GetOperation(m)
			params := append(slices.Clone(item.Parameters), op.Parameters...)
			f.ops = append(f.ops, operation{method: strings.ToUpper(m), path: p, op: op, params: params})
		}
	}
	return f, nil
}

// Operations is the number of operations in the document.
func (f *Fuzzer) Operations() int { return len(f.ops) }

// Run sends n requests, each to an operation in turn, half of them meant to be
// valid, and returns the findings.
func (f *Fuzzer) Run(n int) (Stats, []Finding) {
	st := Stats{ByStatus: map[int]int{}, Ops: map[string]int{}, Succeeded: map[string]int{}, Answers: map[string]map[int]int{}}
	var findings []Finding
	seen := map[string]bool{}
	for i := range n {
		o := f.ops[i%len(f.ops)]
		if i%len(f.ops) == 0 && i > 0 {
			f.g.r.Shuffle(len(f.ops), func(a, b int) { f.ops[a], f.ops[b] = f.ops[b], f.ops[a] })
		}
		wantValid := f.g.chance(0.5)
		for _, fd := range f.one(o, wantValid, &st) {
			key := fd.Kind + " " + fd.Op + " " + strconv.Itoa(fd.Status) + " " + fd.key
			if !seen[key] {
				seen[key] = true
				findings = append(findings, fd)
			}
		}
	}
	return st, findings
}

// quoted drops quoted values and numbers from a message, so that one
// disagreement met with many values is reported once.
var quoted = regexp.MustCompile(`"[^"]*"|[0-9]+`)

type built struct {
	req  *http.Request
	body []byte
	user string
	how  string
}

func (f *Fuzzer) token(user string) string {
	if user == "" {
		return ""
	}
	if t, ok := f.tokens[user]; ok {
		return t
	}
	t := f.target.Token(user)
	f.tokens[user] = t
	return t
}

// build makes one request for o; when !wantValid one part of it is drawn to be
// refused by the document (which has the last word: the request is checked).
func (f *Fuzzer) build(o operation, wantValid bool) built {
	g := f.g
	g.op = o.op.OperationID
	user := f.target.Users[g.pick(len(f.target.Users))]
	slots := 0 // which part to spoil: 0 body, 1.. a parameter
	if !wantValid {
		slots = g.pick(len(o.params) + 1)
		if o.op.RequestBody == nil && slots == 0 && len(o.params) > 0 {
			slots = 1 + g.pick(len(o.params))
		}
	}
	var how []string
	path := o.path
	query := url.Values{}
	header := http.Header{}
	for i, pr := range o.params {
		p := pr.Value
		spoil := !wantValid && slots == i+1
		if p.In == "header" && (p.Name == "X-Request-ID") && !spoil {
			continue
		}
		if !p.Required && !spoil && p.In != "path" && !g.chance(0.35) {
			continue
		}
		var v any
		if spoil {
			bad, why, ok := g.invalid(p.Schema, p.Name, 0)
			if !ok || bad == nil {
				bad, why = "\x01", "a control character"
			}
			v = bad
			how = append(how, p.In+" "+p.Name+": "+why)
		} else {
			if v = f.paramValue(o, p); v == nil {
				continue
			}
		}
		s := paramString(p, v)
		switch p.In {
		case "path":
			path = strings.Replace(path, "{"+p.Name+"}", url.PathEscape(s), 1)
		case "query":
			if arr, ok := v.([]any); ok && p.Explode != nil && *p.Explode {
				for _, x := range arr {
					query.Add(p.Name, fmt.Sprint(x))
				}
			} else {
				query.Set(p.Name, s)
			}
		case "header":
			header.Set(p.Name, strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f {
					return '?' // net/http refuses control characters in headers before any server sees them
				}
				return r
			}, s))
		}
	}
	var body []byte
	if rb := o.op.RequestBody; rb != nil && (rb.Value.Required || g.chance(0.8) || (!wantValid && slots == 0)) {
		spoil := !wantValid && slots == 0
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			var v any
			if spoil {
				switch g.pick(6) {
				case 0:
					body, how = []byte(`{"a":`), append(how, "body: truncated JSON")
				case 1:
					body, how = []byte(`[]`), append(how, "body: an array")
				default:
					var why string
					var ok bool
					v, why, ok = g.invalid(mt.Schema, "", 0)
					if !ok {
						v, why = []any{}, "an array"
					}
					how = append(how, "body: "+why)
				}
			} else {
				v = g.valid(mt.Schema, "", 0)
			}
			if body == nil {
				body, _ = json.Marshal(v)
			}
			header.Set("Content-Type", "application/json")
		} else if mt := rb.Value.Content.Get("multipart/form-data"); mt != nil {
			body, how = f.multipart(o, mt, header, spoil, how)
		}
	}
	if o.method == http.MethodPost && !slices.ContainsFunc(o.params, func(p *openapi3.ParameterRef) bool {
		return p.Value.Name == "Idempotency-Key" && p.Value.In == "header" && header.Get("Idempotency-Key") != ""
	}) && len(f.keys) > 0 && g.chance(0.1) {
		header.Set("Idempotency-Key", f.keys[g.pick(len(f.keys))]) // a key used before, maybe with another body
	}
	if k := header.Get("Idempotency-Key"); k != "" && len(f.keys) < 200 {
		f.keys = append(f.keys, k)
	}
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req := httptest.NewRequest(strings.ToUpper(o.method), u, bytes.NewReader(body))
	req.Header = header
	if tok := f.token(user); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return built{req: req, body: body, user: user, how: strings.Join(how, "; ")}
}

// paramValue draws a parameter's value; path ids come from the pool of the
// resource the path names (/problems/{id} → problems).
func (f *Fuzzer) paramValue(o operation, p *openapi3.Parameter) any {
	g := f.g
	if p.In == "path" && p.Schema.Value.Type.Is("integer") {
		segs := strings.Split(strings.Trim(o.path, "/"), "/")
		res := ""
		for i, s := range segs {
			if s == "{"+p.Name+"}" && i > 0 {
				res = segs[i-1]
			}
		}
		if pool := f.target.Pools[res]; len(pool) > 0 && g.chance(0.9) {
			return pool[g.pick(len(pool))]
		}
		return int64(900000 + g.pick(1000)) // absent
	}
	if p.Name == "If-Match" || p.Name == "If-None-Match" {
		if g.chance(0.2) {
			return "*"
		}
		return `"` + strconv.Itoa(1+g.pick(12)) + `"`
	}
	if p.Name == "cursor" {
		// Cursors are opaque: a valid one is one the server handed out for this list.
		if cs := f.cursors[o.path]; len(cs) > 0 {
			return cs[g.pick(len(cs))]
		}
		return nil
	}
	if p.Name == "Idempotency-Key" {
		return fmt.Sprintf("fuzz-%08x", g.r.Uint32())
	}
	return g.valid(p.Schema, p.Name, 0)
}

func paramString(p *openapi3.Parameter, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func (f *Fuzzer) multipart(o operation, mt *openapi3.MediaType, header http.Header, spoil bool, how []string) ([]byte, []string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	content := f.target.Files[o.op.OperationID]
	if content == nil {
		content = []byte("%PDF-1.4\n% " + f.g.text(8) + "\n%%EOF\n")
	}
	name := "file"
	if spoil {
		switch f.g.pick(3) {
		case 0:
			name, how = "document", append(how, "body: the part named document, not file")
		case 1:
			content, how = nil, append(how, "body: no part")
		default:
			fw, _ := w.CreateFormField("zz_unknown")
			_, _ = fw.Write([]byte("x"))
			how = append(how, "body: an unknown part")
		}
	}
	if content != nil {
		fw, _ := w.CreateFormFile(name, "证据-"+strconv.Itoa(f.g.pick(1000))+".bin")
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	header.Set("Content-Type", w.FormDataContentType())
	return buf.Bytes(), how
}

// one sends one request and checks the answer.
func (f *Fuzzer) one(o operation, wantValid bool, st *Stats) []Finding {
	b := f.build(o, wantValid)
	name := strings.ToUpper(o.method) + " " + o.path
	st.Requests++
	st.Ops[name]++

	checked := b.req.Clone(context.Background())
	checked.Body = io.NopCloser(bytes.NewReader(b.body))
	route, pathParams, err := f.router.FindRoute(checked)
	if err != nil {
		return []Finding{{Kind: "unroutable", Op: name, Request: describe(b), Detail: err.Error()}}
	}
	reqIn := &openapi3filter.RequestValidationInput{Request: checked, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerPresent, SkipSettingDefaults: true, MultiError: true}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), reqIn)
	if reqErr == nil {
		st.Valid++
	} else {
		st.Invalid++
	}

	rec := httptest.NewRecorder()
	f.target.Handler.ServeHTTP(rec, b.req)
	status, body := rec.Code, rec.Body.Bytes()
	st.ByStatus[status]++
	if st.Answers[name] == nil {
		st.Answers[name] = map[int]int{}
	}
	st.Answers[name][status]++
	if status < 300 || status == http.StatusNotModified {
		st.Succeeded[name]++
	}
	if status == http.StatusUnauthorized && b.user != "" && f.target.Renew != nil {
		f.tokens[b.user] = f.target.Renew(b.user)
	}
	f.learn(o, status, body)

	var out []Finding
	add := func(kind, detail, key string) {
		out = append(out, Finding{Kind: kind, Op: name, Request: describe(b), Status: status, Detail: detail,
			key: quoted.ReplaceAllString(key, "_")})
	}
	if status >= 500 {
		add("server_error", string(body), "")
	}
	var apiErr struct {
		Error APIError `json:"error"`
	}
	_ = json.Unmarshal(body, &apiErr)
	switch {
	case reqErr != nil && status < 400:
		add("invalid_accepted", "the document refuses it: "+brief(reqErr), brief(reqErr))
	case reqErr == nil && status == http.StatusBadRequest:
		if f.target.Semantic != nil && f.target.Semantic(name, apiErr.Error) {
			st.Semantic400++
		} else {
			add("valid_refused", string(body), apiErr.Error.Message)
		}
	}
	if status != http.StatusNotModified {
		respIn := &openapi3filter.ResponseValidationInput{RequestValidationInput: reqIn, Status: status,
			Header: rec.Header(), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
		respIn.SetBodyBytes(body)
		if err := openapi3filter.ValidateResponse(context.Background(), respIn); err != nil {
			add("undocumented_response", brief(err)+"\n    body: "+clip(string(body), 300), brief(err))
		}
	}
	return out
}

// learn adds the ids a create or a list returned to the pools, and a list's cursor to the cursors.
func (f *Fuzzer) learn(o operation, status int, body []byte) {
	var page struct {
		Next *string `json:"next_cursor"`
	}
	if status == http.StatusOK && o.method == http.MethodGet && json.Unmarshal(body, &page) == nil && page.Next != nil &&
		len(f.cursors[o.path]) < 20 {
		f.cursors[o.path] = append(f.cursors[o.path], *page.Next)
	}
	segs := strings.Split(strings.Trim(o.path, "/"), "/")
	res := segs[len(segs)-1]
	if _, ok := f.target.Pools[res]; !ok || res == "users" { // the users pool is the caller's: see Target.Pools
		return
	}
	var ids []int64
	switch {
	case o.method == http.MethodPost && (status == http.StatusCreated || status == http.StatusOK):
		var v struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(body, &v) == nil && v.ID != 0 {
			ids = append(ids, v.ID)
		}
	case o.method == http.MethodGet && status == http.StatusOK:
		var list struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		if json.Unmarshal(body, &list) == nil {
			for _, it := range list.Items {
				ids = append(ids, it.ID)
			}
		}
	}
	for _, id := range ids {
		if id != 0 && len(f.target.Pools[res]) < 500 && !slices.Contains(f.target.Pools[res], id) {
			f.target.Pools[res] = append(f.target.Pools[res], id)
		}
	}
}

func describe(b built) string {
	s := b.req.Method + " " + b.req.URL.RequestURI()
	if b.user != "" {
		s += " as " + b.user
	}
	for _, h := range []string{"If-Match", "If-None-Match", "Idempotency-Key"} {
		if v := b.req.Header.Get(h); v != "" {
			s += fmt.Sprintf(" %s: %q", h, v)
		}
	}
	if len(b.body) > 0 {
		s += " body " + clip(string(b.body), 300)
	}
	if b.how != "" {
		s += " (spoiled: " + b.how + ")"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// brief keeps the first lines of a validation error; kin-openapi appends whole schemas.
func brief(err error) string {
	lines := strings.Split(err.Error(), "\n")
	var keep []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Schema:") {
			break
		}
		keep = append(keep, l)
		if len(keep) == 4 {
			break
		}
	}
	return strings.Join(keep, " | ")
}

// bearerPresent is the document's security check: a bearer token is sent.
// Whether it is good is the server's business (401).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("unexpected security scheme %q", in.SecuritySchemeName)
	}
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); !ok || strings.TrimSpace(tok) == "" {
		return fmt.Errorf("no bearer token")
	}
	return nil
}
