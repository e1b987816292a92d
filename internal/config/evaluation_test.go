package config

import (
	"io"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/stats"
)

func TestEvaluationWeights(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := Parse("serve", nil, env(nil), io.Discard)
	if err != nil || c.Evaluation != stats.DefaultWeights() {
		t.Fatalf("defaults: %v %+v", err, c.Evaluation)
	}
	c, err = Parse("serve", nil, env(map[string]string{"RECTIFY_EVAL_WEIGHTS": "workload=0.5,accuracy=0.5,timeliness=0,critical=4"}), io.Discard)
	if err != nil || c.Evaluation.Workload != 0.5 || c.Evaluation.Timeliness != 0 || c.Evaluation.Critical != 4 || c.Evaluation.Serious != 2 {
		t.Fatalf("from the environment: %v %+v", err, c.Evaluation)
	}
	c, err = Parse("serve", []string{"-eval-weights", "contribution=2"}, env(map[string]string{"RECTIFY_EVAL_WEIGHTS": "contribution=5"}), io.Discard)
	if err != nil || c.Evaluation.Contribution != 2 {
		t.Fatalf("the flag wins: %v %+v", err, c.Evaluation)
	}
	_, err = Parse("serve", nil, env(map[string]string{"RECTIFY_EVAL_WEIGHTS": "speed=1"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RECTIFY_EVAL_WEIGHTS") {
		t.Fatalf("a bad variable: %v", err)
	}
}
