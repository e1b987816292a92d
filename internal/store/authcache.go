package store

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rectify-team/rectify/internal/app"
)

// Every authenticated request resolves its bearer token: a third of the
// round trips of reading one problem. The store keeps what tokens resolved
// to, and keeps it right:
//
//   - Whatever changes what a token resolves to — a session revoked, a user
//     updated (roles, unit, disabled, password), a unit moved — goes through
//     this store, which moves the auth_epoch counter in the same transaction
//     (authChanged) and, once that transaction has committed, drops this
//     server's cache before the change's caller hears of it. On this server
//     the change holds from the next request on.
//   - Other servers on the same database read auth_epoch at most every
//     SessionPoll (default 250 ms) and drop their cache when it moved: there
//     a change holds within that interval.
//   - An entry also lapses after SessionCache (default 10 s), so that even a
//     change made behind the store's back (a hand-written UPDATE) holds soon.
//
// Expiry is checked by the caller on every request against the session's
// expires_at, cached or not. Unknown tokens are not cached.

const (
	// DefaultSessionCache is how long a resolved token is trusted at most.
	DefaultSessionCache = 10 * time.Second
	// DefaultSessionPoll is how often a server looks for other servers' changes.
	DefaultSessionPoll = 250 * time.Millisecond
	// sessionCacheMax bounds the entries; past it the cache starts afresh.
	sessionCacheMax = 50_000
)

type sessionEntry struct {
	sess    app.Session
	user    app.User
	at      time.Time // when it was read
	epoch   int64     // the auth_epoch known before it was read
	changes uint64    // this server's count of committed changes before it was read
}

// sessionCache holds resolved tokens by token hash. A nil cache caches nothing.
type sessionCache struct {
	ttl, poll time.Duration
	now       func() time.Time

	mu      sync.Mutex
	entries map[string]sessionEntry
	changes uint64    // moved by every change this server committed
	epoch   int64     // auth_epoch as last read
	epochAt time.Time // when it was read; zero: never
	polling bool      // a request is reading auth_epoch
}

func newSessionCache(ttl, poll time.Duration, now func() time.Time) *sessionCache {
	if ttl < 0 {
		return nil
	}
	if ttl == 0 {
		ttl = DefaultSessionCache
	}
	if poll <= 0 {
		poll = DefaultSessionPoll
	}
	if now == nil {
		now = time.Now
	}
	return &sessionCache{ttl: ttl, poll: poll, now: now, entries: map[string]sessionEntry{}}
}

// changed drops every entry: a change this server made has committed.
func (c *sessionCache) changed() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.changes++
	clear(c.entries)
	c.mu.Unlock()
}

// resolve answers from the cache or through read, which reads the database.
// epoch reads auth_epoch.
func (c *sessionCache) resolve(ctx context.Context, hash string,
	read func(context.Context, string) (*app.Session, *app.User, error),
	epoch func(context.Context) (int64, error)) (*app.Session, *app.User, error) {
	known, err := c.catchUp(ctx, epoch)
	if err != nil {
		return nil, nil, err
	}
	if !known { // the first reading of auth_epoch is being taken: nothing to compare entries with yet
		return read(ctx, hash)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[hash]
	fresh := ok && e.epoch == c.epoch && e.changes == c.changes && now.Sub(e.at) < c.ttl && !now.Before(e.at)
	knownEpoch, knownChanges := c.epoch, c.changes
	c.mu.Unlock()
	if fresh {
		return e.copies()
	}
	// What is known now is recorded before the read: a change that commits
	// while the read runs moves one of them, and the entry is not used again.
	sess, u, err := read(ctx, hash)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= sessionCacheMax {
		clear(c.entries)
	}
	e = sessionEntry{sess: *sess, user: *u, at: now, epoch: knownEpoch, changes: knownChanges}
	c.entries[hash] = e
	c.mu.Unlock()
	return e.copies() // the caller's may be changed; the entry's slices and pointers stay its own
}

// catchUp reads auth_epoch when the last reading is older than the poll
// interval. One request at a time reads it, so the readings only move
// forward; the others go on with the last one, at most one interval and one
// read old. known is false while there has been no reading yet.
func (c *sessionCache) catchUp(ctx context.Context, epoch func(context.Context) (int64, error)) (known bool, err error) {
	now := c.now()
	c.mu.Lock()
	due := !c.polling && (c.epochAt.IsZero() || now.Sub(c.epochAt) >= c.poll || now.Before(c.epochAt))
	known = !c.epochAt.IsZero()
	if due {
		c.polling = true
	}
	c.mu.Unlock()
	if !due {
		return known, nil
	}
	v, err := epoch(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.polling = false
	if err != nil {
		return false, err
	}
	if v != c.epoch {
		c.epoch = v
		clear(c.entries)
	}
	c.epochAt = now
	return true, nil
}

func (e sessionEntry) copies() (*app.Session, *app.User, error) {
	s, u := e.sess, e.user
	if s.RevokedAt != nil {
		t := *s.RevokedAt
		s.RevokedAt = &t
	}
	u.Roles = slices.Clone(u.Roles)
	return &s, &u, nil
}

// txState is what one transaction attempt collects to do once it has
// committed, and the audit stream heads it has read (auditRepo.Append).
type txState struct {
	afterCommit []func()
	heads       map[string]streamHead
}

// authChanged drops this server's cached tokens and moves auth_epoch, which
// other servers poll, once the change has committed. The counter is moved in
// a short statement of its own after the commit rather than inside the
// change's transaction: it is one row that every logout, password change and
// user or unit update would otherwise lock and write, serialising them (on
// Galera, failing certification against each other). Should that statement
// fail, other servers still drop the entry within the cache's lifetime.
func (b base) authChanged(ctx context.Context) error {
	if b.tx == nil {
		b.auth.changed()
		return b.moveAuthEpoch(ctx)
	}
	b.tx.afterCommit = append(b.tx.afterCommit, func() {
		b.auth.changed()
		_ = b.moveAuthEpoch(context.WithoutCancel(ctx))
	})
	return nil
}

func (b base) moveAuthEpoch(ctx context.Context) error {
	pool := b.pool
	if pool == nil {
		pool = b.g
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var err error
	for i := range 4 { // a deadlock or certification failure against another server's move
		if err = pool.WithContext(ctx).Exec("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1").Error; err == nil || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return err
}

// readAuthEpoch reads the counter authChanged moves.
func (b base) readAuthEpoch(ctx context.Context) (int64, error) {
	var v int64
	err := b.db(ctx).Raw("SELECT epoch FROM auth_epoch WHERE id = 1").Scan(&v).Error
	return v, err
}
