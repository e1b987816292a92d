// Package blob keeps attachments' contents on disk, content-addressed: a file
// is stored once under its SHA-256, at a path the server makes, never one a
// client names. Writes go to a staging file that is synced and then renamed
// into place, so that a stored content is always complete.
//
// Layout under the directory given to Open:
//
//	objects/ab/cd/abcd…(64 hex digits)   one file per distinct content, mode 0640
//	tmp/upload-*                         uploads in flight; stale ones are removed on Open
package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/evidence"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/gabriel-vasile/mimetype"

	"github.com/rectify-team/rectify/internal/app"
)

// sniffLen is how many leading bytes decide the type (mimetype's default).
const sniffLen = 3072

// staleAfter is the age from which a staging file is left over from a crash.
const staleAfter = time.Hour

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Store is a directory of contents. It implements evidence.BlobStore.
type Store struct {
	dir string
	// mu orders storing a content against removing an orphan of the same
	// content in this process: a Put of a content that exists refreshes its
	// time, which the collector checks under the same lock.
	mu sync.Mutex
}

// Open prepares dir (creating it if needed) and removes staging files left by a crash.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blob: a directory is required")
	}
	for _, d := range []string{dir, filepath.Join(dir, "objects"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("blob: create %s: %w", d, err)
		}
	}
	s := &Store{dir: dir}
	s.removeStale(time.Now())
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) removeStale(now time.Time) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "tmp"))
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > staleAfter {
			_ = os.Remove(filepath.Join(s.dir, "tmp", e.Name()))
		}
	}
}

// path is where a content lives: objects/ab/cd/<sha256>.
func (s *Store) path(sum string) string {
	return filepath.Join(s.dir, "objects", sum[:2], sum[2:4], sum)
}

// Put streams r to a staging file, hashing it and detecting its type from its
// first bytes (magic numbers, never a name). check sees the result and may
// refuse it; then, as on any error of r, nothing is kept. A content already
// stored is kept once.
func (s *Store) Put(r io.Reader, check func(app.Blob) error) (app.Blob, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "upload-*")
	if err != nil {
		return app.Blob{}, fmt.Errorf("blob: staging file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return app.Blob{}, err
	}
	head = head[:n]
	if _, err := w.Write(head); err != nil {
		return app.Blob{}, fmt.Errorf("blob: write: %w", err)
	}
	rest, err := io.Copy(w, r)
	if err != nil {
		return app.Blob{}, err // the reader's error (a size limit, a broken upload) as it is
	}
	b := app.Blob{SHA256: hex.EncodeToString(h.Sum(nil)), Size: int64(n) + rest, ContentType: mimetype.Detect(head).String()}
	if check != nil {
		if err := check(b); err != nil {
			return app.Blob{}, err
		}
	}
	if err := tmp.Sync(); err != nil {
		return app.Blob{}, fmt.Errorf("blob: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return app.Blob{}, fmt.Errorf("blob: close: %w", err)
	}
	final := s.path(b.SHA256)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(final); err == nil {
		_ = os.Remove(tmp.Name()) // the same content is stored already
		committed = true
		now := time.Now()
		_ = os.Chtimes(final, now, now) // fresh again: the orphan collector leaves it alone
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return app.Blob{}, fmt.Errorf("blob: create directory: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return app.Blob{}, fmt.Errorf("blob: chmod: %w", err)
	}
	// Rename is atomic: a concurrent upload of the same content renames an
	// identical file onto the same name.
	if err := os.Rename(tmp.Name(), final); err != nil {
		return app.Blob{}, fmt.Errorf("blob: store: %w", err)
	}
	committed = true
	syncDir(filepath.Dir(final))
	return b, nil
}

// syncDir makes a rename durable; not every system can sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Open opens the content with the given SHA-256 (64 lower-case hex digits).
func (s *Store) Open(sum string) (io.ReadSeekCloser, error) {
	if !hexSHA256.MatchString(sum) {
		return nil, fmt.Errorf("blob: %q is not a SHA-256", sum)
	}
	f, err := os.Open(s.path(sum))
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return f, nil
}

// Has reports whether a content is stored.
func (s *Store) Has(sum string) bool {
	if !hexSHA256.MatchString(sum) {
		return false
	}
	_, err := os.Stat(s.path(sum))
	return err == nil
}

var _ evidence.BlobStore = (*Store)(nil)

// Walk calls fn with the SHA-256 and modification time of every stored content.
func (s *Store) Walk(fn func(sum string, modified time.Time) error) error {
	root := filepath.Join(s.dir, "objects")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !hexSHA256.MatchString(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		return fn(d.Name(), info.ModTime())
	})
}

// RemoveIfOlder removes a stored content whose modification time is before
// t, and reports whether it did. A content stored again meanwhile is newer
// and stays.
func (s *Store) RemoveIfOlder(sum string, t time.Time) (bool, error) {
	if !hexSHA256.MatchString(sum) {
		return false, fmt.Errorf("blob: %q is not a SHA-256", sum)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.path(sum)
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blob: %w", err)
	}
	if !info.ModTime().Before(t) {
		return false, nil
	}
	if err := os.Remove(p); err != nil {
		return false, fmt.Errorf("blob: remove %s: %w", sum, err)
	}
	return true, nil
}
