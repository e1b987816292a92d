package config

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestNotifySettings(t *testing.T) {
	c, err := Parse("rectify serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n := c.Notify
	if n.EscalateAfterDays != 7 || n.SchedulerInterval != time.Minute || n.Instance != "" || len(n.Webhooks) != 0 ||
		!slices.Equal(n.Rechecks[domain.SeveritySerious], []int{30}) || !slices.Equal(n.Rechecks[domain.SeverityCritical], []int{30, 90}) ||
		len(n.Rechecks[domain.SeverityGeneral]) != 0 {
		t.Fatalf("defaults: %+v", n)
	}
	c, err = Parse("rectify serve", []string{"--escalate-after-days", "3"}, env(map[string]string{
		"RECTIFY_ESCALATE_AFTER_DAYS": "10", "RECTIFY_RECHECK_DAYS": "general=60; critical=90,30,7",
		"RECTIFY_SCHEDULER_INTERVAL": "0", "RECTIFY_INSTANCE": "pod-1",
		"RECTIFY_WEBHOOKS": `[{"name":"oa","kind":"generic","url":"https://oa.example.cn/hook","secret":"s"}]`}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n = c.Notify
	if n.EscalateAfterDays != 3 || n.SchedulerInterval != 0 || n.Instance != "pod-1" || len(n.Webhooks) != 1 ||
		!slices.Equal(n.Rechecks[domain.SeverityCritical], []int{7, 30, 90}) || !slices.Equal(n.Rechecks[domain.SeverityGeneral], []int{60}) ||
		len(n.Rechecks[domain.SeveritySerious]) != 0 {
		t.Fatalf("set: %+v", n)
	}
	if c, err := Parse("rectify serve", nil, env(map[string]string{"RECTIFY_RECHECK_DAYS": "none"}), io.Discard); err != nil || len(c.Notify.Rechecks) != 0 {
		t.Fatalf("none: %v %+v", err, c.Notify.Rechecks)
	}
	for k, v := range map[string]string{
		"RECTIFY_ESCALATE_AFTER_DAYS": "soon",
		"RECTIFY_RECHECK_DAYS":        "serious=30;serious=60",
		"RECTIFY_SCHEDULER_INTERVAL":  "500ms",
		"RECTIFY_WEBHOOKS":            `{"name":"oa"}`,
		"RECTIFY_INSTANCE":            strings.Repeat("x", 61),
	} {
		if _, err := Parse("rectify serve", nil, env(map[string]string{k: v}), io.Discard); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	for _, v := range []string{"grave=30", "serious=0", "serious=30,30", "serious", "critical=x"} {
		if _, err := parseRecheckDays(v); err == nil {
			t.Errorf("RECTIFY_RECHECK_DAYS=%s was accepted", v)
		}
	}
}
