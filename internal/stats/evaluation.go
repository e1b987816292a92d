package stats

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/domain"
)

// Weights configure the monthly evaluation. The score is
//
//	Workload × (workload ÷ the month's highest workload × 100)
//	+ Accuracy × (accuracy × 100) + Timeliness × (timeliness × 100)
//	+ Contribution × contribution points
//
// and workload weighs each closed problem by its severity.
type Weights struct {
	Workload     float64 `json:"workload"`
	Accuracy     float64 `json:"accuracy"`
	Timeliness   float64 `json:"timeliness"`
	Contribution float64 `json:"contribution"`
	General      float64 `json:"general"`
	Serious      float64 `json:"serious"`
	Critical     float64 `json:"critical"`
}

// DefaultWeights: workload 40 %, accuracy 30 %, timeliness 30 %, each
// contribution point one point of score; severities weigh 1, 2 and 3.
func DefaultWeights() Weights {
	return Weights{Workload: 0.4, Accuracy: 0.3, Timeliness: 0.3, Contribution: 1, General: 1, Serious: 2, Critical: 3}
}

// ParseWeights reads "workload=0.4,accuracy=0.3,..." over the defaults; keys
// left out keep their default.
func ParseWeights(s string) (Weights, error) {
	w := DefaultWeights()
	fields := map[string]*float64{"workload": &w.Workload, "accuracy": &w.Accuracy, "timeliness": &w.Timeliness,
		"contribution": &w.Contribution, "general": &w.General, "serious": &w.Serious, "critical": &w.Critical}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		dst, known := fields[strings.TrimSpace(k)]
		if !ok || !known {
			return w, fmt.Errorf("%q: want key=number with key one of workload, accuracy, timeliness, contribution, general, serious, critical", part)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return w, fmt.Errorf("%q: %s is not a number", part, v)
		}
		*dst = f
	}
	return w, w.Validate()
}

// Validate checks that the weights make a score.
func (w Weights) Validate() error {
	var errs []error
	for name, v := range map[string]float64{"workload": w.Workload, "accuracy": w.Accuracy, "timeliness": w.Timeliness,
		"contribution": w.Contribution} {
		if v < 0 || v > 100 {
			errs = append(errs, fmt.Errorf("weight %s %g: want 0 to 100", name, v))
		}
	}
	for name, v := range map[string]float64{"general": w.General, "serious": w.Serious, "critical": w.Critical} {
		if v <= 0 || v > 100 {
			errs = append(errs, fmt.Errorf("severity weight %s %g: want more than 0, at most 100", name, v))
		}
	}
	if w.Workload+w.Accuracy+w.Timeliness == 0 {
		errs = append(errs, errors.New("weights: workload, accuracy and timeliness cannot all be 0"))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Severity returns the workload weight of one closed problem of severity s.
func (w Weights) Severity(s domain.Severity) float64 {
	switch s {
	case domain.SeverityCritical:
		return w.Critical
	case domain.SeveritySerious:
		return w.Serious
	}
	return w.General
}

// Formula renders the score's definition with these weights, for people.
func (w Weights) Formula() string {
	g := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return "score = " + g(w.Workload) + " × workload ÷ highest workload of the month × 100" +
		" + " + g(w.Accuracy) + " × accuracy × 100" +
		" + " + g(w.Timeliness) + " × timeliness × 100" +
		" + " + g(w.Contribution) + " × contribution points; " +
		"workload = Σ problems closed in the month × severity weight (general " + g(w.General) +
		", serious " + g(w.Serious) + ", critical " + g(w.Critical) + "); " +
		"accuracy = problems closed without a send-back ÷ problems closed; " +
		"timeliness = (closed problems submitted by their deadline + acceptances within one working day) ÷ " +
		"(problems closed + acceptances in the month); an undefined share counts 0; " +
		"ties share a rank"
}

// Facts are what one person or unit did in one month.
type Facts struct {
	ID     int64  // user or unit
	Name   string // display name
	UnitID int64  // a person's unit; 0 for units

	ClosedGeneral  int // problems closed in the month, by severity
	ClosedSerious  int
	ClosedCritical int
	FirstPass      int     // of those, closed without any send-back (退回)
	OnTime         int     // of those, last submitted on or before the deadline
	Accepts        int     // acceptances (签收) in the month
	PromptAccepts  int     // of those, within one working day of the assignment
	Contribution   float64 // special-contribution points awarded for the month
}

// Closed is the number of problems closed in the month.
func (f Facts) Closed() int { return f.ClosedGeneral + f.ClosedSerious + f.ClosedCritical }

// Result is one scored, ranked line of the evaluation.
type Result struct {
	Facts
	Workload   float64  // severity-weighted closures
	Accuracy   *float64 // nil when nothing was closed
	Timeliness *float64 // nil when nothing was closed or accepted
	Score      float64  // rounded to two decimals
	Rank       int      // 1 for the best; equal scores share a rank (1, 2, 2, 4)
}

// Evaluate scores and ranks the facts of one month and one level (persons or
// units). The result is ordered by rank, then name, then id.
func Evaluate(facts []Facts, w Weights) []Result {
	out := make([]Result, len(facts))
	highest := 0.0
	for i, f := range facts {
		r := Result{Facts: f}
		r.Workload = Round(float64(f.ClosedGeneral)*w.General+float64(f.ClosedSerious)*w.Serious+
			float64(f.ClosedCritical)*w.Critical, 4)
		r.Accuracy = Rate(int64(f.FirstPass), int64(f.Closed()))
		r.Timeliness = Rate(int64(f.OnTime+f.PromptAccepts), int64(f.Closed()+f.Accepts))
		highest = max(highest, r.Workload)
		out[i] = r
	}
	for i := range out {
		r := &out[i]
		score := w.Contribution * r.Contribution
		if highest > 0 {
			score += w.Workload * r.Workload / highest * 100
		}
		if r.Accuracy != nil {
			score += w.Accuracy * *r.Accuracy * 100
		}
		if r.Timeliness != nil {
			score += w.Timeliness * *r.Timeliness * 100
		}
		r.Score = Round(score, 2)
	}
	slices.SortStableFunc(out, func(a, b Result) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for i := range out {
		if i > 0 && out[i].Score == out[i-1].Score {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i + 1
		}
	}
	return out
}

// ModelWorkers returns the month's 标兵: everyone ranked first, when the first
// score is above zero. Several share the title on a tie.
func ModelWorkers(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Rank == 1 && r.Score > 0 {
			out = append(out, r)
		}
	}
	return out
}

// Improvement is a rise in score against the previous month.
type Improvement struct {
	Result
	PreviousScore float64
	Rise          float64
}

// MostImproved returns the month's 进步之星: the largest rise in score against
// the previous month among those evaluated in both, when that rise is above
// zero. Several share the title on a tie.
func MostImproved(current, previous []Result) []Improvement {
	prev := map[int64]float64{}
	for _, r := range previous {
		prev[r.ID] = r.Score
	}
	var out []Improvement
	best := 0.0
	for _, r := range current {
		p, ok := prev[r.ID]
		if !ok {
			continue
		}
		rise := Round(r.Score-p, 2)
		switch {
		case rise <= 0 || rise < best:
			continue
		case rise > best:
			best, out = rise, nil
		}
		out = append(out, Improvement{Result: r, PreviousScore: p, Rise: rise})
	}
	return out
}
