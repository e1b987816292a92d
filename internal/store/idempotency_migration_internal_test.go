package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
)

// Migration 00060 keeps the answers of Idempotency-Keys used before it, in
// the form httpapi reads back (STATUS\nHEADERS-JSON\nBODY), and leaves a key
// claimed but not completed without one.
func TestIdempotencyPayloadMigration(t *testing.T) {
	name, driver, dsn, gd := DialectSQLite, "sqlite", filepath.Join(t.TempDir(), "rectify.db"), goose.DialectSQLite3
	if env := os.Getenv("RECTIFY_TEST_MYSQL_DSN"); env != "" {
		cfg, err := mysql.ParseDSN(env)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		schema := "rectify_test_" + hex.EncodeToString(b)
		admin, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec("CREATE DATABASE " + schema + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = admin.Exec("DROP DATABASE " + schema)
			_ = admin.Close()
		})
		cfg.DBName = schema
		name, driver, dsn, gd = DialectMySQL, "mysql", cfg.FormatDSN(), goose.DialectMySQL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	fsys, err := fs.Sub(migrations, "migrations/"+name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(gd, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 50); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO units (id, name, path, created_at, updated_at) VALUES (1, 'u', '/1/', '2026-01-01', '2026-01-01')",
		"INSERT INTO users (id, username, name, password_hash, roles, unit_id, created_at, updated_at) VALUES (1, 'a', 'a', 'x', 'admin', 1, '2026-01-01', '2026-01-01')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err = db.Exec("INSERT INTO idempotency_keys (user_id, idem_key, request_hash, status, headers, body, created_at, expires_at) VALUES "+
		"(1, 'kept', 'h', 201, ?, ?, '2026-01-01', '2026-01-02'), (1, 'claimed', 'h', 0, '{}', ?, '2026-01-01', '2026-01-02')",
		`{"ETag":"\"3\""}`, []byte(`{"id":3}`), []byte{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	rows, err := db.Query("SELECT idem_key, payload FROM idempotency_keys")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var payload []byte
		if err := rows.Scan(&k, &payload); err != nil {
			t.Fatal(err)
		}
		got[k] = payload
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "201\n{\"ETag\":\"\\\"3\\\"\"}\n{\"id\":3}"; string(got["kept"]) != want {
		t.Errorf("kept answer: %q, want %q", got["kept"], want)
	}
	if p, ok := got["claimed"]; !ok || p != nil {
		t.Errorf("unfinished key: %q (present %v), want NULL", p, ok)
	}
}
