package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
)

// Idempotent retries. A POST with an Idempotency-Key is done once per user and
// key: the use case stores the key, a hash of the request and the response in
// the transaction of its effect; a repeat with the same request gets that
// response again with Idempotent-Replayed: true, a repeat with another request
// a 409. Keys are kept for 24 hours (app.DefaultIdempotencyTTL).

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	maxIdempotencyKey    = 200
)

// notIdempotent are the POST routes that ignore the header: login answers a
// secret (the token) that is never stored, and after a logout the token no
// longer authenticates a retry.
var notIdempotent = map[string]bool{"/api/v1/auth/login": true, "/api/v1/auth/logout": true}

// validIdempotencyKey checks the key: 1 to 200 printable ASCII characters.
func validIdempotencyKey(k string) error {
	if k == "" || len(k) > maxIdempotencyKey {
		return invalidField(headerIdempotencyKey, fmt.Sprintf("must be 1 to %d characters long", maxIdempotencyKey))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return invalidField(headerIdempotencyKey, "must be printable ASCII (a UUID is a good key)")
		}
	}
	return nil
}

// requestHash identifies a request for its key: method, path with query, body.
func requestHash(method, uri string, body []byte) string {
	h := sha256.New()
	// a hash's Write never fails
	_, _ = fmt.Fprintf(h, "%s\n%s\n%d\n", method, uri, len(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// hashedByUseCase reports an upload of evidence, whose request hash the use
// case makes from the file's name and content: multipart boundaries differ
// between retries, and the body may be large. Other routes hash the body as
// it is, within their own body limit.
func hashedByUseCase(c *gin.Context) bool {
	return c.FullPath() == "/api/v1/attachments" && strings.HasPrefix(strings.ToLower(c.ContentType()), "multipart/")
}

// idempotent is the middleware of authenticated routes that honours
// Idempotency-Key on POST.
func (a *api) idempotent(c *gin.Context) {
	values, present := c.Request.Header[headerIdempotencyKey]
	if c.Request.Method != http.MethodPost || !present || notIdempotent[c.FullPath()] {
		c.Next()
		return
	}
	if len(values) != 1 {
		a.writeError(c, invalidField(headerIdempotencyKey, "must be given once"))
		return
	}
	key := values[0]
	if err := validIdempotencyKey(key); err != nil {
		a.writeError(c, err)
		return
	}
	cl := caller(c)
	k := &app.Idempotency{Key: key}
	cl.Idempotency = k
	if !hashedByUseCase(c) {
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if !errors.As(err, &tooBig) {
				err = &badRequest{msg: "could not read the request body"}
			}
			a.writeError(c, err)
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		k.Hash = requestHash(c.Request.Method, c.Request.URL.RequestURI(), body)
		payload, ok, err := a.svc.Core.IdempotentReplay(c.Request.Context(), cl)
		if err == nil && ok {
			err = writeReplay(c, payload)
		}
		if err != nil {
			a.writeError(c, err)
			return
		}
		if ok {
			c.Abort()
			return
		}
	}
	c.Set(callerKey, cl)

	buf := &bufferedWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	c.Writer = buf
	c.Next()
	c.Writer = buf.ResponseWriter

	if payload, ok := k.Replay(); ok { // a concurrent duplicate: the first one's answer
		for _, h := range []string{"Content-Type", "ETag", "Location", "Retry-After"} {
			c.Writer.Header().Del(h)
		}
		if err := writeReplay(c, payload); err != nil {
			a.writeError(c, err)
		}
		return
	}
	if buf.status >= 200 && buf.status < 300 && !k.Recorded() && k.Hash != "" {
		// A route whose use case does not store its key: keep the answer now,
		// outside the effect's transaction, so that a repeat is not done twice.
		a.log.WarnContext(c.Request.Context(), "Idempotency-Key kept outside the transaction of the effect",
			"route", c.FullPath(), "request_id", requestID(c))
		resp := response{Status: buf.status, Header: keptHeaders(c.Writer.Header()), Body: buf.body.Bytes()}
		if err := a.svc.Core.RememberResponse(c.Request.Context(), cl, resp.payload()); err != nil {
			a.log.ErrorContext(c.Request.Context(), "keep Idempotency-Key", "request_id", requestID(c), "err", err)
		}
	}
	buf.flush()
}

// keptHeaders are the headers of a response that a replay repeats.
func keptHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"Content-Type", "ETag", "Location"} {
		if v := h.Get(name); v != "" {
			out[name] = v
		}
	}
	return out
}

// response is an HTTP answer kept for replay. The use case stores it with its
// effect as an opaque payload, which only this package reads.
type response struct {
	Status int
	Header map[string]string // the headers that matter: Content-Type, ETag, Location
	Body   []byte
}

// payload is r as kept: "STATUS\nHEADERS-JSON\nBODY" (the store's migration
// 00060 carried answers kept before it into this form).
func (r response) payload() []byte {
	h, _ := json.Marshal(r.Header) // a map of strings always marshals
	out := strconv.AppendInt(nil, int64(r.Status), 10)
	out = append(out, '\n')
	out = append(out, h...)
	out = append(out, '\n')
	return append(out, r.Body...)
}

// responseOf reads a kept payload back.
func responseOf(p []byte) (response, error) {
	status, rest, ok1 := bytes.Cut(p, []byte{'\n'})
	header, body, ok2 := bytes.Cut(rest, []byte{'\n'})
	code, err := strconv.Atoi(string(status))
	if !ok1 || !ok2 || err != nil {
		return response{}, errors.New("a kept Idempotency-Key answer is unreadable")
	}
	r := response{Status: code, Body: body}
	if err := json.Unmarshal(header, &r.Header); err != nil {
		return response{}, fmt.Errorf("a kept Idempotency-Key answer's headers: %w", err)
	}
	return r, nil
}

func writeReplay(c *gin.Context, payload []byte) error {
	resp, err := responseOf(payload)
	if err != nil {
		return err
	}
	for k, v := range resp.Header {
		c.Header(k, v)
	}
	c.Header(headerReplayed, "true")
	c.Status(resp.Status)
	if len(resp.Body) > 0 {
		_, _ = c.Writer.Write(resp.Body)
	} else {
		c.Writer.WriteHeaderNow()
	}
	return nil
}

// bufferedWriter holds a response back until the middleware knows whether it
// stands or a replay replaces it.
type bufferedWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (w *bufferedWriter) WriteHeader(code int) {
	if code > 0 && !w.written {
		w.status = code
	}
}
func (w *bufferedWriter) WriteHeaderNow() { w.written = true }
func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}
func (w *bufferedWriter) WriteString(s string) (int, error) {
	w.written = true
	return w.body.WriteString(s)
}
func (w *bufferedWriter) Status() int   { return w.status }
func (w *bufferedWriter) Size() int     { return w.body.Len() }
func (w *bufferedWriter) Written() bool { return w.written }
func (w *bufferedWriter) Flush()        {}

func (w *bufferedWriter) flush() {
	w.ResponseWriter.WriteHeader(w.status)
	if w.body.Len() > 0 {
		_, _ = w.ResponseWriter.Write(w.body.Bytes())
	} else {
		w.ResponseWriter.WriteHeaderNow()
	}
}

// answer renders a handler's success; the same bytes go to the client and,
// for an idempotent request, into the store with the effect.
type answer func(result any) (response, error)

// memo keeps the last rendering, so that the reply equals what was stored
// even if the clock crossed midnight in between.
func memo(f answer) answer {
	var (
		last   any
		cached *response
	)
	return func(v any) (response, error) {
		if cached != nil && last == v {
			return *cached, nil
		}
		r, err := f(v)
		if err == nil {
			last, cached = v, &r
		}
		return r, err
	}
}

func jsonAnswer(status int, v any, header map[string]string) (response, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return response{}, err
	}
	h := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	for k, x := range header {
		h[k] = x
	}
	return response{Status: status, Header: h, Body: body}, nil
}

// answering returns the caller with the answer its idempotent request stores.
func answering(c *gin.Context, ans answer) app.Caller {
	cl := caller(c)
	if cl.Idempotency != nil {
		cl.Idempotency.Render = func(result any) ([]byte, error) {
			resp, err := ans(result)
			if err != nil {
				return nil, err
			}
			return resp.payload(), nil
		}
	}
	return cl
}

// reply writes a handler's success as ans renders it.
func reply(c *gin.Context, ans answer, result any) error {
	resp, err := ans(result)
	if err != nil {
		return err
	}
	for k, v := range resp.Header {
		c.Header(k, v)
	}
	if len(resp.Body) == 0 {
		c.Status(resp.Status)
		c.Writer.WriteHeaderNow()
		return nil
	}
	c.Data(resp.Status, resp.Header["Content-Type"], resp.Body)
	return nil
}

// typed adapts a renderer of one result type.
func typed[T any](f func(T) (response, error)) answer {
	return memo(func(v any) (response, error) {
		t, ok := v.(T)
		if !ok {
			return response{}, fmt.Errorf("answer: result is %T, not %T", v, *new(T))
		}
		return f(t)
	})
}

// noContent answers 204.
func noContent() answer {
	return func(any) (response, error) {
		return response{Status: http.StatusNoContent, Header: map[string]string{}}, nil
	}
}
