package store

import "github.com/pressly/goose/v3"

// dialect is what differs between the SQL databases Rectify runs on, in one
// place: adding a database is one implementation of it, a migrations folder
// (migrations/<name>) and its cases in Open and dialectOf.
type dialect interface {
	name() string // DialectSQLite, DialectMySQL: the migrations folder's name too
	goose() goose.Dialect
	maxConns() int // the pool's default size
	// forUpdate is the locking suffix of a read that is about to be written.
	forUpdate() string
	concat(x, y string) string
	// insertIgnore turns "INSERT INTO t (...) VALUES ..." into an insert that
	// keeps the rows already there.
	insertIgnore(stmt string) string
	// upsertCounter is the statement that adds to a year's code counter (or,
	// with raise, moves it to at least the value), creating the row.
	upsertCounter(raise bool) string
	// least and greatest name the smallest and largest of their arguments.
	least() string
	greatest() string
	// indexHint is what follows "FROM problems p " to make the query walk the
	// named index (PRIMARY: the table in id order).
	indexHint(index string) string
	// joinInOrder returns the SELECT and JOIN words that keep the tables in
	// the order written (the term's postings first).
	joinInOrder() (sel, join string)
	// dateText is the SQL of a DATE column as YYYY-MM-DD text.
	dateText(col string) string
	problemBatch() int // rows of a multi-row INSERT of problems
	termBatch() int    // terms of a multi-row INSERT of search terms
	// lockTable is the CREATE TABLE suffix of the migration lock's table.
	lockTableSuffix() string
}

// dialectOf returns the dialect of a name (DialectSQLite or DialectMySQL).
func dialectOf(name string) dialect {
	if name == DialectMySQL {
		return mysqlDialect{}
	}
	return sqliteDialect{}
}

type sqliteDialect struct{}

func (sqliteDialect) name() string         { return DialectSQLite }
func (sqliteDialect) goose() goose.Dialect { return goose.DialectSQLite3 }

// The pure-Go SQLite driver keeps a page cache per connection outside the Go
// heap's limit, and SQLite has one writer at a time anyway (docs/performance.md).
func (sqliteDialect) maxConns() int { return 4 }

// SQLite has no row locks; its transactions hold the write lock from BEGIN.
func (sqliteDialect) forUpdate() string               { return "" }
func (sqliteDialect) concat(x, y string) string       { return "(" + x + " || " + y + ")" }
func (sqliteDialect) insertIgnore(stmt string) string { return stmt + " ON CONFLICT DO NOTHING" }
func (sqliteDialect) upsertCounter(raise bool) string {
	if raise {
		return "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)"
	}
	return "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + excluded.last_seq"
}
func (sqliteDialect) least() string    { return "min" }
func (sqliteDialect) greatest() string { return "max" }
func (sqliteDialect) indexHint(index string) string {
	if index == "PRIMARY" {
		return "NOT INDEXED"
	}
	return "INDEXED BY " + index
}
func (sqliteDialect) joinInOrder() (sel, join string) {
	return "SELECT p.id FROM ", " CROSS JOIN problems p ON p.id = t.problem_id"
}

// SQLite keeps dates as text already.
func (sqliteDialect) dateText(col string) string { return col }

// The pure-Go SQLite driver binds parameters in time quadratic in their
// number, so its statements carry fewer rows.
func (sqliteDialect) problemBatch() int       { return 50 }
func (sqliteDialect) termBatch() int          { return termBatchSQLite }
func (sqliteDialect) lockTableSuffix() string { return "" }

type mysqlDialect struct{}

func (mysqlDialect) name() string              { return DialectMySQL }
func (mysqlDialect) goose() goose.Dialect      { return goose.DialectMySQL }
func (mysqlDialect) maxConns() int             { return 32 }
func (mysqlDialect) forUpdate() string         { return " FOR UPDATE" }
func (mysqlDialect) concat(x, y string) string { return "CONCAT(" + x + ", " + y + ")" }
func (mysqlDialect) insertIgnore(stmt string) string {
	return "INSERT IGNORE" + stmt[len("INSERT"):]
}
func (mysqlDialect) upsertCounter(raise bool) string {
	if raise {
		return "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_seq = GREATEST(last_seq, VALUES(last_seq))"
	}
	return "INSERT INTO problem_counters (year, last_seq) VALUES (?, ?) ON DUPLICATE KEY UPDATE last_seq = last_seq + VALUES(last_seq)"
}

func (mysqlDialect) least() string                 { return "LEAST" }
func (mysqlDialect) greatest() string              { return "GREATEST" }
func (mysqlDialect) indexHint(index string) string { return "FORCE INDEX (" + index + ")" }
func (mysqlDialect) joinInOrder() (sel, join string) {
	return "SELECT STRAIGHT_JOIN p.id FROM ", " JOIN problems p ON p.id = t.problem_id"
}
func (mysqlDialect) dateText(col string) string { return "DATE_FORMAT(" + col + ", '%Y-%m-%d')" }
func (mysqlDialect) problemBatch() int          { return 500 }
func (mysqlDialect) termBatch() int             { return termBatch }
func (mysqlDialect) lockTableSuffix() string    { return " ENGINE=InnoDB" }

// dia returns the dialect of the database the repositories run on.
func (b base) dia() dialect { return dialectOf(b.dialect) }

// dia returns the dialect of the database.
func (db *DB) dia() dialect { return dialectOf(db.dialect) }
