package main

import (
	"context"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/config"
	"github.com/rectify-team/rectify/internal/webhook"
)

// notifyPolicies carries the escalation and re-check settings into the
// service's config and returns the webhooks' option, if any are configured.
func notifyPolicies(cfg *config.Config, appCfg *app.Config) []wire.Option {
	appCfg.Notify.EscalateAfterDays = cfg.Notify.EscalateAfterDays
	appCfg.Notify.Rechecks = cfg.Notify.Rechecks
	if len(cfg.Notify.Webhooks) == 0 {
		return nil
	}
	sender := webhook.New(&http.Client{Timeout: webhookTimeout}, nil)
	return []wire.Option{wire.WithWebhooks(webhook.NewHooks(webhookTargets(cfg.Notify.Webhooks), sender))}
}

// webhookTimeout bounds one delivery attempt; the outbox's claim (a minute) outlasts it.
const webhookTimeout = 10 * time.Second

// instanceName names this process in the scheduler's lease and the outbox's claims.
func instanceName(cfg *config.Config) string {
	if cfg.Notify.Instance != "" {
		return cfg.Notify.Instance
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "rectify"
	}
	name := fmt.Sprintf("%s-%d", host, os.Getpid())
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return name
}

// schedulerLoop runs a scheduler pass every interval; only the instance
// holding the lease does the work (notify.Service.Tick).
func schedulerLoop(ctx context.Context, svc *wire.Services, holder string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := svc.Notify.Tick(ctx, holder)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("scheduler pass failed", "err", err)
		case len(rep.Raised) > 0 || rep.Reminded > 0:
			log.Info("scheduler pass", "raised", rep.Raised, "rechecks_reminded", rep.Reminded)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// dispatchLoop delivers the outbox: at once when events were written, and
// every few seconds for retries that fell due and messages other instances
// left behind.
func dispatchLoop(ctx context.Context, svc *wire.Services, holder string, every time.Duration, log *slog.Logger) {
	if n, err := svc.Notify.ReleaseClaims(ctx, holder); err != nil {
		log.Warn("release the outbox claims of an earlier run", "err", err)
	} else if n > 0 {
		log.Info("outbox claims of an earlier run released", "instance", holder, "count", n)
	}
	poll := 5 * time.Second
	if every > 0 {
		poll = min(every, poll)
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for {
			rep, err := svc.Notify.Dispatch(ctx, holder)
			if err != nil && ctx.Err() == nil {
				log.Warn("webhook dispatch failed", "err", err)
			}
			if err != nil || rep.Claimed == 0 || rep.Delivered+rep.Failed < rep.Claimed {
				break
			}
			if rep.Claimed < svc.Core.Config().Notify.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-svc.Notify.OutboxSignal():
		}
	}
}
