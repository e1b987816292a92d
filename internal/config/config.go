// Package config parses Rectify's configuration once, from flags and
// RECTIFY_* environment variables (flags win), and validates it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// Config is the whole configuration of one process.
type Config struct {
	Addr               string
	DB                 string
	DataDir            string
	AuditKeyFile       string
	AuditLogFile       string        // the checkpoint log outside the database
	AuditMargin        time.Duration // verification's slack beyond the checkpoint interval
	AuditWitness       string        // URL of a witness that co-signs checkpoints; empty: none
	AuditWitnessKey    string        // the witness's note verifier key
	AdminPassword      string
	OrgName            string
	Location           *time.Location
	Demo               bool
	Migrate            bool
	TokenTTL           time.Duration
	CheckpointInterval time.Duration
	ShutdownTimeout    time.Duration
	Deadlines          domain.DeadlinePolicy
	MaxBodyBytes       int64
	MaxUploadBytes     int64             // largest attachment (evidence.go)
	EvidenceRequired   []domain.Severity // severities whose submit needs an attachment
	MaxExtensions      int               // approved extensions per problem
	DBMaxConns         int
	DBTimeout          time.Duration // one statement, or one transaction attempt
	CodeBlock          int           // problem codes reserved at a time by this instance
	PprofAddr          string        // loopback address for /debug/pprof; "" is off
	MetricsAddr        string        // a listener of its own for /metrics; "" is off (metrics.go)
	MetricsToken       string        // bearer token for /metrics; set, also served on Addr
	TrustedProxies     []string
	SecureCookies      bool // the console's cookies are Secure even on plain HTTP (TLS ends at a proxy)
	LogLevel           slog.Level
	LogFormat          string // json or text

	Evaluation stats.Weights // the monthly evaluation's weights (evaluation.go)
	Notify     Notify        // escalations, re-checks and webhooks (notify.go)
	SignIn     SignIn        // LDAP/AD and OpenID Connect sign-in (signin.go)
}

// Checks are the adapters' own checks of their settings: ParseChecked runs
// them beside its own so that every wrong setting is reported at once.
// cmd/rectify passes them, so that config imports none of the packages that
// implement the use cases' ports. A nil check is skipped.
type Checks struct {
	Webhooks func(raw string) error // RECTIFY_WEBHOOKS as given
	LDAP     func(LDAP) error
	OIDC     func(OIDC) error
}

// Parse reads args (after the subcommand) and the environment, without the
// adapters' checks.
func Parse(name string, args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	return ParseChecked(name, args, getenv, stderr, Checks{})
}

// ParseChecked is Parse with the adapters' checks.
func ParseChecked(name string, args []string, getenv func(string) string, stderr io.Writer, checks Checks) (*Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var errs []error
	envBool := func(key string, def bool) bool {
		v := getenv(key)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want true or false", key, v))
		}
		return b
	}
	envInt := func(key string, def int) int {
		v := getenv(key)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want a whole number", key, v))
		}
		return n
	}
	envDuration := func(key string, def time.Duration) time.Duration {
		v := getenv(key)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want a duration such as 30s or 12h", key, v))
		}
		return d
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &Config{}
	var (
		tz, deadlines, proxies, level string
		yellow                        int
	)
	fs.StringVar(&c.Addr, "addr", env("RECTIFY_ADDR", "127.0.0.1:8080"), "listen address (RECTIFY_ADDR)")
	fs.StringVar(&c.DB, "db", env("RECTIFY_DB", "sqlite:rectify.db"), "database: sqlite:PATH or mysql:DSN (RECTIFY_DB)")
	fs.StringVar(&c.DataDir, "data-dir", env("RECTIFY_DATA_DIR", "data"), "directory for attachments and the audit key (RECTIFY_DATA_DIR)")
	fs.StringVar(&c.AuditKeyFile, "audit-key", env("RECTIFY_AUDIT_KEY", ""), "audit checkpoint signing key file; default DATA_DIR/audit.key (RECTIFY_AUDIT_KEY)")
	fs.StringVar(&c.OrgName, "org-name", env("RECTIFY_ORG_NAME", "本单位"), "name of the root unit created on first start (RECTIFY_ORG_NAME)")
	fs.StringVar(&tz, "tz", env("RECTIFY_TZ", "Asia/Shanghai"), "the organisation's time zone for deadlines (RECTIFY_TZ)")
	fs.BoolVar(&c.Demo, "demo", envBool("RECTIFY_DEMO", false), "load demo data into an empty database (RECTIFY_DEMO)")
	fs.BoolVar(&c.Migrate, "migrate", envBool("RECTIFY_MIGRATE", true), "run migrations on start (RECTIFY_MIGRATE)")
	fs.DurationVar(&c.TokenTTL, "token-ttl", envDuration("RECTIFY_TOKEN_TTL", 12*time.Hour), "lifetime of a login token (RECTIFY_TOKEN_TTL)")
	fs.StringVar(&c.AuditLogFile, "audit-log", env("RECTIFY_AUDIT_LOG", ""),
		"append-only log of signed audit checkpoints; default DATA_DIR/audit-checkpoints.log (RECTIFY_AUDIT_LOG)")
	fs.DurationVar(&c.AuditMargin, "audit-margin", envDuration("RECTIFY_AUDIT_MARGIN", time.Minute),
		"slack audit verification allows for clocks and commits beyond the checkpoint interval (RECTIFY_AUDIT_MARGIN)")
	fs.StringVar(&c.AuditWitness, "audit-witness", env("RECTIFY_AUDIT_WITNESS", ""),
		"URL of a witness that co-signs audit checkpoints; off when empty (RECTIFY_AUDIT_WITNESS)")
	fs.StringVar(&c.AuditWitnessKey, "audit-witness-key", env("RECTIFY_AUDIT_WITNESS_KEY", ""),
		"the witness's note verifier key (RECTIFY_AUDIT_WITNESS_KEY)")
	fs.DurationVar(&c.CheckpointInterval, "checkpoint-interval", envDuration("RECTIFY_AUDIT_CHECKPOINT_INTERVAL", time.Minute),
		"how often audit heads are signed (RECTIFY_AUDIT_CHECKPOINT_INTERVAL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("RECTIFY_SHUTDOWN_TIMEOUT", 15*time.Second),
		"how long in-flight requests may finish on shutdown (RECTIFY_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&deadlines, "deadline-days", env("RECTIFY_DEADLINE_DAYS", "30,15,7"), "default days to rectify general,serious,critical problems (RECTIFY_DEADLINE_DAYS)")
	fs.IntVar(&yellow, "yellow-days", envInt("RECTIFY_YELLOW_DAYS", 3), "a deadline within this many days shows yellow (RECTIFY_YELLOW_DAYS)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", int64(envInt("RECTIFY_MAX_BODY", 1<<20)), "largest JSON request body in bytes (RECTIFY_MAX_BODY)")
	registerEvidence(fs, c, getenv, &errs)       // uploads, evidence policy, extensions (evidence.go)
	registerNotify(fs, c, getenv, &errs, checks) // escalations, re-checks, webhooks (notify.go)
	registerEvaluation(fs, c, getenv, &errs)
	registerMetrics(fs, c, env)                    // who may read /metrics (metrics.go)
	signIn := registerSignIn(fs, c, getenv, &errs) // LDAP/AD and OpenID Connect (signin.go)
	fs.IntVar(&c.DBMaxConns, "db-max-conns", envInt("RECTIFY_DB_MAX_CONNS", 0),
		"database connection pool size; 0: 32 on MySQL/MariaDB, 4 on SQLite (RECTIFY_DB_MAX_CONNS)")
	fs.DurationVar(&c.DBTimeout, "db-timeout", envDuration("RECTIFY_DB_TIMEOUT", 10*time.Second),
		"longest wait for one database statement or transaction before answering 503 (RECTIFY_DB_TIMEOUT)")
	fs.IntVar(&c.CodeBlock, "code-block", envInt("RECTIFY_CODE_BLOCK", 100),
		"problem codes this instance reserves at a time; unused ones are gaps (RECTIFY_CODE_BLOCK)")
	fs.StringVar(&c.PprofAddr, "pprof", env("RECTIFY_PPROF", ""),
		"serve /debug/pprof on this loopback address, e.g. 127.0.0.1:6060; off when empty (RECTIFY_PPROF)")
	fs.StringVar(&proxies, "trusted-proxies", env("RECTIFY_TRUSTED_PROXIES", ""), "comma-separated proxies whose X-Forwarded-For is trusted (RECTIFY_TRUSTED_PROXIES)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("RECTIFY_SECURE_COOKIES", false),
		"mark the console's cookies Secure even on plain HTTP, behind a proxy that ends TLS (RECTIFY_SECURE_COOKIES)")
	fs.StringVar(&level, "log-level", env("RECTIFY_LOG_LEVEL", "info"), "debug, info, warn or error (RECTIFY_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("RECTIFY_LOG_FORMAT", "text"), "text or json (RECTIFY_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c.AdminPassword = getenv("RECTIFY_ADMIN_PASSWORD")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		errs = append(errs, fmt.Errorf("RECTIFY_TZ %q: %w", tz, err))
	}
	c.Location = loc
	c.Deadlines = domain.DefaultDeadlinePolicy()
	c.Deadlines.YellowDays = yellow
	if parts := strings.Split(deadlines, ","); len(parts) == 3 {
		for i, dst := range []*int{&c.Deadlines.GeneralDays, &c.Deadlines.SeriousDays, &c.Deadlines.CriticalDays} {
			n, err := strconv.Atoi(strings.TrimSpace(parts[i]))
			if err != nil || n < 1 || n > 3650 {
				errs = append(errs, fmt.Errorf("RECTIFY_DEADLINE_DAYS: %q is not a number of days", parts[i]))
			}
			*dst = n
		}
	} else {
		errs = append(errs, fmt.Errorf("RECTIFY_DEADLINE_DAYS %q: want three numbers, general,serious,critical", deadlines))
	}
	if yellow < 0 || yellow > 365 {
		errs = append(errs, fmt.Errorf("RECTIFY_YELLOW_DAYS %d: want 0 to 365", yellow))
	}
	if !strings.HasPrefix(c.DB, "sqlite:") && !strings.HasPrefix(c.DB, "mysql:") {
		errs = append(errs, errors.New("RECTIFY_DB: want sqlite:PATH or mysql:DSN"))
	}
	if c.TokenTTL < time.Minute {
		errs = append(errs, errors.New("RECTIFY_TOKEN_TTL: at least 1m"))
	}
	if c.CheckpointInterval < time.Second {
		errs = append(errs, errors.New("RECTIFY_AUDIT_CHECKPOINT_INTERVAL: at least 1s"))
	}
	if c.AuditMargin < time.Second || c.AuditMargin > 24*time.Hour {
		errs = append(errs, errors.New("RECTIFY_AUDIT_MARGIN: between 1s and 24h"))
	}
	if (c.AuditWitness == "") != (c.AuditWitnessKey == "") {
		errs = append(errs, errors.New("RECTIFY_AUDIT_WITNESS and RECTIFY_AUDIT_WITNESS_KEY go together"))
	} else if c.AuditWitness != "" && !strings.HasPrefix(c.AuditWitness, "https://") && !strings.HasPrefix(c.AuditWitness, "http://") {
		errs = append(errs, errors.New("RECTIFY_AUDIT_WITNESS: want an http:// or https:// URL"))
	}
	if c.DBMaxConns < 0 {
		errs = append(errs, errors.New("RECTIFY_DB_MAX_CONNS: 0 (by database) or more"))
	}
	if c.DBTimeout < 100*time.Millisecond || c.DBTimeout > 10*time.Minute {
		errs = append(errs, errors.New("RECTIFY_DB_TIMEOUT: between 100ms and 10m"))
	}
	if c.CodeBlock < 1 || c.CodeBlock > 100000 {
		errs = append(errs, errors.New("RECTIFY_CODE_BLOCK: between 1 and 100000"))
	}
	if c.PprofAddr != "" && !loopbackAddr(c.PprofAddr) {
		errs = append(errs, fmt.Errorf("RECTIFY_PPROF %q: want a loopback host:port such as 127.0.0.1:6060 (profiles are not for the network)", c.PprofAddr))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("RECTIFY_MAX_BODY: at least 1024 bytes"))
	}
	errs = append(errs, validateEvidence(c)...)
	errs = append(errs, validateNotify(c)...)
	errs = append(errs, validateMetrics(c)...)
	errs = append(errs, validateSignIn(c, signIn, getenv, checks)...)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, errors.New("RECTIFY_LOG_FORMAT: text or json"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		errs = append(errs, fmt.Errorf("RECTIFY_LOG_LEVEL: %w", err))
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit.key")
	}
	if c.AuditLogFile == "" {
		c.AuditLogFile = filepath.Join(c.DataDir, "audit-checkpoints.log")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}
