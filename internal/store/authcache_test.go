package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/store"
	"github.com/rectify-team/rectify/internal/store/storetest"
)

// openServer opens a second handle on url, as another server would.
func openServer(t *testing.T, url string, opt store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type resolved struct {
	ok       bool
	revoked  bool
	roles    []domain.Role
	unitPath string
	disabled bool
}

func resolve(t *testing.T, db *store.DB, hash string) resolved {
	t.Helper()
	s, u, err := db.Read().Sessions.Resolve(t.Context(), hash)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	return resolved{ok: true, revoked: s.RevokedAt != nil, roles: u.Roles, unitPath: u.UnitPath, disabled: u.Disabled}
}

// Every change to what a token resolves to holds at once on the server that
// made it, and on another server as soon as it reads the epoch again: here
// on its next request (SessionPoll of a nanosecond), while a server that
// polls rarely keeps answering from its cache until it does.
func TestResolvedTokensFollowChanges(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	a := storetest.OpenURL(t, url)                                       // makes the changes
	b := openServer(t, url, store.Options{SessionPoll: time.Nanosecond}) // reads the epoch on every request
	c := openServer(t, url, store.Options{SessionPoll: time.Hour})       // reads it once
	ctx := t.Context()

	root := mkUnit(t, a, "中心", 0)
	d1 := mkUnit(t, a, "一处", root.ID)
	d2 := mkUnit(t, a, "二处", root.ID)
	team := mkUnit(t, a, "一科", d1.ID)
	u := mkUser(t, a, "alice", team.ID, domain.RoleOwner)
	sess := &app.Session{TokenHash: strings.Repeat("c", 64), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tx(t, a, func(r app.Repos) error { return r.Sessions.Create(ctx, sess) })
	h := sess.TokenHash

	first := resolve(t, a, h)
	if first.unitPath != team.Path || first.revoked || len(first.roles) != 1 {
		t.Fatalf("first resolve %+v", first)
	}
	for _, db := range []*store.DB{b, c} {
		if got := resolve(t, db, h); got.unitPath != team.Path {
			t.Fatalf("other server %+v", got)
		}
	}
	stale := func(what string, check func(resolved) bool) {
		t.Helper()
		if !check(resolve(t, a, h)) {
			t.Errorf("%s: the server that made the change still resolves the old %+v", what, resolve(t, a, h))
		}
		if !check(resolve(t, b, h)) {
			t.Errorf("%s: another server, after reading the epoch, still resolves the old %+v", what, resolve(t, b, h))
		}
	}

	// Roles.
	u.Roles = []domain.Role{domain.RoleOwner, domain.RoleLeader}
	tx(t, a, func(r app.Repos) error { return r.Users.Update(ctx, u) })
	stale("roles", func(r resolved) bool { return len(r.roles) == 2 })
	if got := resolve(t, c, h); len(got.roles) != 1 {
		t.Errorf("a server that has not read the epoch again resolved from the database: the cache is not used (%+v)", got)
	}

	// A unit move changes the scope of the users under it.
	d := *team
	d.ParentID = d2.ID
	tx(t, a, func(r app.Repos) error { return r.Units.Update(ctx, &d) })
	stale("unit move", func(r resolved) bool { return strings.HasPrefix(r.unitPath, d2.Path) })

	// Disabling.
	u.Disabled = true
	tx(t, a, func(r app.Repos) error { return r.Users.Update(ctx, u) })
	stale("disabled", func(r resolved) bool { return r.disabled })
	u.Disabled = false
	tx(t, a, func(r app.Repos) error { return r.Users.Update(ctx, u) })
	stale("enabled again", func(r resolved) bool { return !r.disabled })

	// Revocation, of the one token and of all of a user's.
	tx(t, a, func(r app.Repos) error { return r.Sessions.Revoke(ctx, h, t0.Add(time.Minute)) })
	stale("revoked", func(r resolved) bool { return r.revoked })

	s2 := &app.Session{TokenHash: strings.Repeat("d", 64), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tx(t, a, func(r app.Repos) error { return r.Sessions.Create(ctx, s2) })
	if got := resolve(t, a, s2.TokenHash); got.revoked {
		t.Fatal("a new session resolved as revoked")
	}
	_ = resolve(t, b, s2.TokenHash)
	tx(t, a, func(r app.Repos) error { return r.Sessions.RevokeUser(ctx, u.ID, t0.Add(2*time.Minute)) })
	h = s2.TokenHash
	stale("all of a user's sessions revoked", func(r resolved) bool { return r.revoked })
}

// A change that rolls back leaves the cache as it was, and a transaction
// reads the session itself rather than from the cache.
func TestResolveInsideTransactionsReadsTheDatabase(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	root := mkUnit(t, db, "中心", 0)
	u := mkUser(t, db, "bob", root.ID, domain.RoleVerifier)
	sess := &app.Session{TokenHash: strings.Repeat("e", 64), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tx(t, db, func(r app.Repos) error { return r.Sessions.Create(ctx, sess) })
	_ = resolve(t, db, sess.TokenHash)
	err := db.Tx(ctx, func(ctx context.Context, r app.Repos) error {
		if err := r.Sessions.Revoke(ctx, sess.TokenHash, t0); err != nil {
			return err
		}
		s, _, err := r.Sessions.Resolve(ctx, sess.TokenHash)
		if err != nil {
			return err
		}
		if s.RevokedAt == nil {
			t.Error("inside the transaction that revoked it, the session resolved as not revoked")
		}
		return domain.Conflict("roll back")
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	if got := resolve(t, db, sess.TokenHash); got.revoked {
		t.Fatal("a revocation that rolled back holds")
	}
}
