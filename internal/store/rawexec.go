package store

import (
	"context"

	"gorm.io/gorm"
)

// The rows every write request inserts or updates (the problem, its audit
// entry) are written by statements of fixed text sent straight to the
// handle's connection: gorm's Create and Updates parse the model, reflect
// over it and build the statement anew each time, about a tenth of the
// server's CPU a registration, where these need none of it.

// insertID runs an INSERT and returns the new row's id.
func (b base) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, pool, cancel := b.conn(ctx)
	defer cancel()
	res, err := pool.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, b.translate(err)
	}
	return res.LastInsertId()
}

// exec runs a statement and returns the rows it affected.
func (b base) exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx, pool, cancel := b.conn(ctx)
	defer cancel()
	res, err := pool.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, b.translate(err)
	}
	return res.RowsAffected()
}

// conn returns the handle's connection (the transaction's, or the pool)
// and the context a statement on it runs under: the caller's, which in a
// transaction is the attempt's, or outside one bounded by the store.
func (b base) conn(ctx context.Context) (context.Context, gorm.ConnPool, context.CancelFunc) {
	ctx, cancel := b.bounded(ctx)
	return ctx, b.g.Statement.ConnPool, cancel
}

// translate maps the driver's errors to gorm's, as gorm's own statements
// do (TranslateError): a duplicate key is gorm.ErrDuplicatedKey.
func (b base) translate(err error) error {
	if t, ok := b.g.Dialector.(gorm.ErrorTranslator); ok {
		return t.Translate(err)
	}
	return err
}
