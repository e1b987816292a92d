package witness_test

import (
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/audit/witness"
)

func TestWitnessCosignsOnlyWhatExtendsItsNewest(t *testing.T) {
	t.Parallel()
	keys := testKeys(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness-test")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := witness.NewServer(keys, skey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	w, err := witness.NewClient(srv.URL, vkey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	cp1 := nextCheckpoint(t, keys, nil, []audit.Head{head("a", 1)})
	cp2 := nextCheckpoint(t, keys, cp1, []audit.Head{head("a", 2)})
	cp3 := nextCheckpoint(t, keys, cp2, []audit.Head{head("b", 1)})
	if h, err := w.Add(ctx, cp2.Note); err != nil || h == nil || h.Number != 0 {
		t.Fatalf("a gap: %+v %v, want the witness's newest (none)", h, err)
	}
	for _, cp := range []*audit.Checkpoint{cp1, cp2, cp1, cp2} { // again: it has them
		if h, err := w.Add(ctx, cp.Note); err != nil || h != nil {
			t.Fatalf("checkpoint %d: %+v %v", cp.Number, h, err)
		}
	}
	fork := nextCheckpoint(t, keys, cp1, []audit.Head{head("c", 1)}) // another checkpoint 2
	if h, err := w.Add(ctx, fork.Note); err != nil || h == nil || h.Number != 2 || h.Root != cp2.Root {
		t.Fatalf("a fork: %+v %v", h, err)
	}
	other := nextCheckpoint(t, testKeys(t), cp2, []audit.Head{head("b", 1)})
	if _, err := w.Add(ctx, other.Note); err == nil {
		t.Fatal("a checkpoint signed with another key was accepted")
	}
	liar, err := witness.NewClient(srv.URL, keys.VerifierKey()) // expects another co-signer
	if err != nil {
		t.Fatal(err)
	}
	if _, err := liar.Add(ctx, cp3.Note); err == nil {
		t.Fatal("a co-signature by an unknown key was taken")
	}
	if ws.Len() != 3 {
		t.Fatalf("the witness holds %d checkpoints, want 3", ws.Len())
	}
}

func testKeys(t *testing.T) *audit.Keys {
	t.Helper()
	keys, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"), "rectify-test")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

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
