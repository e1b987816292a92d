package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The board's index is loaded at once and refreshed at every tick; a run of
// failures is logged once, and the loop ends with its context.
func TestKeepBoardFresh(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	tick := make(chan time.Time)
	results := []error{nil, nil, errors.New("db down"), errors.New("db down"), errors.New("db down"), nil, nil}
	calls := make(chan int, len(results))
	n := 0
	refresh := func(context.Context) error {
		err := results[n]
		n++
		calls <- n
		return err
	}
	done := make(chan struct{})
	go func() {
		keepBoardFresh(ctx, refresh, tick, log)
		close(done)
	}()
	<-calls // the load, at once
	for i := 1; i < len(results); i++ {
		tick <- time.Time{}
		if got := <-calls; got != i+1 {
			t.Fatalf("tick %d ran refresh %d times", i, got)
		}
	}
	cancel()
	<-done
	out := logs.String()
	if strings.Count(out, "board index loaded") != 1 || strings.Count(out, "not refreshed in the background") != 1 ||
		strings.Count(out, "refreshed again") != 1 {
		t.Fatalf("logs:\n%s", out)
	}
}

// A failed first load is logged as such, and cancelling stops the loop
// without a warning.
func TestKeepBoardFreshFirstLoadFails(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	keepBoardFresh(ctx, func(context.Context) error { cancel(); return errors.New("db down") }, nil, log)
	if out := logs.String(); out != "" {
		t.Fatalf("a cancelled load logged:\n%s", out)
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	tick := make(chan time.Time)
	first := true
	go func() {
		tick <- time.Time{}
		cancel2()
	}()
	keepBoardFresh(ctx2, func(context.Context) error {
		if first {
			first = false
			return errors.New("db down")
		}
		return nil
	}, tick, log)
	if out := logs.String(); !strings.Contains(out, "not loaded ahead") || !strings.Contains(out, "board index loaded") {
		t.Fatalf("logs:\n%s", out)
	}
}
