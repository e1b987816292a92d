package blob_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/blob"
)

func open(t *testing.T) (*blob.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "attachments")
	s, err := blob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestPutStoresOnceUnderTheHash(t *testing.T) {
	s, dir := open(t)
	content := []byte("整改情况说明\n")
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	for range 2 {
		b, err := s.Put(bytes.NewReader(content), nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.SHA256 != want || b.Size != int64(len(content)) || b.ContentType != "text/plain; charset=utf-8" {
			t.Fatalf("blob %+v", b)
		}
	}
	got := files(t, dir)
	if len(got) != 1 || got[0] != filepath.Join("objects", want[:2], want[2:4], want) {
		t.Fatalf("files %v", got)
	}
	info, err := os.Stat(filepath.Join(dir, got[0]))
	if err != nil || info.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v %v", info.Mode(), err)
	}
	f, err := s.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if b, _ := io.ReadAll(f); !bytes.Equal(b, content) || !s.Has(want) {
		t.Fatalf("read back %q", b)
	}
}

func TestRefusalsKeepNothing(t *testing.T) {
	s, dir := open(t)
	refuse := errors.New("not evidence")
	if _, err := s.Put(strings.NewReader("\x7fELF\x02\x01\x01"), func(b app.Blob) error {
		if b.ContentType != "application/x-elf" {
			t.Errorf("type %s", b.ContentType)
		}
		return refuse
	}); !errors.Is(err, refuse) {
		t.Fatalf("refused: %v", err)
	}
	broken := errors.New("connection reset")
	if _, err := s.Put(io.MultiReader(strings.NewReader(strings.Repeat("x", 5000)), errReader{broken}), nil); !errors.Is(err, broken) {
		t.Fatalf("broken reader: %v", err)
	}
	if got := files(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestDetectsOfficeDocumentsByContent(t *testing.T) {
	s, _ := open(t)
	for name, want := range map[string]string{
		"doc.doc":   "application/msword",
		"xls.xls":   "application/vnd.ms-excel",
		"docx.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"msi.msi":   "application/x-ms-installer",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Put(bytes.NewReader(b), func(app.Blob) error { return errors.New("only looking") })
		if err == nil || got.ContentType != "" {
			t.Fatalf("%s: a refused blob was returned", name)
		}
		var seen string
		_, _ = s.Put(bytes.NewReader(b), func(b app.Blob) error { seen = b.ContentType; return errors.New("only looking") })
		if seen != want {
			t.Errorf("%s detected as %s, want %s", name, seen, want)
		}
	}
}

func TestOpenRefusesNamesThatAreNotHashes(t *testing.T) {
	s, _ := open(t)
	for _, name := range []string{"", "../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63)} {
		if _, err := s.Open(name); err == nil {
			t.Errorf("opened %q", name)
		}
	}
}

func TestOpenRemovesStaleStagingFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "attachments")
	if _, err := blob.Open(dir); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(dir, "tmp", "upload-1"), filepath.Join(dir, "tmp", "upload-2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	_ = os.Chtimes(stale, old, old)
	if _, err := blob.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale staging file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("an upload in flight was removed")
	}
}
