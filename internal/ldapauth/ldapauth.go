// Package ldapauth signs people in against an LDAP directory (OpenLDAP,
// Active Directory): it searches for the person with a service account, then
// binds as them with their password. It implements access.Directory.
package ldapauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/access"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rectify-team/rectify/internal/app"
)

// Config says where the directory is and how to read a person from it.
type Config struct {
	URL        string // ldaps://host:636 or ldap://host:389
	StartTLS   bool   // upgrade an ldap:// connection with StartTLS
	AllowPlain bool   // allow ldap:// without StartTLS: passwords cross the network in clear
	CAFile     string // PEM bundle of the CAs the server's certificate must chain to; "" for the system's
	RootCAs    *x509.CertPool
	// BindDN and BindPassword are the service account that searches; empty
	// for an anonymous search.
	BindDN       string
	BindPassword string
	BaseDN       string // where people are searched (subtree)
	// UserFilter finds one person; {username} is replaced by the escaped
	// username, e.g. (uid={username}) or, on AD, (sAMAccountName={username}).
	UserFilter string
	NameAttr   string // the display name, e.g. cn or displayName
	// GroupAttr lists a person's groups on their entry (AD's memberOf); when
	// empty, groups are searched under GroupBaseDN with GroupFilter, where
	// {dn} is the person's escaped DN, e.g. (member={dn}).
	GroupAttr   string
	GroupBaseDN string
	GroupFilter string
	// UnitAttr names the attribute holding the person's unit (e.g.
	// departmentNumber, department); when empty and UnitFromOU is set, the
	// OUs of the person's DN are the unit's path.
	UnitAttr   string
	UnitFromOU bool
	// DisabledFilter matches a person's entry that may not sign in, e.g.
	// (pwdAccountLockedTime=*) or, on AD, (userAccountControl:1.2.840.113556.1.4.803:=2).
	DisabledFilter string
	Timeout        time.Duration // per connection and per request; default 10s
}

// Directory is an LDAP directory. It keeps no connection: each sign-in or
// lookup dials, binds and closes.
type Directory struct {
	cfg    Config
	tls    *tls.Config
	scheme string
	addr   string
}

var _ access.Directory = (*Directory)(nil)

// New checks the configuration; it does not connect (see Check).
func New(cfg Config) (*Directory, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return nil, fmt.Errorf("LDAP URL %q: want ldaps://host[:636] or ldap://host[:389]", cfg.URL)
	}
	switch {
	case u.Scheme == "ldaps" && cfg.StartTLS:
		return nil, errors.New("LDAP: StartTLS is for ldap:// URLs; ldaps:// is TLS already")
	case u.Scheme == "ldap" && !cfg.StartTLS && !cfg.AllowPlain:
		return nil, fmt.Errorf("LDAP URL %q is a plain connection: use ldaps://, or StartTLS, or allow plain connections explicitly", cfg.URL)
	}
	if cfg.BaseDN == "" {
		return nil, errors.New("LDAP: a base DN is required")
	}
	if !strings.Contains(cfg.UserFilter, "{username}") {
		return nil, fmt.Errorf("LDAP user filter %q: it must contain {username}", cfg.UserFilter)
	}
	if cfg.GroupAttr == "" && cfg.GroupFilter != "" && !strings.Contains(cfg.GroupFilter, "{dn}") {
		return nil, fmt.Errorf("LDAP group filter %q: it must contain {dn}", cfg.GroupFilter)
	}
	for _, f := range []string{cfg.UserFilter, cfg.GroupFilter, cfg.DisabledFilter} {
		if f == "" {
			continue
		}
		probe := strings.NewReplacer("{username}", "x", "{dn}", "x").Replace(f)
		if _, err := ldap.CompileFilter(probe); err != nil {
			return nil, fmt.Errorf("LDAP filter %q: %w", f, err)
		}
	}
	if cfg.NameAttr == "" {
		cfg.NameAttr = "cn"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	pool := cfg.RootCAs
	if pool == nil && cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("LDAP CA file: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("LDAP CA file %s: no PEM certificate in it", cfg.CAFile)
		}
	}
	tc := &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	addr := u.Host
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	return &Directory{cfg: cfg, tls: tc, scheme: u.Scheme, addr: addr}, nil
}

// unavailable marks a failure of the directory rather than of the person.
func unavailable(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", app.ErrDirectoryUnavailable, what, err)
}

// connect dials, secures and binds as the service account.
func (d *Directory) connect(ctx context.Context) (*ldap.Conn, error) {
	dialer := &net.Dialer{Timeout: d.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok {
		dialer.Deadline = dl
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(dialer)}
	if d.scheme == "ldaps" {
		opts = append(opts, ldap.DialWithTLSConfig(d.tls))
	}
	conn, err := ldap.DialURL(d.scheme+"://"+d.addr, opts...)
	if err != nil {
		return nil, unavailable("connect to "+d.addr, err)
	}
	conn.SetTimeout(d.cfg.Timeout)
	if d.cfg.StartTLS {
		if err := conn.StartTLS(d.tls); err != nil {
			_ = conn.Close()
			return nil, unavailable("StartTLS with "+d.addr, err)
		}
	}
	if err := d.bindService(conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

func (d *Directory) bindService(conn *ldap.Conn) error {
	var err error
	if d.cfg.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(d.cfg.BindDN, d.cfg.BindPassword)
	}
	if err != nil {
		return unavailable("bind as the service account "+d.cfg.BindDN, err)
	}
	return nil
}

// Check connects and binds as the service account: at start, so that a
// wrong URL, certificate or service password shows in the log at once.
func (d *Directory) Check(ctx context.Context) error {
	conn, err := d.connect(ctx)
	if err != nil {
		return err
	}
	return conn.Close()
}

// Authenticate finds the person, refuses them if disabled, reads their
// groups and unit, then binds as them with the password.
func (d *Directory) Authenticate(ctx context.Context, username, password string) (*app.DirectoryPerson, error) {
	if password == "" { // an empty password is an unauthenticated bind, which "succeeds"
		return nil, app.ErrDirectoryRefused
	}
	conn, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	p, err := d.person(conn, username)
	if err != nil {
		return nil, err
	}
	if err := conn.Bind(p.Subject, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) ||
			ldap.IsErrorWithCode(err, ldap.LDAPResultInappropriateAuthentication) ||
			ldap.IsErrorWithCode(err, ldap.LDAPResultConstraintViolation) { // e.g. a locked password policy
			return nil, fmt.Errorf("%w: %w", app.ErrDirectoryRefused, err)
		}
		return nil, unavailable("bind as "+p.Subject, err)
	}
	return p, nil
}

// Lookup reads a person with the service account only.
func (d *Directory) Lookup(ctx context.Context, username string) (*app.DirectoryPerson, error) {
	conn, err := d.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	return d.person(conn, username)
}

func (d *Directory) person(conn *ldap.Conn, username string) (*app.DirectoryPerson, error) {
	filter := strings.ReplaceAll(d.cfg.UserFilter, "{username}", ldap.EscapeFilter(username))
	attrs := []string{d.cfg.NameAttr}
	if d.cfg.GroupAttr != "" {
		attrs = append(attrs, d.cfg.GroupAttr)
	}
	if d.cfg.UnitAttr != "" {
		attrs = append(attrs, d.cfg.UnitAttr)
	}
	res, err := conn.Search(ldap.NewSearchRequest(d.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(d.cfg.Timeout.Seconds()), false, filter, attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("%w: %q matches more than one entry", app.ErrNotInDirectory, username)
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, fmt.Errorf("%w: the base DN %s does not exist", app.ErrNotInDirectory, d.cfg.BaseDN)
	}
	if err != nil {
		return nil, unavailable("search for "+username, err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, fmt.Errorf("%w: %q", app.ErrNotInDirectory, username)
	case 1:
	default:
		return nil, fmt.Errorf("%w: %q matches more than one entry", app.ErrNotInDirectory, username)
	}
	e := res.Entries[0]
	if d.cfg.DisabledFilter != "" {
		dis, err := conn.Search(ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, int(d.cfg.Timeout.Seconds()), false, d.cfg.DisabledFilter, []string{"1.1"}, nil))
		if err != nil {
			return nil, unavailable("disabled check of "+e.DN, err)
		}
		if len(dis.Entries) > 0 {
			return nil, fmt.Errorf("%w: %s", app.ErrDisabledInDirectory, e.DN)
		}
	}
	p := &app.DirectoryPerson{Username: username, Name: e.GetAttributeValue(d.cfg.NameAttr), Subject: e.DN}
	switch {
	case d.cfg.GroupAttr != "":
		p.Groups = e.GetAttributeValues(d.cfg.GroupAttr)
	case d.cfg.GroupFilter != "":
		base := d.cfg.GroupBaseDN
		if base == "" {
			base = d.cfg.BaseDN
		}
		gf := strings.ReplaceAll(d.cfg.GroupFilter, "{dn}", ldap.EscapeFilter(e.DN))
		gs, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, int(d.cfg.Timeout.Seconds()), false, gf, []string{"1.1"}, nil))
		if err != nil {
			return nil, unavailable("group search for "+e.DN, err)
		}
		for _, g := range gs.Entries {
			p.Groups = append(p.Groups, g.DN)
		}
	}
	switch {
	case d.cfg.UnitAttr != "":
		if v := strings.TrimSpace(e.GetAttributeValue(d.cfg.UnitAttr)); v != "" {
			p.Unit = []string{v}
		}
	case d.cfg.UnitFromOU:
		p.Unit = ouPath(e.DN)
	}
	return p, nil
}

// ouPath returns the OUs of a DN, outermost first.
func ouPath(dn string) []string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return nil
	}
	var out []string
	for _, rdn := range parsed.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "ou") {
				out = append(out, a.Value)
			}
		}
	}
	slices.Reverse(out)
	return out
}
