// Command rectify-load measures Rectify: it prepares a data set of a given
// size, drives a running server over HTTP on loopback with a closed loop of
// clients, measures the bare database beside it (one row and one audit row a
// transaction), retries writes with an Idempotency-Key and proves from the
// audit trail that each landed once, and reports throughput, latency
// percentiles, errors and the server's memory as a table and as JSON lines.
// See docs/performance.md.
//
//	rectify-load prepare --db URL --problems 1000000
//	rectify-load run --url http://127.0.0.1:8080 --db URL --workload register --clients 16 --duration 10s --limit
//	rectify-load run --url http://127.0.0.1:8080 --db URL --workload lifecycle --retry --lose-answers 10
//	rectify-load startup --url http://127.0.0.1:8080 -- ./rectify serve
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rectify-load:", err)
		os.Exit(1)
	}
}

const usage = `usage: rectify-load prepare|run|startup [flags]

  prepare  create units, users in every role and N problems spread over states,
           categories, units and months (the store's bulk inserts), in the database the server uses
  run      drive a running server on loopback with a workload; --limit also measures the
           bare database beside each write; --retry retries writes with an Idempotency-Key
           and proves each landed exactly once
  startup  start the server command given after --, and time it until /readyz answers 200

Run "rectify-load COMMAND -h" for the flags.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintln(stdout, usage)
		return nil
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "prepare":
		return prepareCmd(ctx, args, getenv, stdout, stderr)
	case "run":
		return runCmd(ctx, args, getenv, stdout, stderr)
	case "startup":
		return startupCmd(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}
