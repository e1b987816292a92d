package evidence

import (
	"github.com/rectify-team/rectify/internal/app"
	"io"
	"time"
)

// The adapters this capability uses, implemented outside the use cases.

// BlobStore keeps file contents, content-addressed. internal/blob implements it.
type BlobStore interface {
	// Put streams r to a staging file while hashing it and detecting its type
	// from its first bytes; check may refuse the blob (type, size), in which
	// case nothing is kept. Content already stored is stored once. Errors of r
	// (such as a size limit) are returned as they are.
	Put(r io.Reader, check func(app.Blob) error) (app.Blob, error)
	// Open opens a stored content for reading.
	Open(sha256 string) (io.ReadSeekCloser, error)
	// Walk calls fn with every stored content's SHA-256 and modification time.
	Walk(fn func(sha256 string, modified time.Time) error) error
	// RemoveIfOlder removes a content that was not stored (again) since t,
	// and reports whether it did.
	RemoveIfOlder(sha256 string, t time.Time) (bool, error)
}
