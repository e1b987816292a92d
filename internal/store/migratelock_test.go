package store_test

import (
	"sync"
	"testing"

	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// Instances started at once on an empty database all migrate it: they take
// turns on the lock row instead of racing to create goose's version table.
func TestMigrateTogether(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	const n = 4
	dbs := make([]*store.DB, n)
	for i := range dbs {
		db, err := store.Open(t.Context(), url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[i] = db
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	var owner string
	var versions int
	if err := dbs[0].SQL().QueryRow("SELECT owner FROM schema_lock WHERE id = 1").Scan(&owner); err != nil || owner != "" {
		t.Fatalf("the lock is still held by %q (%v)", owner, err)
	}
	if err := dbs[0].SQL().QueryRow("SELECT COUNT(*) FROM goose_db_version WHERE version_id = 9").Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("migration 9 recorded %d times (%v)", versions, err)
	}
}
