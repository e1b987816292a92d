package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

const (
	requestIDKey = "request_id"
	callerKey    = "caller"
	tokenKey     = "token"
	countedKey   = "unavailable_counted" // a 503 the failure log counted
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a sane X-Request-ID from the client or makes one, and echoes it.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// recoverJSON turns a panic into a logged 500 with the one error shape; the
// stack goes to the log, never to the client.
func (a *api) recoverJSON(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			a.log.Error("panic", append(logAttrs(c), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
			a.writeError(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// accessLog logs one line per request.
func (a *api) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if c.GetBool(countedKey) {
		return // a refusal for an unavailable database: failureLog counts it
	}
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	a.log.Log(c.Request.Context(), level, "request", append(logAttrs(c),
		"method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "ip", c.ClientIP())...)
}

// limitBody caps request bodies; reading past the cap fails with *http.MaxBytesError (413).
func (a *api) limitBody(c *gin.Context) {
	if c.Request.ContentLength > a.opt.MaxBodyBytes {
		a.writeError(c, &http.MaxBytesError{Limit: a.opt.MaxBodyBytes})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.opt.MaxBodyBytes)
	c.Next()
}

var errNoToken = fmt.Errorf("an Authorization: Bearer <token> header is required: %w", domain.ErrUnauthenticated)

// authenticate resolves the bearer token to a caller or answers 401.
func (a *api) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="rectify"`)
		a.writeError(c, errNoToken)
		return
	}
	u, err := a.svc.Access.Authenticate(c.Request.Context(), strings.TrimSpace(token))
	if err != nil {
		if errors.Is(err, domain.ErrUnauthenticated) {
			c.Header("WWW-Authenticate", `Bearer realm="rectify", error="invalid_token"`)
		}
		a.writeError(c, err)
		return
	}
	c.Set(callerKey, app.Caller{Actor: u.Actor(), IP: c.ClientIP(), RequestID: requestID(c)})
	c.Set(tokenKey, strings.TrimSpace(token))
	c.Next()
}

// caller returns the authenticated caller, or an anonymous one with IP and request id.
func caller(c *gin.Context) app.Caller {
	if v, ok := c.Get(callerKey); ok {
		return v.(app.Caller)
	}
	return app.Caller{IP: c.ClientIP(), RequestID: requestID(c)}
}

// noStore keeps API answers out of shared caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Next()
}

// apiCSP is the Content-Security-Policy of answers that set none: JSON and
// files are never to run scripts, load anything or be framed.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders gives every response the headers that keep it out of
// frames and stop content sniffing. They are set before the handler runs, so
// a handler (a web page, a download) that sets its own policy replaces them.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", apiCSP)
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}
