package httpapi

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// errorBody is the one error shape: {"error": {"code", "message", "details"}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// badRequest is malformed input found by the HTTP layer (JSON, query, headers).
type badRequest struct {
	fields []domain.FieldError
	msg    string
	cause  error // what failed, for errors.Is/As beneath (a body's read error)
}

func (e *badRequest) Error() string { return e.msg }

func (e *badRequest) Unwrap() error { return e.cause }

func invalidField(field, reason string) error {
	return &badRequest{msg: "invalid input: " + field + ": " + reason, fields: []domain.FieldError{{Field: field, Reason: reason}}}
}

// unavailable marks a database that does not answer in time.
var errUnavailable = errors.New("the service is temporarily unavailable")

// statusClientClosedRequest is written (to nobody) when the client cancelled.
const statusClientClosedRequest = 499

// retryAfterUnavailable is the Retry-After, in seconds, of a 503: database
// blips (a failover, a restart, a network cut) are usually over within it.
const retryAfterUnavailable = "2"

// databaseUnavailable reports a failure of the database rather than of the
// request: what the store marks app.ErrUnavailable, and, should anything reach
// here unmarked, the standard library's signs of a dead or silent connection
// and the request's own deadline or cancellation.
func databaseUnavailable(err error) bool {
	if errors.Is(err, app.ErrUnavailable) || errors.Is(err, errUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// writeError maps an error to its status code and writes the error body.
// Unexpected errors are logged once, with the request id, and never shown.
func (a *api) writeError(c *gin.Context, err error) {
	status, body := a.classify(err)
	if c.Request.Context().Err() != nil && (errors.Is(err, context.Canceled) || status >= 500) {
		// The client went away before the answer: nobody reads it, and it is
		// not the server's failure — what failed failed because the request's
		// statements were cancelled (SQLite, for one, says "interrupted"
		// without naming the context). 499 (nginx's "client closed request")
		// keeps it out of the error log and apart in the metrics.
		c.AbortWithStatus(statusClientClosedRequest)
		return
	}
	if status == http.StatusTooManyRequests {
		c.Header("Retry-After", strconv.Itoa(int(a.svc.Core.Config().LoginWindow.Seconds())))
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", retryAfterUnavailable)
	}
	switch {
	case status == http.StatusServiceUnavailable && databaseUnavailable(err):
		a.unavail.note(c.Request.Context(), c.FullPath(), requestID(c), err)
		c.Set(countedKey, true) // counted, not logged per request
	case status >= 500:
		a.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "route", c.FullPath(), "err", err)
	}
	c.AbortWithStatusJSON(status, errorBody{Error: body})
}

func (a *api) classify(err error) (int, errorJSON) {
	var (
		bad     *badRequest
		val     *domain.ValidationError
		forb    *domain.ForbiddenError
		inv     *domain.InvalidTransitionError
		tooBig  *http.MaxBytesError
		syntax  *json.SyntaxError
		conflic *domain.ConflictError
		unsupp  *domain.UnsupportedTypeError
		refused *app.SignInRefusedError
	)
	switch {
	case errors.As(err, &bad):
		e := errorJSON{Code: "invalid_request", Message: bad.msg}
		if len(bad.fields) > 0 {
			e.Details = bad.fields
		}
		return http.StatusBadRequest, e
	case errors.As(err, &unsupp):
		return http.StatusUnsupportedMediaType, errorJSON{Code: "unsupported_media_type", Message: unsupp.Error(),
			Details: []domain.FieldError{{Field: unsupp.Field, Reason: unsupp.Reason}}}
	case errors.As(err, &val):
		return http.StatusBadRequest, errorJSON{Code: "invalid_input", Message: val.Error(), Details: val.Fields}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, errorJSON{Code: "too_large",
			Message: "the request body is larger than " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"}
	case errors.As(err, &syntax):
		return http.StatusBadRequest, errorJSON{Code: "invalid_request", Message: "the body is not valid JSON"}
	case errors.As(err, &refused):
		return http.StatusUnauthorized, errorJSON{Code: "sign_in_refused", Message: refused.Reason}
	case errors.Is(err, app.ErrDirectoryUnavailable):
		// The directory or the OpenID provider is down, not the request wrong:
		// worth a retry, and local accounts still sign in meanwhile.
		return http.StatusServiceUnavailable, errorJSON{Code: "directory_unavailable",
			Message: "the directory or identity provider does not answer; try again shortly (local accounts still sign in)"}
	case errors.Is(err, domain.ErrUnauthenticated):
		return http.StatusUnauthorized, errorJSON{Code: "unauthenticated", Message: unauthMessage(err)}
	case errors.As(err, &forb):
		return http.StatusForbidden, errorJSON{Code: forb.Code, Message: forb.Reason}
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden, errorJSON{Code: "forbidden", Message: "you may not do this"}
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound, errorJSON{Code: "not_found", Message: "no such resource, or it is not visible to you"}
	case errors.As(err, &inv):
		allowed := make([]string, len(inv.Allowed))
		for i, x := range inv.Allowed {
			allowed[i] = string(x)
		}
		return http.StatusConflict, errorJSON{Code: "invalid_transition", Message: inv.Error(),
			Details: map[string]any{"status": inv.From, "action": inv.Action, "allowed_actions": allowed}}
	case errors.As(err, &conflic):
		return http.StatusConflict, errorJSON{Code: "conflict", Message: conflic.Reason}
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict, errorJSON{Code: "conflict", Message: "the problem changed meanwhile; reload and try again"}
	case errors.Is(err, domain.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, errorJSON{Code: "precondition_failed", Message: err.Error()}
	case errors.Is(err, domain.ErrTooManyAttempts):
		return http.StatusTooManyRequests, errorJSON{Code: "too_many_attempts", Message: "too many failed attempts; try again later"}
	case databaseUnavailable(err):
		return http.StatusServiceUnavailable, errorJSON{Code: "unavailable", Message: errUnavailable.Error() +
			"; nothing was changed unless the answer was lost in flight, so read before you retry"}
	}
	return http.StatusInternalServerError, errorJSON{Code: "internal", Message: "internal error; quote the request id to your administrator"}
}

func unauthMessage(err error) string {
	if errors.Is(err, errNoToken) {
		return err.Error()
	}
	if errors.Is(err, app.ErrBadCredentials) {
		return "wrong username or password"
	}
	return "the token is missing, expired or revoked"
}

// handler adapts a handler that returns an error.
func (a *api) handle(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			a.writeError(c, err)
		}
	}
}

func logAttrs(c *gin.Context) []any {
	attrs := []any{slog.String("request_id", requestID(c))}
	if cl, ok := c.Get(callerKey); ok {
		attrs = append(attrs, slog.Int64("user_id", cl.(app.Caller).Actor.UserID))
	}
	return attrs
}
