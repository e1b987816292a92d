package config

import (
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// Escalation, re-check and notification settings (issue 3).

// Notify is the scheduler's and the webhooks' configuration.
type Notify struct {
	Webhooks          []Webhook
	EscalateAfterDays int                       // overdue by more than this many days is escalated (升级督办)
	Rechecks          map[domain.Severity][]int // 回头看 offsets in days after closing, by severity
	SchedulerInterval time.Duration             // how often the scheduler and the dispatcher look for work; 0: no scheduler here
	Instance          string                    // this instance's name in leases and claims; "" for host-pid
}

// Webhook is one entry of RECTIFY_WEBHOOKS; the webhook package checks them
// (Checks.Webhooks) and delivers to them (cmd/rectify converts).
type Webhook struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// parseWebhooks reads RECTIFY_WEBHOOKS, a JSON array; check, when given, is
// the webhook package's own reading of it, with errors by entry and field.
func parseWebhooks(raw string, check func(string) error) ([]Webhook, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	if check != nil {
		if err := check(raw); err != nil {
			return nil, err
		}
	}
	var ws []Webhook
	if err := json.Unmarshal([]byte(raw), &ws); err != nil {
		return nil, fmt.Errorf("RECTIFY_WEBHOOKS: want a JSON array of targets: %w", err)
	}
	return ws, nil
}

// DefaultRecheckDays are the default 回头看 offsets.
const DefaultRecheckDays = "serious=30;critical=30,90"

func registerNotify(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error, checks Checks) {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs.Func("webhooks", `outgoing webhooks, a JSON array of {"name","kind":"dingtalk|wecom|generic","url","secret","events"} (RECTIFY_WEBHOOKS)`,
		func(v string) error {
			ws, err := parseWebhooks(v, checks.Webhooks)
			c.Notify.Webhooks = ws
			return err
		})
	if v := getenv("RECTIFY_WEBHOOKS"); v != "" {
		ws, err := parseWebhooks(v, checks.Webhooks)
		if err != nil {
			*errs = append(*errs, err)
		}
		c.Notify.Webhooks = ws
	}
	c.Notify.EscalateAfterDays = 7
	if v := getenv("RECTIFY_ESCALATE_AFTER_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_ESCALATE_AFTER_DAYS %q: want a whole number of days", v))
		}
		c.Notify.EscalateAfterDays = n
	}
	fs.IntVar(&c.Notify.EscalateAfterDays, "escalate-after-days", c.Notify.EscalateAfterDays,
		"overdue by more than this many days escalates to the unit's leaders and the working group (RECTIFY_ESCALATE_AFTER_DAYS)")

	c.Notify.Rechecks, _ = parseRecheckDays(DefaultRecheckDays)
	if v := getenv("RECTIFY_RECHECK_DAYS"); v != "" {
		r, err := parseRecheckDays(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_RECHECK_DAYS %q: %w", v, err))
		}
		c.Notify.Rechecks = r
	}
	fs.Func("recheck-days", "回头看 after closing, in days by severity, e.g. "+DefaultRecheckDays+", or none (RECTIFY_RECHECK_DAYS)",
		func(v string) error {
			r, err := parseRecheckDays(v)
			c.Notify.Rechecks = r
			return err
		})
	interval := time.Minute
	if v := getenv("RECTIFY_SCHEDULER_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_SCHEDULER_INTERVAL %q: want a duration such as 1m", v))
		}
		interval = d
	}
	fs.DurationVar(&c.Notify.SchedulerInterval, "scheduler-interval", interval,
		"how often escalations, re-check reminders and undelivered webhooks are looked for; 0: this instance never runs the scheduler (RECTIFY_SCHEDULER_INTERVAL)")
	fs.StringVar(&c.Notify.Instance, "instance", env("RECTIFY_INSTANCE", ""),
		"this instance's name in the scheduler's lease and the outbox's claims; default host-pid (RECTIFY_INSTANCE)")
}

// parseRecheckDays reads "serious=30;critical=30,90" (or "none").
func parseRecheckDays(s string) (map[domain.Severity][]int, error) {
	out := map[domain.Severity][]int{}
	if strings.TrimSpace(s) == "none" {
		return out, nil
	}
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, list, ok := strings.Cut(part, "=")
		sev := domain.Severity(strings.TrimSpace(name))
		if !ok || !sev.Valid() {
			return nil, fmt.Errorf("%q: want severity=days,... with severity general, serious or critical", part)
		}
		if _, dup := out[sev]; dup {
			return nil, fmt.Errorf("%s is given twice", sev)
		}
		var days []int
		for d := range strings.SplitSeq(list, ",") {
			if strings.TrimSpace(d) == "" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil || n < 1 || n > 3650 {
				return nil, fmt.Errorf("%s: %q is not a number of days from 1 to 3650", sev, d)
			}
			if slices.Contains(days, n) {
				return nil, fmt.Errorf("%s: %d days is given twice", sev, n)
			}
			days = append(days, n)
		}
		slices.Sort(days)
		out[sev] = days
	}
	return out, nil
}

func validateNotify(c *Config) []error {
	var errs []error
	if c.Notify.EscalateAfterDays < 0 || c.Notify.EscalateAfterDays > 365 {
		errs = append(errs, fmt.Errorf("RECTIFY_ESCALATE_AFTER_DAYS %d: want 0 to 365", c.Notify.EscalateAfterDays))
	}
	if c.Notify.SchedulerInterval != 0 && (c.Notify.SchedulerInterval < time.Second || c.Notify.SchedulerInterval > time.Hour) {
		errs = append(errs, fmt.Errorf("RECTIFY_SCHEDULER_INTERVAL %s: want 1s to 1h, or 0 for no scheduler on this instance", c.Notify.SchedulerInterval))
	}
	if len(c.Notify.Instance) > 60 {
		errs = append(errs, fmt.Errorf("RECTIFY_INSTANCE: at most 60 characters"))
	}
	return errs
}
