package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

// startupCmd starts the server command several times and measures the time
// from exec to the first 200 from /readyz, then stops it with SIGTERM.
func startupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rectify-load startup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080", "where the started server listens (loopback only)")
	runs := fs.Int("runs", 5, "how many starts to time (1 to 50)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmdline := fs.Args()
	if len(cmdline) == 0 {
		return errors.New("give the server command after --, e.g. -- ./rectify serve")
	}
	if *runs < 1 || *runs > 50 {
		return errors.New("--runs: 1 to 50")
	}
	base, err := loopbackBase(*target)
	if err != nil {
		return err
	}
	ready := base + "/readyz"
	client := &http.Client{Timeout: 500 * time.Millisecond}
	var took []time.Duration
	for i := range *runs {
		if ok, _ := get(client, ready); ok {
			return fmt.Errorf("something already answers on %s; stop it first", ready)
		}
		cmd := exec.CommandContext(ctx, cmdline[0], cmdline[1:]...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var d time.Duration
		for {
			if ok, _ := get(client, ready); ok {
				d = time.Since(start)
				break
			}
			select {
			case err := <-exited:
				return fmt.Errorf("run %d: the server exited before it was ready: %w", i+1, err)
			case <-time.After(2 * time.Millisecond):
			}
			if time.Since(start) > 30*time.Second {
				_ = cmd.Process.Kill()
				return fmt.Errorf("run %d: not ready after 30s", i+1)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // how it stopped is not what this measures
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			err := <-exited
			_ = err // killed: its status says only that
		}
		took = append(took, d)
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintf(stdout, "run %d: ready in %s\n", i+1, d.Round(time.Millisecond))
	}
	slices.Sort(took)
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintf(stdout, `{"kind":"startup","runs":%d,"min_ms":%.1f,"median_ms":%.1f,"max_ms":%.1f}`+"\n", len(took),
		ms(took[0]), ms(took[len(took)/2]), ms(took[len(took)-1]))
	_ = os.Stdout.Sync()
	return nil
}

func get(c *http.Client, url string) (bool, error) {
	res, err := c.Get(url)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode == http.StatusOK, nil
}
