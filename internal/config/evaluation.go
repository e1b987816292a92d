package config

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/rectify-team/rectify/internal/stats"
)

// The monthly evaluation's weights (issue 4).

// weights reads RECTIFY_EVAL_WEIGHTS / -eval-weights: "workload=0.4,accuracy=0.3,..."
// over the defaults.
type weights stats.Weights

func (w *weights) String() string {
	if w == nil {
		return ""
	}
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return fmt.Sprintf("workload=%s,accuracy=%s,timeliness=%s,contribution=%s,general=%s,serious=%s,critical=%s",
		g(w.Workload), g(w.Accuracy), g(w.Timeliness), g(w.Contribution), g(w.General), g(w.Serious), g(w.Critical))
}

func (w *weights) Set(v string) error {
	parsed, err := stats.ParseWeights(v)
	if err != nil {
		return err
	}
	*w = weights(parsed)
	return nil
}

// registerEvaluation adds the evaluation's flag, with its RECTIFY_* default;
// a malformed variable is collected in errs.
func registerEvaluation(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error) {
	c.Evaluation = stats.DefaultWeights()
	if v := getenv("RECTIFY_EVAL_WEIGHTS"); v != "" {
		if err := (*weights)(&c.Evaluation).Set(v); err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_EVAL_WEIGHTS %q: %w", v, err))
		}
	}
	fs.Var((*weights)(&c.Evaluation), "eval-weights",
		"the monthly evaluation's weights, e.g. workload=0.4,accuracy=0.3,timeliness=0.3,contribution=1,general=1,serious=2,critical=3 (RECTIFY_EVAL_WEIGHTS)")
}
