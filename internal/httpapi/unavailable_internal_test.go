package httpapi

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

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
