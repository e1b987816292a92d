package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
)

// DefaultQueryTimeout bounds one statement read outside a transaction, and
// one attempt of a transaction, when Options.QueryTimeout is not set.
const DefaultQueryTimeout = 10 * time.Second

// unavailable reports errors that mean the database did not answer properly:
// the request may well succeed if repeated a little later.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, app.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, mysql.ErrPktSync) ||
		errors.Is(err, mysql.ErrPktSyncMul) || errors.Is(err, mysql.ErrBusyBuffer) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // too many connections
			1047, // WSREP has not yet prepared node for application use (Galera)
			1180, // error during commit: not connected to the primary component (Galera)
			1290, // the server runs with --read-only (a node taken out of service)
			1836, // running in read-only mode
			1053, // server shutdown in progress
			1205, // lock wait timeout (after the runner's retries)
			1213, // deadlock (after the runner's retries)
			1317, // query interrupted
			1927, // connection killed (MariaDB)
			1969, // max_statement_time exceeded (MariaDB)
			2006, // server has gone away
			2013, // lost connection during query
			3024: // max_execution_time exceeded (MySQL)
			return true
		}
		return false
	}
	if retryable(err) { // SQLite busy or locked after every retry
		return true
	}
	return strings.Contains(err.Error(), "sql: database is closed")
}

// markUnavailable wraps err with app.ErrUnavailable when the database failed.
func markUnavailable(err error) error {
	if err == nil || errors.Is(err, app.ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", app.ErrUnavailable, err)
}

const cancelKey = "rectify:cancel"

// bound registers gorm callbacks that give every statement without a deadline
// one of timeout (so that a slow or silent database cannot hold a request, or
// a pooled connection, for ever) and that mark database failures as
// app.ErrUnavailable wherever they surface.
func bound(g *gorm.DB, timeout time.Duration) error {
	before := func(db *gorm.DB) {
		ctx := db.Statement.Context
		if ctx == nil {
			ctx = context.Background()
		}
		if _, ok := ctx.Deadline(); ok {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		db.Statement.Context = ctx
		db.InstanceSet(cancelKey, cancel)
	}
	after := func(db *gorm.DB) {
		if v, ok := db.InstanceGet(cancelKey); ok {
			v.(context.CancelFunc)()
		}
		if db.Error != nil {
			db.Error = markUnavailable(db.Error)
		}
	}
	mark := func(db *gorm.DB) {
		if db.Error != nil {
			db.Error = markUnavailable(db.Error)
		}
	}
	cb := g.Callback()
	// Statements that finish inside their callback get a deadline of their own.
	// Row queries (Raw(...).Scan, Rows) are read after the callbacks return, so
	// they are only marked; inside transactions they run under the attempt's
	// deadline anyway.
	regs := []error{
		cb.Query().Before("gorm:query").Register("rectify:deadline", before),
		cb.Query().After("gorm:after_query").Register("rectify:release", after),
		cb.Create().Before("gorm:before_create").Register("rectify:deadline", before),
		cb.Create().After("gorm:after_create").Register("rectify:release", after),
		cb.Update().Before("gorm:setup_reflect_value").Register("rectify:deadline", before),
		cb.Update().After("gorm:after_update").Register("rectify:release", after),
		cb.Delete().Before("gorm:before_delete").Register("rectify:deadline", before),
		cb.Delete().After("gorm:after_delete").Register("rectify:release", after),
		cb.Raw().Before("gorm:raw").Register("rectify:deadline", before),
		cb.Raw().After("gorm:raw").Register("rectify:release", after),
		cb.Row().After("gorm:row").Register("rectify:mark", mark),
	}
	return errors.Join(regs...)
}
