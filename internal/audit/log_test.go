package audit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
)

func testKeys(t *testing.T) *audit.Keys {
	t.Helper()
	keys, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"), "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// nextCheckpoint signs the checkpoint after last over heads.
func nextCheckpoint(t *testing.T, keys *audit.Keys, last *audit.Checkpoint, heads []audit.Head) *audit.Checkpoint {
	t.Helper()
	n, prev := int64(1), audit.GenesisHash()
	if last != nil {
		n, prev = last.Number+1, last.Root
	}
	cp, err := keys.NewCheckpoint(n, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Minute), prev, heads)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func head(stream string, seq int64) audit.Head {
	return audit.Head{Stream: stream, Seq: seq, EntryID: seq, Hash: strings.Repeat("a", 64)}
}

// Several writers sharing one file (as instances sharing a data directory do)
// each append after whatever the log ends with; the lock keeps the records
// whole, numbered and chained.
func TestLogWritersSharingAFileKeepItChained(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	path := filepath.Join(t.TempDir(), "log", "audit-checkpoints.log")
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		log := audit.NewLog(path, keys) // its own handle, as another process would have
		wg.Go(func() {
			for i := range each {
				_, err := log.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) {
					return []*audit.Checkpoint{nextCheckpoint(t, keys, last, []audit.Head{head(fmt.Sprintf("w%d", w), int64(i+1))})}, nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	cps, fault, err := audit.NewLog(path, keys).Read()
	if err != nil || fault != nil || len(cps) != writers*each {
		t.Fatalf("read %d checkpoints, fault %+v, %v", len(cps), fault, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v %v", st.Mode(), err)
	}
}

// A record longer than one read of the file's end, and a log refusing to
// append what does not follow it or after a damaged end.
func TestLogAppendsOnlyWhatFollows(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	path := filepath.Join(t.TempDir(), "audit-checkpoints.log")
	log := audit.NewLog(path, keys)
	var many []audit.Head
	for i := range 3000 { // about 300 kB in one line
		many = append(many, head(fmt.Sprintf("problem/%d", i), 1))
	}
	var first *audit.Checkpoint
	if n, err := log.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) {
		if last != nil {
			t.Fatalf("an empty log has a last checkpoint: %+v", last)
		}
		first = nextCheckpoint(t, keys, nil, many)
		return []*audit.Checkpoint{first}, nil
	}); n != 1 || err != nil {
		t.Fatalf("appended %d: %v", n, err)
	}
	if _, err := log.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) {
		if last == nil || last.Number != 1 || len(last.Heads) != len(many) {
			t.Fatalf("last checkpoint %v", last)
		}
		return []*audit.Checkpoint{nextCheckpoint(t, keys, nil, many[:1])}, nil // number 1 again
	}); err == nil {
		t.Fatal("a checkpoint that does not follow the log was appended")
	}
	other := testKeys(t)
	if _, err := log.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) {
		return []*audit.Checkpoint{nextCheckpoint(t, other, last, many[:1])}, nil
	}); err == nil {
		t.Fatal("a checkpoint signed with another key was appended")
	}
	cps, fault, err := log.Read()
	if err != nil || len(cps) != 1 || fault != nil {
		t.Fatalf("read %d checkpoints, fault %+v, %v", len(cps), fault, err)
	}
	// A cut-short end stops appends.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := log.Extend(func(last *audit.Checkpoint) ([]*audit.Checkpoint, error) { return nil, nil }); err == nil {
		t.Fatal("appended after a partial line")
	}
}
