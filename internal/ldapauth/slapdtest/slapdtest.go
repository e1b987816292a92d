// Package slapdtest runs a throwaway OpenLDAP server (Debian's slapd) for
// tests: a slapd.conf and an mdb database in t.TempDir(), a free loopback
// port, a small tree, and the process killed by its pid when the test ends.
// Without slapd the test is skipped, except in CI (CI=true), where it fails.
package slapdtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rectify-team/rectify/internal/ldapauth"
)

// The tree every server starts with.
const (
	BaseDN          = "dc=example,dc=org"
	AdminDN         = "cn=admin," + BaseDN
	AdminPassword   = "admin-secret"
	ServiceDN       = "cn=rectify,ou=services," + BaseDN
	ServicePassword = "service-secret"
	PeopleDN        = "ou=people," + BaseDN
	GroupsDN        = "ou=groups," + BaseDN
	// Password is every person's password.
	Password = "directory pass 1"
)

// People of the tree: two departments (ou=一班 and ou=二班 under ou=部门),
// people in groups, one disabled person, one in no mapped group.
//
//	alice  一班  owners, inspectors
//	bob    二班  verifiers
//	carol  一班  owners, disabled (employeeType: disabled)
//	dave   二班  staff (a group no role maps to)
var People = []string{"alice", "bob", "carol", "dave"}

// Groups of the tree, as cn under ou=groups.
var Groups = map[string][]string{
	"owners":     {"alice", "carol"},
	"inspectors": {"alice"},
	"verifiers":  {"bob"},
	"staff":      {"dave"},
}

// Units of the people, as the OU under ou=部门,ou=people.
var Units = map[string]string{"alice": "一班", "bob": "二班", "carol": "一班", "dave": "二班"}

// Server is a running slapd.
type Server struct {
	URL    string // ldap://127.0.0.1:PORT
	Addr   string
	CAPool *x509.CertPool // the throwaway CA of the server's certificate (TLS servers)
	CAFile string
	dir    string
}

// Options choose the server's set-up.
type Options struct {
	TLS bool // a certificate for 127.0.0.1 from a throwaway CA, for StartTLS
}

// Binary returns slapd's path, skipping the test (failing in CI) without it.
func Binary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"slapd", "/usr/sbin/slapd"} {
		if path, err := exec.LookPath(p); err == nil {
			if _, err := os.Stat("/etc/ldap/schema/inetorgperson.schema"); err == nil {
				return path
			}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("slapd (Debian packages slapd and ldap-utils) is required in CI for the directory tests")
	}
	t.Skip("slapd is not installed (apt-get install slapd ldap-utils); the directory tests need it")
	return ""
}

// Start runs slapd with the tree above and stops it when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir}
	var tlsConf string
	if opt.TLS {
		tlsConf = s.writeCerts(t)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
%[2]s
database mdb
maxsize 10485760
suffix "%[3]s"
rootdn "%[4]s"
rootpw %[5]s
directory %[1]s/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
`, dir, tlsConf, BaseDN, AdminDN, AdminPassword)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.URL = "ldap://" + s.Addr
		cmd := exec.Command(bin, "-d", "0", "-f", confPath, "-h", s.URL+"/")
		cmd.Dir = dir
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start slapd: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill() // by its pid; it is ours
			err := <-exited
			_ = err // killed: its status says only that
		})
		if lastErr = waitListening(s.Addr, exited); lastErr == nil {
			s.load(t)
			return s
		}
		lastErr = fmt.Errorf("%w\n%s", lastErr, out.String())
	}
	t.Fatalf("slapd did not start: %v", lastErr)
	return nil
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(addr string, exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("slapd exited: %w", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close() // only probed that it listens
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("slapd does not listen on %s", addr)
}

// writeCerts makes a CA and a certificate for 127.0.0.1 and returns the
// slapd.conf lines that use them.
func (s *Server) writeCerts(t testing.TB) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rectify test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s.CAFile = write("ca.pem", "CERTIFICATE", caDER)
	certFile := write("cert.pem", "CERTIFICATE", der)
	keyFile := write("key.pem", "PRIVATE KEY", keyDER)
	s.CAPool = x509.NewCertPool()
	s.CAPool.AddCert(ca)
	return fmt.Sprintf("TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", s.CAFile, certFile, keyFile)
}

// Admin returns a connection bound as the directory's root, for changing the tree.
func (s *Server) Admin(t testing.TB) *ldap.Conn {
	t.Helper()
	conn, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Bind(AdminDN, AdminPassword); err != nil {
		_ = conn.Close() // failing anyway
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// PersonDN is the DN of one of People.
func PersonDN(uid string) string {
	return "uid=" + uid + ",ou=" + Units[uid] + ",ou=部门," + PeopleDN
}

// GroupDN is the DN of one of Groups.
func GroupDN(cn string) string { return "cn=" + cn + "," + GroupsDN }

func (s *Server) load(t testing.TB) {
	t.Helper()
	conn := s.Admin(t)
	add := func(dn string, attrs map[string][]string) {
		t.Helper()
		req := ldap.NewAddRequest(dn, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := conn.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	ou := func(dn, name string) {
		add(dn, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {name}})
	}
	add(BaseDN, map[string][]string{"objectClass": {"dcObject", "organization"}, "dc": {"example"}, "o": {"Example"}})
	ou("ou=services,"+BaseDN, "services")
	add(ServiceDN, map[string][]string{"objectClass": {"organizationalRole", "simpleSecurityObject"}, "cn": {"rectify"},
		"userPassword": {ServicePassword}})
	ou(PeopleDN, "people")
	ou("ou=部门,"+PeopleDN, "部门")
	ou("ou=一班,ou=部门,"+PeopleDN, "一班")
	ou("ou=二班,ou=部门,"+PeopleDN, "二班")
	ou(GroupsDN, "groups")
	names := map[string]string{"alice": "王丽", "bob": "李博", "carol": "陈卡", "dave": "戴维"}
	for _, uid := range People {
		attrs := map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {uid}, "cn": {names[uid]}, "sn": {uid},
			"departmentNumber": {Units[uid]}, "userPassword": {Password}}
		if uid == "carol" {
			attrs["employeeType"] = []string{"disabled"}
		}
		add(PersonDN(uid), attrs)
	}
	for cn, members := range Groups {
		var dns []string
		for _, m := range members {
			dns = append(dns, PersonDN(m))
		}
		add(GroupDN(cn), map[string][]string{"objectClass": {"groupOfNames"}, "cn": {cn}, "member": dns})
	}
}

// Config is a directory configuration for this server: groups by search,
// the unit from departmentNumber, employeeType=disabled as disabled, and a
// plain connection allowed (TLS servers: StartTLS with the throwaway CA).
func (s *Server) Config() ldapauth.Config {
	c := ldapauth.Config{URL: s.URL, AllowPlain: s.CAPool == nil, StartTLS: s.CAPool != nil, RootCAs: s.CAPool,
		BindDN: ServiceDN, BindPassword: ServicePassword, BaseDN: PeopleDN, UserFilter: "(&(objectClass=inetOrgPerson)(uid={username}))",
		NameAttr: "cn", GroupBaseDN: GroupsDN, GroupFilter: "(&(objectClass=groupOfNames)(member={dn}))",
		UnitAttr: "departmentNumber", DisabledFilter: "(employeeType=disabled)", Timeout: 5 * time.Second}
	return c
}

// Replace sets attributes of an entry.
func (s *Server) Replace(t testing.TB, dn string, attrs map[string][]string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	for k, v := range attrs {
		req.Replace(k, v)
	}
	if err := s.Admin(t).Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

// AddMember puts a person into a group; RemoveMember takes them out.
func (s *Server) AddMember(t testing.TB, group, uid string) {
	t.Helper()
	req := ldap.NewModifyRequest(GroupDN(group), nil)
	req.Add("member", []string{PersonDN(uid)})
	if err := s.Admin(t).Modify(req); err != nil {
		t.Fatalf("add %s to %s: %v", uid, group, err)
	}
}

// RemoveMember takes a person out of a group.
func (s *Server) RemoveMember(t testing.TB, group, uid string) {
	t.Helper()
	req := ldap.NewModifyRequest(GroupDN(group), nil)
	req.Delete("member", []string{PersonDN(uid)})
	if err := s.Admin(t).Modify(req); err != nil {
		t.Fatalf("remove %s from %s: %v", uid, group, err)
	}
}

// Delete removes an entry (a person leaving the organisation).
func (s *Server) Delete(t testing.TB, dn string) {
	t.Helper()
	if err := s.Admin(t).Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatalf("delete %s: %v", dn, err)
	}
}
