package httpapi

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// Database failures are the service's, not the client's: 503 with
// Retry-After, never a 500, whatever form the failure takes.
func TestClassifyDatabaseUnavailable(t *testing.T) {
	a := &api{}
	for _, err := range []error{
		fmt.Errorf("load problem: %w", app.ErrUnavailable),
		fmt.Errorf("tx: %w", context.DeadlineExceeded),
		context.Canceled,
		fmt.Errorf("query: %w", driver.ErrBadConn),
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		fmt.Errorf("read: %w", syscall.ECONNRESET),
	} {
		if status, body := a.classify(err); status != http.StatusServiceUnavailable || body.Code != "unavailable" {
			t.Errorf("%v: %d %s, want 503 unavailable", err, status, body.Code)
		}
	}
	// Domain errors that merely travel with a database error keep their meaning.
	if status, _ := a.classify(fmt.Errorf("problem 1: %w", domain.ErrNotFound)); status != http.StatusNotFound {
		t.Errorf("not found: %d", status)
	}
	if status, _ := a.classify(errors.New("something else")); status != http.StatusInternalServerError {
		t.Errorf("unknown: %d", status)
	}
}

// A client that goes away is not a server failure: 499, not 503, no error log.
func TestClientGoneIs499(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/api/v1/problems", nil).WithContext(ctx)
	(&api{log: slog.New(slog.DiscardHandler)}).writeError(c, fmt.Errorf("list problems: %w", context.Canceled))
	if w.Code != statusClientClosedRequest {
		t.Fatalf("status %d, want 499", w.Code)
	}

	// A driver that reports the cancellation in words of its own (SQLite's
	// "interrupted (9)"): still the client's leaving, when it has left.
	interrupted := errors.New("list problems: interrupted (9)")
	for _, gone := range []bool{true, false} {
		ctx := context.Background()
		if gone {
			ctx = c.Request.Context()
		}
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("GET", "/api/v1/problems", nil).WithContext(ctx)
		(&api{log: slog.New(slog.DiscardHandler)}).writeError(c, interrupted)
		want := http.StatusInternalServerError
		if gone {
			want = statusClientClosedRequest
		}
		if w.Code != want {
			t.Errorf("client gone %v: status %d, want %d", gone, w.Code, want)
		}
	}
	// A refusal stays a refusal even when nobody reads it.
	w = httptest.NewRecorder()
	c2, _ := gin.CreateTestContext(w)
	c2.Request = httptest.NewRequest("GET", "/api/v1/problems/1", nil).WithContext(ctx)
	(&api{log: slog.New(slog.DiscardHandler)}).writeError(c2, fmt.Errorf("problem 1: %w", domain.ErrNotFound))
	if w.Code != http.StatusNotFound {
		t.Errorf("not found with the client gone: %d", w.Code)
	}
}
