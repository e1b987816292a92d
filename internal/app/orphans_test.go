package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
)

// age sets a stored content's time back by d.
func age(t *testing.T, e *apptest.Env, sum string, d time.Duration) {
	t.Helper()
	p := filepath.Join(e.Blobs.Dir(), "objects", sum[:2], sum[2:4], sum)
	old := time.Now().Add(-d)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

// The contents of uploads whose transaction failed are collected once they
// are older than the grace period; recorded and fresh contents stay.
func TestOrphanContentsAreCollected(t *testing.T) {
	e := apptest.New(t)
	kept, err := e.Svc.Evidence.Upload(t.Context(), e.Caller("owner1"), "记录.txt", strings.NewReader("整改记录：已完成"))
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := e.Blobs.Put(strings.NewReader("an upload whose row was never written"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := e.Blobs.Put(strings.NewReader("an upload still in its transaction"), nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Blobs.Put(strings.NewReader("an old orphan uploaded again"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sum := range []string{kept.SHA256, orphan.SHA256, again.SHA256} {
		age(t, e, sum, 2*app.OrphanGrace)
	}
	// Storing the same content again makes it fresh: its new row may be on the way.
	if _, err := e.Blobs.Put(strings.NewReader("an old orphan uploaded again"), nil); err != nil {
		t.Fatal(err)
	}
	n, err := e.Svc.Evidence.CollectOrphanBlobs(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("removed %d, %v; want the one old orphan", n, err)
	}
	for sum, want := range map[string]bool{kept.SHA256: true, orphan.SHA256: false, fresh.SHA256: true, again.SHA256: true} {
		if got := e.Blobs.Has(sum); got != want {
			t.Errorf("content %s… kept %v, want %v", sum[:8], got, want)
		}
	}
	if n, _ := e.Svc.Evidence.CollectOrphanBlobs(t.Context()); n != 0 {
		t.Errorf("a second pass removed %d", n)
	}
}
