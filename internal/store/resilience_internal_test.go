package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rectify-team/rectify/internal/app"
)

// A Galera node that is up but not ready, or a server in read-only mode, is
// unavailable (503 with Retry-After), not a failed request (500).
func TestNodeNotReadyIsUnavailable(t *testing.T) {
	for _, e := range []*mysql.MySQLError{
		{Number: 1047, Message: "WSREP has not yet prepared node for application use"},
		{Number: 1180, Message: "Got error 6 \"No such device or address\" during COMMIT"},
		{Number: 1290, Message: "The MariaDB server is running with the --read-only option"},
		{Number: 1836, Message: "Running in read-only mode"},
		{Number: 1213, Message: "Deadlock found when trying to get lock"},
	} {
		if err := markUnavailable(fmt.Errorf("update problem 1: %w", e)); !errors.Is(err, app.ErrUnavailable) {
			t.Errorf("%d %s: %v, want ErrUnavailable", e.Number, e.Message, err)
		}
	}
	for _, e := range []*mysql.MySQLError{{Number: 1062, Message: "Duplicate entry"}, {Number: 1064, Message: "syntax"}} {
		if err := markUnavailable(e); errors.Is(err, app.ErrUnavailable) {
			t.Errorf("%d: %v is not the database's unavailability", e.Number, err)
		}
	}
}
