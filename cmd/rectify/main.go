// Command rectify runs the Rectify server (rectify serve, the default) or
// applies database migrations (rectify migrate).
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // deadlines need the zone database even on minimal images

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/notify"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/audit/witness"
	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/demo"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/ledger"
	"github.com/rectify-team/rectify/internal/store"
)

// The scheduler keeps the list's lights through the store it is given only
// if the store has the method; this keeps the two in step.
var _ notify.LightKeeper = (*store.DB)(nil)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rectify:", err)
		os.Exit(1)
	}
}

const usage = `usage: rectify [serve|migrate] [flags]

  serve    run the server (the default); --demo loads demo data into an empty database
  migrate  apply pending database migrations and exit

Run "rectify serve -h" for the flags; each has a RECTIFY_* environment variable.`

// run is the whole program, testable without a process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate":
	case "help":
		// help on a closed stdout has no one to tell
		_, _ = fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	cfg, err := config.ParseChecked("rectify "+cmd, args, getenv, stderr, adapterChecks()) // adapters.go
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := store.Open(ctx, cfg.DB, store.Options{MaxOpenConns: cfg.DBMaxConns, Logger: log, QueryTimeout: cfg.DBTimeout,
		CodeBlock: cfg.CodeBlock})
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Warn("closing the database", "err", err)
			return
		}
		log.Info("database closed")
	}()
	if cmd == "migrate" {
		return db.Migrate(ctx)
	}
	return serve(ctx, cfg, db, log, stdout)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfg *config.Config, db *store.DB, log *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	if cfg.Migrate {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	keys, err := audit.LoadOrCreateKeys(cfg.AuditKeyFile, "rectify-audit")
	if err != nil {
		return err
	}
	metrics := httpapi.NewMetrics(db.SQL())
	appCfg := app.DefaultConfig()
	appCfg.Location, appCfg.Deadlines, appCfg.TokenTTL = cfg.Location, cfg.Deadlines, cfg.TokenTTL
	appCfg.Evaluation = cfg.Evaluation
	appCfg.TxWithin = cfg.DBTimeout // bounds every transaction attempt (store.Options.QueryTimeout)
	appCfg.CheckpointEvery, appCfg.AuditMargin = cfg.CheckpointInterval, cfg.AuditMargin
	blobs, err := evidencePolicies(cfg, &appCfg) // evidence.go
	if err != nil {
		return err
	}
	cplog := audit.NewLog(cfg.AuditLogFile, keys)
	opts := append([]wire.Option{wire.WithLogger(log), wire.WithMetrics(metrics), wire.WithBlobs(blobs), wire.WithCheckpointLog(cplog)},
		notifyPolicies(cfg, &appCfg)...) // notify.go
	signIn, err := signInOptions(ctx, cfg, log) // signin.go: LDAP/AD, OpenID Connect
	if err != nil {
		return err
	}
	opts = append(opts, signIn...)
	if cfg.AuditWitness != "" {
		w, err := witness.NewClient(cfg.AuditWitness, cfg.AuditWitnessKey)
		if err != nil {
			return err
		}
		opts = append(opts, wire.WithWitness(w))
	}
	svc := wire.New(db, keys, appCfg, append(opts, wire.WithWorkbookReader(ledger.Parse))...)

	created, generated, err := svc.Access.Bootstrap(ctx, cfg.OrgName, cfg.AdminPassword)
	if err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	if created && generated != "" {
		// Shown only here: if it cannot be shown, nobody can sign in as admin.
		if _, err := fmt.Fprintf(stdout, "\nFirst start: created user \"admin\" with the generated password\n\n    %s\n\n"+
			"It is shown only this once. Set RECTIFY_ADMIN_PASSWORD to choose it instead.\n\n", generated); err != nil {
			return fmt.Errorf("show the generated admin password: %w", err)
		}
	}
	if cfg.Demo {
		if err := demo.Load(ctx, db, keys, appCfg, stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	// What was left unsigned by a crash is signed now, and checkpoints the log
	// lacks (signed while it was away, or before it existed) are copied to it.
	if _, err := svc.Trail.Checkpoint(ctx); err != nil {
		log.Warn("audit checkpoint at start failed", "checkpoint_log", cfg.AuditLogFile, "err", err)
	}

	handler, err := httpapi.New(httpapi.ServicesOf(svc), httpapi.Options{Logger: log, Metrics: metrics, MetricsToken: cfg.MetricsToken,
		MaxBodyBytes: cfg.MaxBodyBytes, MaxUploadBytes: cfg.MaxUploadBytes, TrustedProxies: cfg.TrustedProxies})
	if err != nil {
		return err
	}
	if handler, err = withConsole(handler, svc, cfg, log); err != nil { // console.go
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}

	stopPprof, err := startPprof(cfg.PprofAddr, log)
	if err != nil {
		return err
	}
	defer stopPprof()
	stopMetrics, err := startMetrics(cfg.MetricsAddr, cfg.MetricsToken, metrics, log) // metrics.go
	if err != nil {
		return err
	}
	defer stopMetrics()

	loops := &background{log: log}
	defer loops.wait() // after stopBG below, before the database closes
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	loops.run("checkpoint", func() { checkpointLoop(bg, svc, cfg.CheckpointInterval, log) })
	loops.run("purge", func() { idempotencyPurgeLoop(bg, svc, log) }) // evidence.go
	loops.run("board", func() { warmBoard(bg, svc, log) })            // board.go
	loops.run("memory", func() { memoryLimitLoop(bg, log) })          // memory.go
	instance := instanceName(cfg)                                     // notify.go
	if cfg.Notify.SchedulerInterval > 0 {
		loops.run("scheduler", func() { schedulerLoop(bg, svc, instance, cfg.Notify.SchedulerInterval, log) })
	} else {
		log.Info("no scheduler on this instance (RECTIFY_SCHEDULER_INTERVAL=0): escalations and re-check reminders run elsewhere")
	}
	loops.run("dispatcher", func() { dispatchLoop(bg, svc, instance, cfg.Notify.SchedulerInterval, log) })
	if cfg.SignIn.LDAP != nil && cfg.SignIn.SyncInterval > 0 {
		loops.run("directory-sync", func() { directorySyncLoop(bg, svc, instance, cfg.SignIn.SyncInterval, log) }) // signin.go
	}
	if extra, ok := ctx.Value(extraLoopKey{}).(func(context.Context)); ok {
		loops.run("extra", func() { extra(bg) })
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("rectify serving", "addr", ln.Addr().String(), "db", db.Dialect(), "tz", cfg.Location.String(),
		"audit_key", keys.VerifierKey(), "startup", time.Since(start).Round(time.Millisecond))
	// the log says it too; stdout may be closed
	_, _ = fmt.Fprintf(stdout, "Rectify is listening on http://%s/ (the console; the API is at /api/v1)\n", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopBG()
	loops.wait()
	// The scheduler's lease goes to whichever instance's next pass comes first.
	if cfg.Notify.SchedulerInterval > 0 {
		if err := svc.Notify.ReleaseScheduler(shutdownCtx, instance); err != nil {
			log.Warn("scheduler lease not given up; it runs out by itself", "err", err)
		}
	}
	// A last checkpoint so that a clean stop leaves every head signed.
	if _, err := svc.Trail.Checkpoint(shutdownCtx); err != nil {
		log.Warn("final audit checkpoint failed", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// extraLoopKey carries, in a test's context only, one more loop for serve to
// run: one that takes its time to return once stopped, as a pass in progress
// would, so that the test can see serve wait for it.
type extraLoopKey struct{}

// background runs serve's loops. serve waits for every one to return before
// the database closes, so that none finds a closed pool mid-pass.
type background struct {
	wg  sync.WaitGroup
	log *slog.Logger
}

func (b *background) run(name string, loop func()) {
	b.wg.Go(func() {
		defer b.log.Info("background loop stopped", "loop", name)
		loop()
	})
}

// wait returns once every loop has; a second call returns at once.
func (b *background) wait() { b.wg.Wait() }

// checkpointLoop signs the audit heads periodically.
func checkpointLoop(ctx context.Context, svc *wire.Services, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			cp, err := svc.Trail.Checkpoint(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("audit checkpoint failed", "err", err)
			case cp != nil:
				log.Debug("audit checkpoint", "number", cp.Number, "heads", len(cp.Heads))
			}
		}
	}
}
