package app_test

import (
	"errors"
	"github.com/rectify-team/rectify/internal/app/wire"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
)

// testMapping is the directory mapping of the sign-in tests: owners,
// inspectors and verifiers map to their roles (by the group's name, and for
// verifiers by its full DN); staff maps to none.
func testMapping() app.DirectoryMapping {
	return app.DirectoryMapping{GroupRoles: map[string][]domain.Role{
		"owners":     {domain.RoleOwner},
		"inspectors": {domain.RoleInspector},
		"cn=verifiers,ou=groups,dc=example,dc=org": {domain.RoleVerifier},
	}}
}

// directoryEnv is the app fixture with a service signing in through srv.
func directoryEnv(t *testing.T, srv *slapdtest.Server) (*apptest.Env, *wire.Services) {
	t.Helper()
	e := apptest.New(t)
	d, err := ldapauth.New(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	return e, e.Instance(t, wire.WithDirectory(d, app.IdentitySource{DisplayName: "域账号", Mapping: testMapping()}))
}

// userEntries returns the system stream's entries about one user, oldest first.
func userEntries(t *testing.T, e *apptest.Env, id int64) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	for _, x := range streamEntries(t, e, audit.SystemStream) {
		if x.ObjectType == "user" && x.ObjectID == fmtInt(id) {
			out = append(out, x)
		}
	}
	return out
}

func actions(es []*audit.Entry) []string {
	out := make([]string, len(es))
	for i, x := range es {
		out[i] = x.Action + ":" + x.Outcome
	}
	return out
}

func lastSystemEntry(t *testing.T, e *apptest.Env) *audit.Entry {
	t.Helper()
	return lastEntry(t, e, audit.SystemStream)
}

func TestDirectorySignInCreatesAndUpdatesUsers(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	e, svc := directoryEnv(t, srv)
	ctx := t.Context()
	c := app.Caller{IP: "10.1.1.1", RequestID: "req-dir"}

	// First sign-in creates the user from the directory.
	res, err := svc.Access.Login(ctx, c, "Alice", slapdtest.Password)
	if err != nil {
		t.Fatalf("alice's first sign-in: %v", err)
	}
	u := res.User
	if u.Username != "alice" || u.Name != "王丽" || u.AuthSource != app.AuthLDAP || u.UnitID != e.Units["一班"].ID ||
		!slices.Equal(u.Roles, []domain.Role{domain.RoleInspector, domain.RoleOwner}) || u.PasswordHash != "" {
		t.Fatalf("alice created as %+v", u)
	}
	if got, err := svc.Access.Authenticate(ctx, res.Token); err != nil || got.ID != u.ID {
		t.Fatalf("alice's token: %+v %v", got, err)
	}
	if got, want := actions(userEntries(t, e, u.ID)), []string{"directory_create:ok", "login:ok"}; !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	created := userEntries(t, e, u.ID)[0]
	if created.ActorName != "directory:ldap" || created.IP != c.IP || created.RequestID != c.RequestID {
		t.Errorf("the creation's entry: %+v", created)
	}

	// The directory changes: renamed, moved to 二班, out of inspectors.
	srv.Replace(t, slapdtest.PersonDN("alice"), map[string][]string{"cn": {"王丽华"}, "departmentNumber": {"二班"}})
	srv.AddMember(t, "inspectors", "dave") // a groupOfNames keeps one member at least
	srv.RemoveMember(t, "inspectors", "alice")
	res2, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	u2 := res2.User
	if u2.ID != u.ID || u2.Name != "王丽华" || u2.UnitID != e.Units["二班"].ID || !slices.Equal(u2.Roles, []domain.Role{domain.RoleOwner}) {
		t.Fatalf("alice updated to %+v", u2)
	}
	want := []string{"directory_create:ok", "login:ok", "directory_rename:ok", "directory_role_lost:ok", "directory_unit_moved:ok", "login:ok"}
	if got := actions(userEntries(t, e, u.ID)); !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	// Her first token is still good, and now resolves to the new roles and unit.
	if got, err := svc.Access.Authenticate(ctx, res.Token); err != nil || got.UnitID != e.Units["二班"].ID || len(got.Roles) != 1 {
		t.Fatalf("the first token after the update: %+v %v", got, err)
	}

	// Gaining a role is an entry too; a sign-in that changes nothing adds only the login.
	srv.AddMember(t, "verifiers", "alice")
	res3, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res3.User.Roles, []domain.Role{domain.RoleOwner, domain.RoleVerifier}) {
		t.Fatalf("roles %v", res3.User.Roles)
	}
	es := userEntries(t, e, u.ID)
	if x := es[len(es)-2]; x.Action != app.ActionDirectoryRoleGain || x.Changes != `{"role":"verifier","source":"ldap"}` {
		t.Fatalf("role gained: %+v", x)
	}
	if _, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password); err != nil {
		t.Fatal(err)
	}
	if n := len(userEntries(t, e, u.ID)); n != len(es)+1 {
		t.Fatalf("a sign-in without changes wrote %d entries", n-len(es))
	}
	mustVerifyOK(t, e)
}

func TestDirectoryRefusals(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	e, svc := directoryEnv(t, srv)
	ctx := t.Context()
	for _, tc := range []struct{ name, user, password, reason string }{
		{"wrong password", "alice", "wrong password", "wrong password (directory)"},
		{"unknown", "zed", slapdtest.Password, "not in the directory"},
		{"disabled", "carol", slapdtest.Password, "disabled in the directory"},
		{"no mapped group", "dave", slapdtest.Password, "in no directory group that maps to a role"},
		{"injection", "*)(uid=*", slapdtest.Password, "not in the directory"},
		{"injection matching one", "alice)(uid=*", slapdtest.Password, "not in the directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Access.Login(ctx, app.Caller{IP: "10.2.2.2"}, tc.user, tc.password)
			if !errors.Is(err, app.ErrBadCredentials) {
				t.Fatalf("err %v, want bad credentials", err)
			}
			x := lastSystemEntry(t, e)
			if x.Action != app.ActionLogin || x.Outcome != audit.OutcomeRefused || x.Reason != tc.reason {
				t.Fatalf("entry %+v, want a refused login: %s", x, tc.reason)
			}
			if _, err := e.DB.Read().Users.GetByUsername(ctx, app.NormalizeUsername(tc.user)); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("a refused first sign-in created a user: %v", err)
			}
		})
	}

	// Failures count like local ones: the sixth attempt within the window is throttled.
	for i := 0; i < 5; i++ {
		if _, err := svc.Access.Login(ctx, app.Caller{IP: "10.3.3.3"}, "bob", "wrong"); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	if _, err := svc.Access.Login(ctx, app.Caller{IP: "10.3.3.3"}, "bob", slapdtest.Password); !errors.Is(err, domain.ErrTooManyAttempts) {
		t.Fatalf("sixth attempt: %v", err)
	}
	e.Clock.Advance(16 * time.Minute)
	if _, err := svc.Access.Login(ctx, app.Caller{IP: "10.3.3.3"}, "bob", slapdtest.Password); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestDirectoryRemovalEndsSessions(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	e, svc := directoryEnv(t, srv)
	ctx := t.Context()
	c := app.Caller{IP: "10.4.4.4"}
	bob, err := svc.Access.Login(ctx, c, "bob", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Access.Login(ctx, c, "bob", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}

	// Removed in the directory: the next sign-in attempt ends every session.
	srv.Delete(t, slapdtest.PersonDN("bob"))
	if _, err := svc.Access.Login(ctx, c, "bob", slapdtest.Password); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("removed bob signs in: %v", err)
	}
	for _, tok := range []string{bob.Token, other.Token} {
		if _, err := svc.Access.Authenticate(ctx, tok); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("a removed person's token still works: %v", err)
		}
	}
	u, err := e.DB.Read().Users.Get(ctx, bob.User.ID)
	if err != nil || !u.Disabled {
		t.Fatalf("bob after removal: %+v %v", u, err)
	}
	es := userEntries(t, e, u.ID)
	if x := es[len(es)-1]; x.Action != app.ActionDirectoryDisable || x.Reason != "not in the directory" {
		t.Fatalf("no disabling entry: %v", actions(es))
	}

	// The periodic sync finds the others: alice disabled in the directory,
	// dave renamed and moved; bob is off already.
	alice, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	srv.AddMember(t, "owners", "dave")
	dave, err := svc.Access.Login(ctx, c, "dave", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	srv.Replace(t, slapdtest.PersonDN("alice"), map[string][]string{"employeeType": {"disabled"}})
	srv.Replace(t, slapdtest.PersonDN("dave"), map[string][]string{"cn": {"戴维斯"}, "departmentNumber": {"一班"}})
	rep, err := svc.Access.SyncDirectory(ctx, "test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep != (app.DirectorySyncReport{Leader: true, Checked: 2, Updated: 1, Disabled: 1}) {
		t.Fatalf("sync report %+v", rep)
	}
	if _, err := svc.Access.Authenticate(ctx, alice.Token); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("alice's token after the sync: %v", err)
	}
	d, err := svc.Access.Authenticate(ctx, dave.Token)
	if err != nil || d.Name != "戴维斯" || d.UnitID != e.Units["一班"].ID {
		t.Fatalf("dave after the sync: %+v %v", d, err)
	}
	// A second pass finds nothing to do.
	if rep, err := svc.Access.SyncDirectory(ctx, "test", time.Minute); err != nil || rep != (app.DirectorySyncReport{Leader: true, Checked: 1}) {
		t.Fatalf("second sync: %+v %v", rep, err)
	}
	// Another instance meanwhile: the lease is taken, it does nothing.
	if rep, err := svc.Access.SyncDirectory(ctx, "other", time.Minute); err != nil || rep != (app.DirectorySyncReport{}) {
		t.Fatalf("sync without the lease: %+v %v", rep, err)
	}
	// An admin enables alice again; the directory still says disabled: refused.
	if _, err := svc.Access.UpdateUser(ctx, e.Caller("admin"), alice.User.ID, app.UserPatch{Disabled: new(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("alice, disabled in the directory: %v", err)
	}
	mustVerifyOK(t, e)
}

func TestDirectoryAndLocalAccountsSideBySide(t *testing.T) {
	t.Parallel()
	srv := slapdtest.Start(t, slapdtest.Options{})
	e, svc := directoryEnv(t, srv)
	ctx := t.Context()
	admin := e.Caller("admin")
	c := app.Caller{IP: "10.5.5.5"}

	// A local account of a directory person's name stays local.
	if _, err := svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "alice", Name: "本地", Password: apptest.Password,
		Roles: []string{"leader"}, UnitID: e.Units["中心"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("the directory password opened a local account: %v", err)
	}
	if res, err := svc.Access.Login(ctx, c, "alice", apptest.Password); err != nil || res.User.Name != "本地" {
		t.Fatalf("local alice: %+v %v", res, err)
	}

	// An admin switches her to the directory: her local password stops, the directory's works.
	local, err := e.DB.Read().Users.GetByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Access.UpdateUser(ctx, admin, local.ID, app.UserPatch{AuthSource: new("ldap")}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Access.Login(ctx, c, "alice", apptest.Password); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("the old local password still works: %v", err)
	}
	res, err := svc.Access.Login(ctx, c, "alice", slapdtest.Password)
	if err != nil || res.User.ID != local.ID || res.User.Name != "王丽" {
		t.Fatalf("alice through the directory: %+v %v", res, err)
	}

	// Pre-provisioned: an admin creates a directory user without a password.
	var v *domain.ValidationError
	if _, err := svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "bob", Name: "Bob", Password: "some password",
		Roles: []string{"owner"}, UnitID: e.Units["中心"].ID, AuthSource: "ldap"}); !errors.As(err, &v) {
		t.Fatalf("a directory user with a password: %v", err)
	}
	bob, err := svc.Access.CreateUser(ctx, admin, app.UserInput{Username: "bob", Name: "Bob", Roles: []string{"owner"},
		UnitID: e.Units["中心"].ID, AuthSource: "ldap"})
	if err != nil {
		t.Fatal(err)
	}
	res, err = svc.Access.Login(ctx, c, "bob", slapdtest.Password)
	if err != nil || res.User.ID != bob.ID || !slices.Equal(res.User.Roles, []domain.Role{domain.RoleVerifier}) {
		t.Fatalf("pre-provisioned bob: %+v %v", res, err)
	}

	// The first admin is always local.
	if _, err := svc.Access.UpdateUser(ctx, admin, e.Users["admin"].ID, app.UserPatch{AuthSource: new("ldap")}); !errors.As(err, &v) {
		t.Fatalf("the first admin switched to the directory: %v", err)
	}
	if _, err := svc.Access.UpdateUser(ctx, admin, bob.ID, app.UserPatch{AuthSource: new("kerberos")}); !errors.As(err, &v) {
		t.Fatalf("an unknown source: %v", err)
	}
}

func TestUnreachableDirectoryLocksNobodyLocalOut(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // only reserved a free port
	e := apptest.New(t)
	d, err := ldapauth.New(ldapauth.Config{URL: "ldap://" + addr, AllowPlain: true, BaseDN: "dc=example,dc=org",
		UserFilter: "(uid={username})", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc := e.Instance(t, wire.WithDirectory(d, app.IdentitySource{DisplayName: "域账号", Mapping: testMapping()}))
	ctx := t.Context()
	if _, err := svc.Access.Login(ctx, app.Caller{IP: "10.6.6.6"}, "alice", "whatever"); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("sign-in with the directory down: %v", err)
	}
	x := lastSystemEntry(t, e)
	if x.Action != app.ActionLogin || x.Outcome != audit.OutcomeRefused {
		t.Fatalf("the refusal is not audited: %+v", x)
	}
	if _, err := svc.Access.Login(ctx, app.Caller{IP: "10.6.6.6"}, "admin", apptest.Password); err != nil {
		t.Fatalf("the local admin with the directory down: %v", err)
	}
	if _, err := svc.Access.SyncDirectory(ctx, "test", time.Minute); err != nil {
		t.Fatalf("a sync without directory users: %v", err)
	}

	// Without a directory configured, a directory user cannot sign in with any password.
	bob, err := e.Svc.Access.CreateUser(ctx, e.Caller("admin"), app.UserInput{Username: "bob", Name: "Bob", Roles: []string{"owner"},
		UnitID: e.Units["中心"].ID, AuthSource: "ldap"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Svc.Access.Login(ctx, app.Caller{IP: "10.6.6.7"}, "bob", ""); err == nil {
		t.Fatal("empty password accepted")
	}
	if _, err := e.Svc.Access.Login(ctx, app.Caller{IP: "10.6.6.7"}, "bob", "x"); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("a directory user without a directory: %v", err)
	}
	if x := lastSystemEntry(t, e); x.Reason != "signs in through ldap, not with a local password; no directory is configured" {
		t.Fatalf("reason %q", x.Reason)
	}
	// With it configured but down, the sync stops at bob with the directory's error.
	if _, err := svc.Access.SyncDirectory(ctx, "test", time.Minute); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("sync with the directory down: %v", err)
	}
	if u, _ := e.DB.Read().Users.Get(ctx, bob.ID); u.Disabled {
		t.Fatal("an unreachable directory disabled a user")
	}
}
