package galeratest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	_ "github.com/go-sql-driver/mysql" // the nodes are driven over SQL
)

// What the suite runs: Debian's mariadb-server, galera-4, rsync and haproxy.
const (
	mariadbd      = "/usr/sbin/mariadbd"
	installDB     = "mariadb-install-db"
	galeraLibrary = "/usr/lib/galera/libgalera_smm.so"
	haproxyBinary = "/usr/sbin/haproxy"
)

// requireTools skips the suite unless RECTIFY_GALERA=1, and fails it when
// that is set on CI and a tool is missing: CI must not pass by skipping.
func requireTools(t *testing.T) {
	t.Helper()
	if os.Getenv("RECTIFY_GALERA") != "1" {
		t.Skip("the Galera cluster suite runs with RECTIFY_GALERA=1 (it starts three MariaDB nodes and HAProxy)")
	}
	var missing []string
	for _, f := range []string{mariadbd, galeraLibrary, haproxyBinary} {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	for _, c := range []string{installDB, "rsync", "wsrep_sst_rsync"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "missing " + strings.Join(missing, ", ") + " (apt-get install mariadb-server galera-4 rsync haproxy)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// freePorts returns n TCP ports free on the loopback interface just now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return ports
}

// proc is one process the suite started, stopped by its pid when the test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // once done is closed
}

func startProc(t *testing.T, name string, logFile string, bin string, args []string, env []string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if logFile != "" {
		f, err := os.Create(logFile)
		if err != nil {
			t.Fatal(err)
		}
		p.cmd.Stdout, p.cmd.Stderr = f, f
		t.Cleanup(func() { _ = f.Close() })
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill stops the process by its pid at once (SIGKILL) and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop asks the process to stop (SIGTERM) and waits up to d.
func (p *proc) stop(d time.Duration) error {
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		return fmt.Errorf("%s did not stop within %s", p.name, d)
	}
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// node is one MariaDB Galera node on loopback ports.
type node struct {
	n                         int
	dir                       string
	port, gcomm, ist, sstPort int
	proc                      *proc
}

func (n *node) dsn(db string) string {
	return fmt.Sprintf("root@tcp(127.0.0.1:%d)/%s?timeout=2s&readTimeout=10s&writeTimeout=10s", n.port, db)
}

func (n *node) logFile() string { return filepath.Join(n.dir, "error.log") }

// cluster is three Galera nodes.
type cluster struct {
	t        *testing.T
	nodes    []*node
	user     string // the system user mariadbd runs as ("" when not root)
	template string // a fresh data directory, copied for each server
}

// startCluster makes three data directories and starts the nodes, the first
// bootstrapping the cluster, the others joining it by state transfer (rsync).
func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t}
	root := t.TempDir()
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told, and rsync's SST daemon
		// would then drop to "nobody": run as the package's mysql user, which
		// must reach the data directories.
		if _, err := user.Lookup("mysql"); err != nil {
			t.Fatalf("running as root needs the mysql system user: %v", err)
		}
		c.user = "mysql"
		for d := root; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.template = filepath.Join(root, "template")
	args := []string{"--no-defaults", "--datadir=" + c.template, "--auth-root-authentication-method=normal", "--skip-test-db"}
	if c.user != "" {
		args = append(args, "--user="+c.user)
	}
	if out, err := exec.Command(installDB, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", installDB, err, out)
	}
	ports := freePorts(t, 12)
	var addrs []string
	for i := range 3 {
		n := &node{n: i + 1, dir: filepath.Join(root, "n"+strconv.Itoa(i+1)), port: ports[4*i], gcomm: ports[4*i+1],
			ist: ports[4*i+2], sstPort: ports[4*i+3]}
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.copyTemplate(n)
		c.nodes = append(c.nodes, n)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", n.gcomm))
	}
	address := "gcomm://" + strings.Join(addrs, ",")
	c.start(c.nodes[0], address, true)
	c.waitSynced(c.nodes[0], 60*time.Second)
	for _, n := range c.nodes[1:] {
		c.start(n, address, false)
		c.waitSynced(n, 90*time.Second) // one joiner at a time: one donor, no SST queue
	}
	c.waitSize(3, 30*time.Second)
	return c
}

func (c *cluster) copyTemplate(n *node) {
	c.t.Helper()
	if out, err := exec.Command("cp", "-a", c.template, filepath.Join(n.dir, "data")).CombinedOutput(); err != nil {
		c.t.Fatalf("copy the data directory: %v\n%s", err, out)
	}
	c.chown(n.dir)
}

func (c *cluster) chown(dir string) {
	if c.user == "" {
		return
	}
	if out, err := exec.Command("chown", "-R", c.user+":", dir).CombinedOutput(); err != nil {
		c.t.Fatalf("chown %s: %v\n%s", dir, err, out)
	}
}

func (c *cluster) address() string {
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", n.gcomm))
	}
	return "gcomm://" + strings.Join(addrs, ",")
}

// serverArgs are the settings of every server the suite starts, Galera's aside.
func (c *cluster) serverArgs(n *node) []string {
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(n.dir, "data"), "--socket=" + filepath.Join(n.dir, "sock"),
		"--pid-file=" + filepath.Join(n.dir, "pid"), "--port=" + strconv.Itoa(n.port), "--bind-address=127.0.0.1",
		"--skip-name-resolve", "--log-error=" + n.logFile(), "--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=48M", "--innodb-flush-log-at-trx-commit=2", "--max-connections=400",
		"--binlog-format=ROW", "--default-storage-engine=InnoDB", "--innodb-autoinc-lock-mode=2",
		"--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"}
	if c.user != "" {
		args = append(args, "--user="+c.user)
	}
	return args
}

// start runs the node's mariadbd; bootstrap starts a new cluster.
func (c *cluster) start(n *node, address string, bootstrap bool) {
	c.t.Helper()
	c.startAt(n, address, bootstrap, "")
}

// restart starts a node that was killed, as a deployment's service does
// (Debian's galera_recovery): it first recovers the last position the node
// committed from its data (mariadbd --wsrep-recover) and starts from there,
// so that the node rejoins by an incremental transfer from a donor's cache
// (IST) instead of copying the whole data directory (SST).
func (c *cluster) restart(n *node, address string) {
	c.t.Helper()
	recoverLog := filepath.Join(n.dir, "recover.log")
	_ = os.Remove(recoverLog)
	// mariadbd --wsrep-recover logs the position once InnoDB has recovered;
	// with the node's full settings it may go on to open its port, so it is
	// stopped once the position is logged.
	p := startProc(c.t, fmt.Sprintf("mariadbd n%d --wsrep-recover", n.n), "", mariadbd,
		append(c.nodeArgs(n, address), "--wsrep-recover", "--log-error="+recoverLog), nil)
	var position string
	for deadline := time.Now().Add(60 * time.Second); position == "" && time.Now().Before(deadline); {
		if log, err := os.ReadFile(recoverLog); err == nil {
			position = recoveredPosition(string(log))
		}
		if position == "" && !p.running() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := p.stop(30 * time.Second); err != nil && position != "" {
		c.t.Logf("n%d: mariadbd --wsrep-recover: %v", n.n, err)
	}
	if position == "" {
		c.t.Fatalf("n%d: mariadbd --wsrep-recover logged no position (%v)\n%s\n%s", n.n, p.err, p.out, tail(recoverLog, 20))
	}
	c.t.Logf("n%d recovered position %s", n.n, position)
	c.startAt(n, address, false, position)
}

// recoveredPosition is the "uuid:seqno" that mariadbd --wsrep-recover
// logged, or "" when it logged none.
func recoveredPosition(log string) string {
	const mark = "WSREP: Recovered position: "
	i := strings.LastIndex(log, mark)
	if i < 0 {
		return ""
	}
	fields := strings.Fields(log[i+len(mark):])
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

func (c *cluster) startAt(n *node, address string, bootstrap bool, position string) {
	c.t.Helper()
	args := c.nodeArgs(n, address)
	if bootstrap {
		args = append(args, "--wsrep-new-cluster")
	}
	if position != "" {
		args = append(args, "--wsrep-start-position="+position)
	}
	n.proc = startProc(c.t, fmt.Sprintf("mariadbd n%d", n.n), "", mariadbd, args, nil)
}

// nodeArgs are a node's settings: the server's and Galera's.
func (c *cluster) nodeArgs(n *node, address string) []string {
	return append(c.serverArgs(n),
		"--wsrep-on=ON", "--wsrep-provider="+galeraLibrary, "--wsrep-cluster-name=rectify-test",
		fmt.Sprintf("--wsrep-node-name=n%d", n.n), fmt.Sprintf("--wsrep-node-address=127.0.0.1:%d", n.gcomm),
		"--wsrep-cluster-address="+address,
		fmt.Sprintf("--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:%d;ist.recv_addr=127.0.0.1:%d;gcache.size=128M",
			n.gcomm, n.ist),
		"--wsrep-sst-method=rsync", fmt.Sprintf("--wsrep-sst-receive-address=127.0.0.1:%d", n.sstPort),
		"--wsrep-slave-threads=2")
}

// startStandalone starts a plain MariaDB, no Galera, with the nodes'
// settings and a fresh data directory: the single database the cluster's
// rate is compared with. It is stopped when t ends.
func (c *cluster) startStandalone(t *testing.T) *node {
	t.Helper()
	n := &node{n: 0, dir: filepath.Join(filepath.Dir(c.template), "standalone"), port: freePorts(t, 1)[0]}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.copyTemplate(n)
	n.proc = startProc(t, "mariadbd standalone", "", mariadbd, c.serverArgs(n), nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, _ := sql.Open("mysql", n.dsn(""))
		err := db.Ping()
		_ = db.Close()
		if err == nil {
			return n
		}
		if time.Now().After(deadline) || !n.proc.running() {
			t.Fatalf("standalone mariadbd: %v\n%s", err, tail(n.logFile(), 40))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// status reads a node's wsrep status; an error when it does not answer.
func (n *node) status(ctx context.Context) (map[string]string, error) {
	db, err := sql.Open("mysql", n.dsn(""))
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }()
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS LIKE 'wsrep_%'")
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // read-only
	st := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		st[k] = v
	}
	return st, rows.Err()
}

func (c *cluster) waitSynced(n *node, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		if n.proc != nil && !n.proc.running() {
			c.t.Fatalf("node n%d exited: %v\n%s", n.n, n.proc.err, tail(n.logFile(), 40))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := n.status(ctx)
		cancel()
		if err == nil && st["wsrep_local_state_comment"] == "Synced" && st["wsrep_ready"] == "ON" {
			return
		}
		last = fmt.Sprint(st["wsrep_local_state_comment"], err)
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("node n%d not synced within %s (%s)\n%s", n.n, within, last, tail(n.logFile(), 40))
}

func (c *cluster) waitSize(size int, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := c.nodes[0].status(ctx)
		cancel()
		if err == nil && st["wsrep_cluster_size"] == strconv.Itoa(size) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("the cluster did not reach %d nodes within %s", size, within)
}

// exec runs statements on one node.
func (n *node) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db, err := sql.Open("mysql", n.dsn(""))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("n%d: %s: %v", n.n, s, err)
		}
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// haproxyConfig is the suite's rendering of deploy/haproxy.cfg: one
// frontend per Rectify instance, each sending its connections to one node
// (the others are backups), so that the two instances write through two
// different nodes as two application servers would.
var haproxyConfig = template.Must(template.New("haproxy").Parse(`global
    maxconn 2000
    log stderr format raw local0 notice

defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 2s
    log global

{{range $i, $f := .Frontends}}
listen mariadb-{{$i}}
    bind 127.0.0.1:{{$f.Port}}
    option mysql-check user haproxy_check post-41
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
{{range $f.Servers}}    server n{{.N}} 127.0.0.1:{{.Port}} check{{if .Backup}} backup{{end}}
{{end}}{{end}}`))

type haproxyServer struct {
	N, Port int
	Backup  bool
}

type haproxyFrontend struct {
	Port    int
	Servers []haproxyServer
}

// startHAProxy starts HAProxy with one frontend per preferred node; it
// returns the frontends' ports.
func startHAProxy(t *testing.T, c *cluster, preferred ...int) []int {
	t.Helper()
	c.nodes[0].exec(t, "CREATE USER IF NOT EXISTS 'haproxy_check'@'127.0.0.1'")
	ports := freePorts(t, len(preferred))
	var fronts []haproxyFrontend
	for i, p := range preferred {
		f := haproxyFrontend{Port: ports[i]}
		for _, n := range c.nodes {
			f.Servers = append(f.Servers, haproxyServer{N: n.n, Port: n.port, Backup: n.n != p})
		}
		fronts = append(fronts, f)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	var b bytes.Buffer
	if err := haproxyConfig.Execute(&b, map[string]any{"Frontends": fronts}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(haproxyBinary, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s\n%s", err, out, b.String())
	}
	p := startProc(t, "haproxy", "", haproxyBinary, []string{"-db", "-f", cfg}, nil)
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range ports {
		for {
			db, _ := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/?timeout=1s", port))
			err := db.Ping()
			_ = db.Close()
			if err == nil {
				break
			}
			if time.Now().After(deadline) || !p.running() {
				t.Fatalf("haproxy on %d: %v\n%s", port, err, p.out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return ports
}
