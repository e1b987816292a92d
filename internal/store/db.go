// Package store implements the app's repositories with gorm on SQLite or
// MySQL/MariaDB, and runs the versioned, embedded migrations.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/rectify-team/rectify/internal/app"
)

//go:embed migrations
var migrations embed.FS

// Dialect names.
const (
	DialectSQLite = "sqlite"
	DialectMySQL  = "mysql"
)

// DB is the database behind Rectify. It implements app.Store.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	log     *slog.Logger
	timeout time.Duration // one statement outside a transaction, or one attempt of a transaction
	auth    *sessionCache // resolved bearer tokens (authcache.go); nil: none
	stmts   *stmtCache    // fixed statements prepared for the pool (prepared.go)
	codes   *codeBlocks   // this instance's blocks of problem codes (codes.go)
	galera  bool          // a Galera node: readiness includes its wsrep state (galera.go)
}

// DefaultMaxConns is the pool size when none is given: 32 connections to a
// MySQL/MariaDB server; 4 to a SQLite file, which commits one writer at a
// time and whose pure-Go driver keeps a page cache per connection outside
// the Go heap's limit — with 32, the server grew to 350 MB under list and
// board reads on 100,000 problems; with 4 it stayed under 110 MB, and
// writes at 16 clients went from 380 to 560 registrations/s
// (docs/performance.md).
func DefaultMaxConns(dialect string) int { return dialectOf(dialect).maxConns() }

// Options tune the connection pool.
type Options struct {
	MaxOpenConns    int // 0: DefaultMaxConns
	ConnMaxLifetime time.Duration
	Logger          *slog.Logger
	// QueryTimeout bounds each statement outside a transaction and each
	// attempt of a transaction (default DefaultQueryTimeout); past it the
	// caller gets app.ErrUnavailable instead of waiting on a silent database.
	QueryTimeout time.Duration
	// SessionCache is how long a resolved bearer token is trusted at most
	// (default DefaultSessionCache; negative: tokens are read on every
	// request). SessionPoll is how often changes made through other servers
	// on the same database are looked for (default DefaultSessionPoll).
	SessionCache, SessionPoll time.Duration
	// CodeBlock is how many problem codes the instance reserves at a time
	// (default DefaultCodeBlock; see codes.go).
	CodeBlock int
}

// Open connects to "sqlite:PATH" or "mysql:DSN" (a go-sql-driver DSN).
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		dialector gorm.Dialector
		dialect   string
		connector *readCommitted // MySQL/MariaDB's
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			return nil, errors.New("sqlite: a file path is required, e.g. sqlite:rectify.db")
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		dialect, dialector = DialectSQLite, sqlite.Open(sqliteDSN(path))
	case strings.HasPrefix(url, "mysql:"):
		dsn, err := mysqlDSN(strings.TrimPrefix(url, "mysql:"))
		if err != nil {
			return nil, err
		}
		conns, c, err := readCommittedPool(dsn)
		if err != nil {
			return nil, err
		}
		connector = c
		dialect, dialector = DialectMySQL, gormmysql.New(gormmysql.Config{DSN: dsn, Conn: conns})
	default:
		return nil, fmt.Errorf("database %q: want sqlite:PATH or mysql:DSN", redact(url))
	}
	g, err := gorm.Open(dialector, cfg)
	if err != nil {
		if d, ok := dialector.(*gormmysql.Dialector); ok {
			_ = d.Conn.(*sql.DB).Close()
		}
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	timeout := opt.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	galera := false
	if connector != nil {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		galera, err = detectGalera(dctx, sqlDB, connector, connector.dsnSyncWait)
		cancel()
		if err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("connect to %s database: %w", dialect, markUnavailable(err))
		}
	}
	if err := bound(g, timeout); err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	maxOpen := opt.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = DefaultMaxConns(dialect)
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	life := opt.ConnMaxLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	sqlDB.SetConnMaxLifetime(life)
	sqlDB.SetConnMaxIdleTime(time.Minute)
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, log: opt.Logger, timeout: timeout,
		auth: newSessionCache(opt.SessionCache, opt.SessionPoll, nil), stmts: newStmtCache(sqlDB),
		codes: newCodeBlocks(opt.CodeBlock), galera: galera}
	switch {
	case galera && connector.dsnSyncWait:
		db.log.Info("Galera node found; wsrep_sync_wait as the DSN sets it")
	case galera:
		db.log.Info("Galera node found: reads wait for the cluster's committed writes", "wsrep_sync_wait", SyncWaitReads)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Reachable is enough to start: a Galera node still joining fails /readyz until it is synced.
	if err := markUnavailable(sqlDB.PingContext(pingCtx)); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return db, nil
}

// sqliteDSN turns on WAL, a busy timeout and foreign keys, and makes every
// transaction take the write lock at BEGIN so that two read-then-write
// transactions cannot deadlock on lock upgrade.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// mysqlDSN fixes what Rectify relies on: UTC times to the microsecond,
// utf8mb4, strict SQL.
func mysqlDSN(dsn string) (string, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("mysql DSN: %w", err)
	}
	c.ParseTime = true
	c.Loc = time.UTC
	c.Collation = "utf8mb4_unicode_ci"
	c.InterpolateParams = true
	// Times are sent to the microsecond the columns keep. MariaDB cannot use
	// an index for a comparison with a literal of nine fractional digits
	// ("Truncated incorrect datetime value"): it reads the whole index, as
	// the board's probe did from an instant of time.Now() — 190 ms on a
	// million problems instead of a range of a few entries.
	if err := c.Apply(mysql.TimeTruncate(time.Microsecond)); err != nil {
		return "", fmt.Errorf("mysql DSN: %w", err)
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["time_zone"] = "'+00:00'"
	c.Params["sql_mode"] = "'TRADITIONAL,NO_AUTO_VALUE_ON_ZERO'"
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	return c.FormatDSN(), nil
}

// readCommittedPool opens the MySQL/MariaDB pool with every connection at
// READ COMMITTED. The default REPEATABLE READ takes gap locks on every locking
// read of a missing row (a new problem's audit stream head), and concurrent
// actions on unrelated problems then deadlock; Rectify needs no more than READ
// COMMITTED: every write is conditional on a version or made under a row lock
// (see docs/performance.md). Set once per connection rather than per
// transaction (database/sql's TxOptions), it costs no round trip per
// transaction: the statement standard to MySQL and MariaDB alike, whose
// variable names for it differ.
func readCommittedPool(dsn string) (*sql.DB, *readCommitted, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql DSN: %w", err)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql DSN: %w", err)
	}
	_, dsnSyncWait := cfg.Params["wsrep_sync_wait"]
	rc := &readCommitted{Connector: c, dsnSyncWait: dsnSyncWait}
	return sql.OpenDB(rc), rc, nil
}

// readCommitted sets up each new connection: READ COMMITTED, and on a Galera
// node (once detectGalera found one) causal reads.
type readCommitted struct {
	driver.Connector
	dsnSyncWait bool        // the DSN sets wsrep_sync_wait itself
	syncWait    atomic.Bool // set SyncWaitReads on new connections
}

func (c *readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("mysql: the driver's connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("set READ COMMITTED: %w", err)
	}
	if c.syncWait.Load() {
		if _, err := ex.ExecContext(ctx, syncWaitStatement, nil); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("set wsrep_sync_wait: %w", err)
		}
	}
	return conn, nil
}

// redact hides a password in a database URL for error messages.
func redact(url string) string {
	if i := strings.Index(url, "@"); i >= 0 {
		if j := strings.Index(url[:i], ":"); j >= 0 {
			return url[:j+1] + "***" + url[i:]
		}
	}
	return url
}

// Dialect returns "sqlite" or "mysql".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the underlying pool, for metrics and tests.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the pool.
func (db *DB) Close() error {
	db.stmts.close()
	return db.sql.Close()
}

// Ping checks that the database answers and, on a Galera node, that the node
// is synced with the cluster's primary component.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return markUnavailable(err)
	}
	if db.galera {
		return db.galeraReady(ctx)
	}
	return nil
}

// Migrate applies every pending migration, holding the migration lock
// (migratelock.go) so that instances started at once take turns.
func (db *DB) Migrate(ctx context.Context) error {
	return db.withMigrateLock(ctx, db.migrate)
}

func (db *DB) migrate(ctx context.Context) error {
	dir, gd := "migrations/"+db.dia().name(), db.dia().goose()
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(gd, db.sql, fsys)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		db.log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return db.backfillTerms(ctx)
}

// Tx runs fn in a transaction and retries the whole of it, with jittered
// backoff, when the database reports a deadlock, lock timeout or busy file.
// fn runs its statements with the context it is given: the attempt's.
func (db *DB) Tx(ctx context.Context, fn func(context.Context, app.Repos) error) error {
	return db.txBase(ctx, func(ctx context.Context, b base) error { return fn(ctx, b.repos()) })
}

// txBase is Tx for the store's own transactions, which run statements on
// the transaction's base rather than through the repositories.
func (db *DB) txBase(ctx context.Context, fn func(context.Context, base) error) error {
	const attempts = 8
	var err error
	for i := range attempts {
		err = db.attempt(ctx, fn)
		if err == nil || !retryable(err) {
			return markUnavailable(err)
		}
		backoff := time.Duration(1<<i)*2*time.Millisecond + rand.N(5*time.Millisecond)
		db.log.Debug("transaction retried", "attempt", i+1, "err", err)
		select {
		case <-ctx.Done():
			return markUnavailable(errors.Join(err, ctx.Err()))
		case <-time.After(backoff):
		}
	}
	return markUnavailable(fmt.Errorf("transaction failed after %d attempts: %w", attempts, err))
}

// attempt runs fn once in a transaction bounded by the query timeout: fn
// gets the attempt's context, whose deadline its statements run under, so a
// silent database cannot hold the transaction, its locks or its connection
// for longer.
func (db *DB) attempt(ctx context.Context, fn func(context.Context, base) error) error {
	actx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	st := &txState{}
	err := db.gorm.WithContext(actx).Transaction(func(tx *gorm.DB) error {
		b := db.base(tx)
		b.tx = st
		return fn(actx, b)
	})
	if err == nil {
		for _, f := range st.afterCommit {
			f()
		}
	}
	return err
}

// Read returns repositories outside a transaction.
func (db *DB) Read() app.Repos { return db.base(db.gorm).repos() }

// base binds the repositories' shared state to g (a transaction or the pool).
func (db *DB) base(g *gorm.DB) base {
	return base{g: g, dialect: db.dialect, auth: db.auth, timeout: db.timeout, stmts: db.stmts, codes: db.codes, pool: db.gorm}
}

// repos returns the repositories over b. In a transaction attempt b.tx
// collects what to do once that transaction has committed.
func (b base) repos() app.Repos {
	return app.Repos{
		Problems:   problemRepo{b},
		Extensions: extensionRepo{b},
		Comments:   commentRepo{b},
		Users:      userRepo{b},
		Units:      unitRepo{b},
		Categories: categoryRepo{b},
		Sessions:   sessionRepo{b},
		Audit:      auditRepo{b},
		SignIns:    signInRepo{b},

		Stats:         statsRepo{b},
		Contributions: contributionRepo{b},
		Publications:  publicationRepo{b},
		Notices:       noticeRepo{b},
		Ledger:        ledgerRepo{b},

		Attachments: attachmentRepo{b},
		Milestones:  milestoneRepo{b},
		Idempotency: idempotencyRepo{b},

		Notifications: notificationRepo{b},
		Outbox:        outboxRepo{b},
		Leases:        leaseRepo{b},
		Escalations:   escalationRepo{b},
		Rechecks:      recheckRepo{b},
	}
}

// retryable reports deadlocks, lock wait timeouts and SQLite busy/locked errors.
func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		c := coded.Code() & 0xff
		return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// base is what every repository shares: the handle (a transaction or the pool) and the dialect.
type base struct {
	g       *gorm.DB
	dialect string
	tx      *txState      // the transaction attempt's, when in one
	auth    *sessionCache // the server's resolved tokens
	timeout time.Duration // a statement's outside a transaction (bounded)
	stmts   *stmtCache    // nil: every statement is sent as text
	codes   *codeBlocks   // the instance's problem codes; nil in reads
	pool    *gorm.DB      // the pool, for statements outside the transaction
}

func (b base) db(ctx context.Context) *gorm.DB {
	return b.g.WithContext(ctx)
}

// forUpdate returns the locking suffix for a read that is about to be written.
// SQLite has no row locks; its transactions hold the write lock from BEGIN.
func (b base) forUpdate() string { return b.dia().forUpdate() }

// concat returns the dialect's string concatenation of two SQL expressions.
func (b base) concat(x, y string) string { return b.dia().concat(x, y) }

// likePrefix escapes s for LIKE ... ESCAPE '!' and appends %.
func likePrefix(s string) string { return escapeLike(s) + "%" }

func likeContains(s string) string { return "%" + escapeLike(s) + "%" }

func escapeLike(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s)
}

// notFound maps gorm's ErrRecordNotFound to the domain's.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, errNotFound)
	}
	return err
}
