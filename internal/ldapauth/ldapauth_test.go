package ldapauth_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/ldapauth"
	"github.com/rectify-team/rectify/internal/ldapauth/slapdtest"
)

func newDir(t *testing.T, cfg ldapauth.Config) *ldapauth.Directory {
	t.Helper()
	d, err := ldapauth.New(cfg)
	if err != nil {
		t.Fatalf("ldapauth.New: %v", err)
	}
	return d
}

func TestAuthenticateAgainstSlapd(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{})
	d := newDir(t, srv.Config())
	ctx := context.Background()
	if err := d.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}

	p, err := d.Authenticate(ctx, "alice", slapdtest.Password)
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	if p.Name != "王丽" || p.Subject != slapdtest.PersonDN("alice") || !slices.Equal(p.Unit, []string{"一班"}) {
		t.Errorf("alice read as %+v", p)
	}
	groups := slices.Clone(p.Groups)
	slices.Sort(groups)
	if want := []string{slapdtest.GroupDN("inspectors"), slapdtest.GroupDN("owners")}; !slices.Equal(groups, want) {
		t.Errorf("alice's groups %v, want %v", groups, want)
	}

	for _, tc := range []struct {
		name, user, password string
		want                 error
	}{
		{"wrong password", "alice", "not her password", app.ErrDirectoryRefused},
		{"empty password", "alice", "", app.ErrDirectoryRefused},
		{"unknown person", "zed", slapdtest.Password, app.ErrNotInDirectory},
		{"disabled person", "carol", slapdtest.Password, app.ErrDisabledInDirectory},
		// The filter is escaped: without it, "*)(uid=*" would match everyone.
		{"injection", "*)(uid=*", slapdtest.Password, app.ErrNotInDirectory},
		{"wildcard", "*", slapdtest.Password, app.ErrNotInDirectory},
		{"injection closing the filter", "alice)(|(uid=*", slapdtest.Password, app.ErrNotInDirectory},
		// Unescaped, these would match alice alone and sign her in.
		{"injection matching one", "alice)(uid=*", slapdtest.Password, app.ErrNotInDirectory},
		{"prefix wildcard", "ali*", slapdtest.Password, app.ErrNotInDirectory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Authenticate(ctx, tc.user, tc.password)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}

	// Lookup reads without the password; a change in the directory shows.
	srv.Replace(t, slapdtest.PersonDN("bob"), map[string][]string{"cn": {"李博士"}, "departmentNumber": {"一班"}})
	p, err = d.Lookup(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "李博士" || !slices.Equal(p.Unit, []string{"一班"}) {
		t.Errorf("bob after the change: %+v", p)
	}
	srv.Delete(t, slapdtest.PersonDN("bob"))
	if _, err := d.Lookup(ctx, "bob"); !errors.Is(err, app.ErrNotInDirectory) {
		t.Errorf("bob after removal: %v", err)
	}
}

func TestUnitFromOUPathAndMemberOfStyleGroups(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{})
	cfg := srv.Config()
	cfg.UnitAttr, cfg.UnitFromOU = "", true
	// Groups read from an attribute of the entry (AD's memberOf); here the
	// attribute is one the test sets by hand.
	cfg.GroupAttr, cfg.GroupFilter = "description", ""
	srv.Replace(t, slapdtest.PersonDN("dave"), map[string][]string{"description": {"cn=Auditors,ou=groups,dc=example,dc=org", "leaders"}})
	d := newDir(t, cfg)
	p, err := d.Authenticate(context.Background(), "dave", slapdtest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"people", "部门", "二班"}; !slices.Equal(p.Unit, want) {
		t.Errorf("unit path %v, want %v", p.Unit, want)
	}
	if want := []string{"cn=Auditors,ou=groups,dc=example,dc=org", "leaders"}; !slices.Equal(p.Groups, want) {
		t.Errorf("groups %v, want %v", p.Groups, want)
	}
}

func TestStartTLSWithThrowawayCA(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.Options{TLS: true})
	ctx := context.Background()
	d := newDir(t, srv.Config())
	if _, err := d.Authenticate(ctx, "alice", slapdtest.Password); err != nil {
		t.Fatalf("StartTLS sign-in: %v", err)
	}
	// The CA from a file works as well as a pool.
	cfg := srv.Config()
	cfg.RootCAs, cfg.CAFile = nil, srv.CAFile
	if _, err := newDir(t, cfg).Authenticate(ctx, "alice", slapdtest.Password); err != nil {
		t.Fatalf("StartTLS with the CA file: %v", err)
	}
	// A certificate from an unknown CA is the directory's failure, not the person's.
	cfg = srv.Config()
	cfg.RootCAs = nil
	if _, err := newDir(t, cfg).Authenticate(ctx, "alice", slapdtest.Password); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestPlainConnectionsOnlyWhenAllowed(t *testing.T) {
	base := ldapauth.Config{URL: "ldap://127.0.0.1:389", BaseDN: "dc=example,dc=org", UserFilter: "(uid={username})"}
	if _, err := ldapauth.New(base); err == nil || !strings.Contains(err.Error(), "plain") {
		t.Fatalf("a plain ldap:// URL without StartTLS was accepted: %v", err)
	}
	ok := base
	ok.AllowPlain = true
	if _, err := ldapauth.New(ok); err != nil {
		t.Fatalf("plain, explicitly allowed: %v", err)
	}
	ok = base
	ok.StartTLS = true
	if _, err := ldapauth.New(ok); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	for name, c := range map[string]ldapauth.Config{
		"ldaps with StartTLS": {URL: "ldaps://h", StartTLS: true, BaseDN: "dc=x", UserFilter: "(uid={username})"},
		"no placeholder":      {URL: "ldaps://h", BaseDN: "dc=x", UserFilter: "(uid=alice)"},
		"bad filter":          {URL: "ldaps://h", BaseDN: "dc=x", UserFilter: "(uid={username}"},
		"no base":             {URL: "ldaps://h", UserFilter: "(uid={username})"},
		"http URL":            {URL: "http://h", BaseDN: "dc=x", UserFilter: "(uid={username})"},
		"missing CA file":     {URL: "ldaps://h", BaseDN: "dc=x", UserFilter: "(uid={username})", CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := ldapauth.New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUnreachableDirectory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	d := newDir(t, ldapauth.Config{URL: "ldap://" + addr, AllowPlain: true, BaseDN: "dc=example,dc=org",
		UserFilter: "(uid={username})", Timeout: 2 * time.Second})
	ctx := context.Background()
	if err := d.Check(ctx); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Errorf("check: %v", err)
	}
	if _, err := d.Authenticate(ctx, "alice", "x"); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Errorf("authenticate: %v", err)
	}
	if _, err := d.Lookup(ctx, "alice"); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Errorf("lookup: %v", err)
	}

	// A wrong service password is the directory's set-up failing, not the person.
	srv := slapdtest.Start(t, slapdtest.Options{})
	cfg := srv.Config()
	cfg.BindPassword = "wrong"
	if _, err := newDir(t, cfg).Authenticate(ctx, "alice", slapdtest.Password); !errors.Is(err, app.ErrDirectoryUnavailable) {
		t.Errorf("wrong service password: %v", err)
	}
}
