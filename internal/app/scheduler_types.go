package app

import (
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

// NotifyConfig holds the policies of escalation, re-checks and webhook delivery.
type NotifyConfig struct {
	EscalateAfterDays int                       // M: overdue by more than this many days is escalated
	Rechecks          map[domain.Severity][]int // re-checks after closing, in days, by severity
	SchedulerLease    time.Duration             // how long one pass holds the scheduler's lease
	ClaimFor          time.Duration             // how long a dispatcher holds the messages it claimed
	RetryBase         time.Duration             // the first retry's delay; it doubles per attempt
	RetryMax          time.Duration             // the longest delay between attempts
	Batch             int                       // problems, re-checks or messages handled per step
}

// DefaultNotifyConfig: escalate after 7 days overdue; re-check serious
// problems 30 days after closing, critical ones after 30 and 90; retry
// webhooks after 10 s, doubling up to 30 min.
func DefaultNotifyConfig() NotifyConfig {
	return NotifyConfig{
		EscalateAfterDays: 7,
		Rechecks:          map[domain.Severity][]int{domain.SeveritySerious: {30}, domain.SeverityCritical: {30, 90}},
		SchedulerLease:    2 * time.Minute, ClaimFor: time.Minute,
		RetryBase: 10 * time.Second, RetryMax: 30 * time.Minute, Batch: 100,
	}
}

// BatchSize is Batch, or 100 when unset.
func (c NotifyConfig) BatchSize() int {
	if c.Batch <= 0 {
		return 100
	}
	return c.Batch
}

// SchedulerLease is the lease's name.
const SchedulerLease = "scheduler"

// SchedulerReport is what one pass did.
type SchedulerReport struct {
	Leader   bool           // this instance held the lease and did the pass
	Raised   map[string]int // crossings raised, by kind
	Reminded int            // re-check reminders sent
}
