package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Log is the checkpoint log: an append-only file beside the signing key that
// holds every signed checkpoint with the heads it commits to, one JSON record
// a line, each line chained to the one before it by its SHA-256. Someone who
// can write only to the database cannot rewrite it, so verification compares
// the database with it (docs/audit.md).
type Log struct {
	path string
	keys *Keys
	mu   sync.Mutex // one append at a time in this process; flock orders processes
}

// NewLog returns the checkpoint log kept at path; the file is created by the
// first append.
func NewLog(path string, keys *Keys) *Log { return &Log{path: path, keys: keys} }

// Path returns the log file's path.
func (l *Log) Path() string { return l.path }

// LogFault says where the log stops being trustworthy: the line, counted from 1,
// and what is wrong with it. Checkpoints before it are good.
type LogFault struct {
	Line   int
	Reason string
}

type logRecord struct {
	Prev  string    `json:"prev"` // SHA-256 of the line before, 64 zeros on the first
	Note  string    `json:"note"` // the signed note
	Heads []logHead `json:"heads"`
}

type logHead struct {
	Stream  string `json:"s"`
	Seq     int64  `json:"n"`
	EntryID int64  `json:"e"`
	Hash    string `json:"h"`
}

func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

func encodeRecord(prev string, cp *Checkpoint) ([]byte, error) {
	rec := logRecord{Prev: prev, Note: cp.Note, Heads: make([]logHead, len(cp.Heads))}
	for i, h := range cp.Heads {
		rec.Heads[i] = logHead{Stream: h.Stream, Seq: h.Seq, EntryID: h.EntryID, Hash: h.Hash}
	}
	return json.Marshal(rec)
}

// decodeRecord parses a line and checks its note's signature and heads.
func (l *Log) decodeRecord(line []byte) (*logRecord, *Checkpoint, error) {
	var rec logRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, nil, errors.New("not a checkpoint record")
	}
	heads := make([]Head, len(rec.Heads))
	for i, h := range rec.Heads {
		heads[i] = Head{Stream: h.Stream, Seq: h.Seq, EntryID: h.EntryID, Hash: h.Hash}
	}
	cp, err := l.keys.OpenCheckpoint(rec.Note, heads)
	if err != nil {
		return nil, nil, err
	}
	return &rec, cp, nil
}

// Extend appends, under an exclusive lock on the file, the checkpoints that
// next returns given the last checkpoint in the log (nil when it is empty).
// They must follow it in number and root and verify. All records go out in one write and
// are synced to disk before Extend returns; they are written even when next
// also returns an error, which Extend then returns.
func (l *Log) Extend(next func(last *Checkpoint) ([]*Checkpoint, error)) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return 0, fmt.Errorf("checkpoint log dir: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, fmt.Errorf("open checkpoint log: %w", err)
	}
	defer func() { _ = f.Close() }() // written and synced below before any success: a failed close loses nothing
	if err := lockFile(f); err != nil {
		return 0, fmt.Errorf("lock checkpoint log %s: %w", l.path, err)
	}
	defer unlockFile(f)
	lastLine, err := readLastLine(f)
	if err != nil {
		return 0, fmt.Errorf("checkpoint log %s: %w", l.path, err)
	}
	var last *Checkpoint
	prev, prevRoot, number := genesis, genesis, int64(0)
	if lastLine != nil {
		if _, last, err = l.decodeRecord(lastLine); err != nil {
			return 0, fmt.Errorf("checkpoint log %s: its last line: %w", l.path, err)
		}
		prev, prevRoot, number = lineHash(lastLine), last.Root, last.Number
	}
	cps, nextErr := next(last)
	var buf bytes.Buffer
	for _, cp := range cps {
		if cp.Number != number+1 || cp.PrevRoot != prevRoot {
			return 0, fmt.Errorf("checkpoint %d does not follow checkpoint %d of the log", cp.Number, number)
		}
		if err := l.keys.VerifyCheckpoint(cp); err != nil {
			return 0, err
		}
		line, err := encodeRecord(prev, cp)
		if err != nil {
			return 0, err
		}
		buf.Write(line)
		buf.WriteByte('\n')
		prev, prevRoot, number = lineHash(line), cp.Root, cp.Number
	}
	if buf.Len() > 0 {
		if _, err := f.Write(buf.Bytes()); err != nil {
			return 0, fmt.Errorf("append to checkpoint log: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("sync checkpoint log: %w", err)
		}
	}
	return len(cps), nextErr
}

// readLastLine returns the last line of f without its newline; nil when f is empty.
func readLastLine(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size == 0 {
		return nil, nil
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return nil, err
	}
	if last[0] != '\n' {
		return nil, errors.New("the file ends in a partial line: it was truncated or a write was cut short")
	}
	var tail []byte // the file's end, without its final newline
	for end := size - 1; ; {
		start := max(0, end-64<<10)
		chunk := make([]byte, end-start)
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		tail = append(chunk, tail...)
		if i := bytes.LastIndexByte(tail, '\n'); i >= 0 {
			return tail[i+1:], nil
		}
		if start == 0 {
			return tail, nil
		}
		end = start
	}
}

// Read reads and checks the whole log: every line's chain to the one before,
// its note's signature, its heads against the signed root, and the numbers and
// roots of consecutive checkpoints. It returns the checkpoints up to the first
// fault, and the fault; a missing file is an empty log.
func (l *Log) Read() ([]*Checkpoint, *LogFault, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read checkpoint log: %w", err)
	}
	var out []*Checkpoint
	prev, prevRoot := genesis, genesis
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return out, &LogFault{Line: n, Reason: "the last line is cut short: the log was truncated"}, nil
		}
		line := data[:i]
		data = data[i+1:]
		rec, cp, err := l.decodeRecord(line)
		var reason string
		switch {
		case err != nil:
			reason = err.Error()
		case rec.Prev != prev:
			reason = "it does not chain to the line before it: a line was altered, removed or inserted"
		case cp.Number != int64(n):
			reason = fmt.Sprintf("it holds checkpoint %d where checkpoint %d belongs", cp.Number, n)
		case cp.PrevRoot != prevRoot:
			reason = fmt.Sprintf("checkpoint %d does not follow checkpoint %d", cp.Number, n-1)
		}
		if reason != "" {
			return out, &LogFault{Line: n, Reason: reason}, nil
		}
		out = append(out, cp)
		prev, prevRoot = lineHash(line), cp.Root
	}
	return out, nil, nil
}
