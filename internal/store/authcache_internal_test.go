package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// fakeAuthDB stands for the database behind a sessionCache: it counts reads
// and can run something in the middle of one.
type fakeAuthDB struct {
	mu        sync.Mutex
	epoch     int64
	name      string
	reads     int
	epochErr  error
	duringRed func()
}

func (f *fakeAuthDB) read(context.Context, string) (*app.Session, *app.User, error) {
	f.mu.Lock()
	f.reads++
	name, during := f.name, f.duringRed
	f.duringRed = nil
	f.mu.Unlock()
	if during != nil {
		during()
	}
	return &app.Session{ID: 1}, &app.User{ID: 7, Name: name, Roles: []domain.Role{domain.RoleOwner}}, nil
}

func (f *fakeAuthDB) readEpoch(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.epoch, f.epochErr
}

func TestSessionCache(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f := &fakeAuthDB{name: "v1"}
	c := newSessionCache(10*time.Second, 250*time.Millisecond, clock)
	ctx := context.Background()
	get := func() string {
		t.Helper()
		_, u, err := c.resolve(ctx, "h", f.read, f.readEpoch)
		if err != nil {
			t.Fatal(err)
		}
		return u.Name
	}
	expect := func(name string, reads int) {
		t.Helper()
		if got := get(); got != name || f.reads != reads {
			t.Fatalf("resolved %q after %d reads; want %q after %d", got, f.reads, name, reads)
		}
	}

	// Handed-out users are copies, on a miss as on a hit: changing one changes
	// nothing cached.
	_, u, _ := c.resolve(ctx, "h", f.read, f.readEpoch)
	u.Roles[0] = domain.RoleAdmin
	expect("v1", 1) // from the cache
	_, u, _ = c.resolve(ctx, "h", f.read, f.readEpoch)
	if u.Roles[0] != domain.RoleOwner {
		t.Fatalf("the cached user was changed through the first read's answer: %+v", u)
	}
	u.Roles[0], u.Name = domain.RoleAdmin, "changed"
	_, u, _ = c.resolve(ctx, "h", f.read, f.readEpoch)
	if u.Name != "v1" || u.Roles[0] != domain.RoleOwner {
		t.Fatalf("the cached user was changed through a copy: %+v", u)
	}

	// Another server's change: seen once the poll interval has passed.
	f.name, f.epoch = "v2", 1
	now = now.Add(100 * time.Millisecond)
	expect("v1", 1)
	now = now.Add(150 * time.Millisecond)
	expect("v2", 2)
	expect("v2", 2)

	// This server's change: seen at once.
	f.name = "v3"
	c.changed()
	expect("v3", 3)

	// A change that commits while a read is under way: that read is handed
	// out, but not used again.
	f.name = "v4"
	c.changed()
	f.duringRed = func() { c.changed() }
	expect("v4", 4)
	f.name = "v5"
	expect("v5", 5)
	expect("v5", 5)

	// Entries lapse after the TTL even when nothing says they changed.
	f.name = "v6"
	now = now.Add(9 * time.Second)
	expect("v5", 5)
	now = now.Add(time.Second)
	expect("v6", 6)

	// A clock that goes back does not keep an entry alive.
	f.name = "v7"
	now = now.Add(-time.Hour)
	expect("v7", 7)

	// The epoch cannot be read: an error, not a stale answer.
	now = now.Add(time.Second)
	f.epochErr = errors.New("database gone")
	if _, _, err := c.resolve(ctx, "h", f.read, f.readEpoch); err == nil {
		t.Fatal("no error when the epoch could not be read")
	}
	f.epochErr = nil
	expect("v7", 7)

	// Off.
	if newSessionCache(-1, 0, clock) != nil {
		t.Fatal("a negative TTL did not turn the cache off")
	}
}

// Before the first reading of the epoch there is nothing to compare an entry
// with: requests that arrive meanwhile read the database.
func TestSessionCacheFirstReading(t *testing.T) {
	c := newSessionCache(0, 0, nil)
	f := &fakeAuthDB{name: "x"}
	release := make(chan struct{})
	started := make(chan struct{})
	slowEpoch := func(context.Context) (int64, error) {
		close(started)
		<-release
		return 0, nil
	}
	done := make(chan error)
	go func() {
		_, _, err := c.resolve(context.Background(), "h", f.read, slowEpoch)
		done <- err
	}()
	<-started
	for range 3 {
		if _, _, err := c.resolve(context.Background(), "h", f.read, f.readEpoch); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	reads := f.reads
	f.mu.Unlock()
	if reads != 3 {
		t.Fatalf("%d reads while the first reading was taken; want 3 (no entry trusted without it)", reads)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
