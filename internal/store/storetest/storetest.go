// Package storetest gives each test its own migrated database: a temporary
// SQLite file, or, when RECTIFY_TEST_MYSQL_DSN is set, a randomly named
// MariaDB/MySQL schema that is dropped when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/rectify-team/rectify/internal/store"
)

// EnvMySQL names the variable that selects MariaDB/MySQL for the store, app
// and API suites. Its value is a go-sql-driver DSN without a database name,
// e.g. root@tcp(127.0.0.1:3306)/
const EnvMySQL = "RECTIFY_TEST_MYSQL_DSN"

// Backend returns "mysql" when the MariaDB run is selected, else "sqlite".
func Backend() string {
	if os.Getenv(EnvMySQL) != "" {
		return store.DialectMySQL
	}
	return store.DialectSQLite
}

// URL creates a fresh, empty database for t and returns its RECTIFY_DB URL.
func URL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvMySQL)
	if dsn == "" {
		return "sqlite:" + filepath.Join(t.TempDir(), "rectify.db")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvMySQL, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "rectify_test_" + hex.EncodeToString(b)
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("connect to MariaDB: %v", err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		_ = admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	cfg.DBName = name
	return "mysql:" + cfg.FormatDSN()
}

// Open returns a migrated database of its own for t, closed when t ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenURL(t, URL(t))
}

// OpenURL opens and migrates the database at url, closed when t ends.
func OpenURL(t testing.TB, url string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}
