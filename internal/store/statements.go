package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// WithStatementLog returns a handle on the same pool whose statements are
// also handed to fn, with their arguments inlined: for reading the plans
// (EXPLAIN) of what the application really runs, in benchmarks and tests.
func (db *DB) WithStatementLog(fn func(sql string)) *DB {
	c := &DB{gorm: db.gorm.Session(&gorm.Session{Logger: statementLogger{fn}}), sql: db.sql, dialect: db.dialect,
		log: db.log, timeout: db.timeout}
	return c
}

type statementLogger struct{ fn func(string) }

func (l statementLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (statementLogger) Info(context.Context, string, ...any)       {}
func (statementLogger) Warn(context.Context, string, ...any)       {}
func (statementLogger) Error(context.Context, string, ...any)      {}

func (l statementLogger) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	l.fn(sql)
}
