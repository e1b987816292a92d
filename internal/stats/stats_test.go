package stats

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
)

func f(x float64) *float64 { return &x }

func eqRate(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		num, den int64
		want     *float64
	}{
		{1, 3, f(0.3333)}, {2, 3, f(0.6667)}, {0, 5, f(0)}, {5, 5, f(1)}, {1, 8, f(0.125)}, {3, 0, nil}, {0, 0, nil},
	} {
		if got := Rate(c.num, c.den); !eqRate(got, c.want) {
			t.Errorf("Rate(%d, %d) = %v, want %v", c.num, c.den, got, c.want)
		}
	}
}

func TestNearestRank(t *testing.T) {
	for _, c := range []struct {
		n    int64
		p    float64
		want int64
	}{
		{0, 0.9, 0}, {1, 0.9, 1}, {2, 0.9, 2}, {10, 0.9, 9}, {11, 0.9, 10}, {20, 0.9, 18}, {100, 0.5, 50}, {3, 1, 3},
	} {
		if got := NearestRank(c.n, c.p); got != c.want {
			t.Errorf("NearestRank(%d, %g) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}

func TestRollUp(t *testing.T) {
	paths := map[int64]string{1: "/1/", 2: "/1/2/", 3: "/1/2/3/", 4: "/1/4/"}
	got := RollUp(paths, map[int64]int{3: 5, 4: 2, 2: 1}, func(dst *int, src int) { *dst += src })
	want := map[int64]int{1: 8, 2: 6, 3: 5, 4: 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RollUp = %v, want %v", got, want)
	}
}

func TestMonth(t *testing.T) {
	for _, bad := range []string{"", "2026-3", "2026-13", "2026-00", "26-03", "2026-03-01", "２０２６-03", "1899-12"} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("ParseMonth(%q) accepted", bad)
		}
	}
	m, err := ParseMonth("2026-01")
	if err != nil {
		t.Fatal(err)
	}
	if m.Prev().String() != "2025-12" || m.Next().String() != "2026-02" || m.Prev().Next() != m {
		t.Errorf("prev/next of %s: %s %s", m, m.Prev(), m.Next())
	}
	if m.First().String() != "2026-01-01" || m.Last().String() != "2026-01-31" {
		t.Errorf("first/last %s %s", m.First(), m.Last())
	}
	if (Month{2024, time.February}).Last().String() != "2024-02-29" {
		t.Error("leap February")
	}
	sh := time.FixedZone("CST", 8*3600)
	if got := m.Start(sh).UTC(); !got.Equal(time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("start in Shanghai = %v", got)
	}
	if got := m.End(sh).UTC(); !got.Equal(time.Date(2026, 1, 31, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("end in Shanghai = %v", got)
	}
	if !m.Before(m.Next()) || m.Before(m) || m.Next().Before(m) {
		t.Error("Before")
	}
}

func TestPeriods(t *testing.T) {
	d := func(y int, m time.Month, day int) domain.Date { return domain.NewDate(y, m, day) }
	for _, c := range []struct {
		g     Granularity
		day   domain.Date
		label string
		start string
	}{
		{ByWeek, d(2026, 3, 4), "2026-W10", "2026-03-02"}, // a Wednesday
		{ByWeek, d(2026, 3, 8), "2026-W10", "2026-03-02"}, // its Sunday
		{ByWeek, d(2026, 3, 9), "2026-W11", "2026-03-09"}, // the next Monday
		{ByWeek, d(2026, 1, 1), "2026-W01", "2025-12-29"}, // ISO week 1 begins in December
		{ByWeek, d(2024, 12, 31), "2025-W01", "2024-12-30"},
		{ByMonth, d(2026, 2, 28), "2026-02", "2026-02-01"},
	} {
		p := PeriodOf(c.g, c.day)
		if p.Label != c.label || p.Start.String() != c.start {
			t.Errorf("PeriodOf(%s, %s) = %+v, want %s from %s", c.g, c.day, p, c.label, c.start)
		}
	}
	ps := Periods(ByWeek, d(2026, 3, 2), d(2026, 3, 18))
	if len(ps) != 3 || ps[2].Label != "2026-W12" || ps[2].End.String() != "2026-03-23" {
		t.Errorf("weeks %+v", ps)
	}
	ms := Periods(ByMonth, d(2025, 11, 15), d(2026, 2, 1))
	var labels []string
	for _, p := range ms {
		labels = append(labels, p.Label)
	}
	if strings.Join(labels, " ") != "2025-11 2025-12 2026-01 2026-02" {
		t.Errorf("months %v", labels)
	}
}

func TestWorkingDays(t *testing.T) {
	d := func(day int) domain.Date { return domain.NewDate(2026, 3, day) } // 2026-03-02 is a Monday
	if NextWorkingDay(d(6)) != d(9) || NextWorkingDay(d(7)) != d(9) || NextWorkingDay(d(8)) != d(9) || NextWorkingDay(d(2)) != d(3) {
		t.Error("NextWorkingDay")
	}
	for _, c := range []struct {
		assigned, accepted int
		late               bool
		days               int
	}{
		{2, 2, false, 0}, {2, 3, false, 0}, {2, 4, true, 1}, // Monday: accept by Tuesday
		{6, 9, false, 0}, {6, 10, true, 1}, {6, 13, true, 4}, // Friday: accept by Monday
		{7, 9, false, 0}, {8, 9, false, 0}, {7, 10, true, 1}, // the weekend: by Monday
	} {
		late, days := AcceptedLate(d(c.assigned), d(c.accepted))
		if late != c.late || days != c.days {
			t.Errorf("assigned 3-%02d accepted 3-%02d: late %v by %d, want %v by %d", c.assigned, c.accepted, late, days, c.late, c.days)
		}
	}
}

func TestParseWeights(t *testing.T) {
	w, err := ParseWeights("workload=0.5, accuracy=0.25,timeliness=0.25,critical=5")
	if err != nil {
		t.Fatal(err)
	}
	want := Weights{Workload: 0.5, Accuracy: 0.25, Timeliness: 0.25, Contribution: 1, General: 1, Serious: 2, Critical: 5}
	if w != want {
		t.Errorf("got %+v, want %+v", w, want)
	}
	if w, err := ParseWeights(""); err != nil || w != DefaultWeights() {
		t.Errorf("empty: %+v %v", w, err)
	}
	for _, bad := range []string{"speed=1", "workload", "workload=x", "workload=-1", "general=0",
		"workload=0,accuracy=0,timeliness=0"} {
		if _, err := ParseWeights(bad); err == nil {
			t.Errorf("ParseWeights(%q) accepted", bad)
		}
	}
	if !strings.Contains(DefaultWeights().Formula(), "0.4 × workload") {
		t.Errorf("formula: %s", DefaultWeights().Formula())
	}
}

func TestEvaluateByHand(t *testing.T) {
	w := DefaultWeights()
	facts := []Facts{
		// a: 2 general + 1 critical = 5; first pass 2/3; on time 3, prompt 1 of 2 → (3+1)/(3+2) = 0.8
		//    0.4×100 + 0.3×66.67 + 0.3×80 = 40 + 20.001 + 24 = 84.00
		{ID: 1, Name: "a", ClosedGeneral: 2, ClosedCritical: 1, FirstPass: 2, OnTime: 3, Accepts: 2, PromptAccepts: 1},
		// b: 1 serious = 2; first pass 1/1; on time 0, no acceptances → 0/1; 4 points
		//    0.4×40 + 0.3×100 + 0 + 4 = 16 + 30 + 4 = 50
		{ID: 2, Name: "b", ClosedSerious: 1, FirstPass: 1, Contribution: 4},
		// c: nothing closed, 2 prompt acceptances → timeliness 1; 0.3×100 + 20 points = 50, ties with b
		{ID: 3, Name: "c", Accepts: 2, PromptAccepts: 2, Contribution: 20},
		// d: nothing at all
		{ID: 4, Name: "d"},
	}
	got := Evaluate(facts, w)
	want := []struct {
		name       string
		workload   float64
		accuracy   *float64
		timeliness *float64
		score      float64
		rank       int
	}{
		{"a", 5, f(0.6667), f(0.8), 84, 1},
		{"b", 2, f(1), f(0), 50, 2},
		{"c", 0, nil, f(1), 50, 2},
		{"d", 0, nil, nil, 0, 4},
	}
	for i, w := range want {
		r := got[i]
		if r.Name != w.name || r.Workload != w.workload || !eqRate(r.Accuracy, w.accuracy) ||
			!eqRate(r.Timeliness, w.timeliness) || r.Score != w.score || r.Rank != w.rank {
			t.Errorf("result %d = %+v (acc %v, time %v), want %+v", i, r, r.Accuracy, r.Timeliness, w)
		}
	}
	if mw := ModelWorkers(got); len(mw) != 1 || mw[0].Name != "a" {
		t.Errorf("model workers %+v", mw)
	}
	// Custom weights: only the contribution and timeliness count.
	only := Weights{Timeliness: 1, Contribution: 2, General: 1, Serious: 1, Critical: 1}
	got = Evaluate(facts, only)
	if got[0].Name != "c" || got[0].Score != 140 || got[1].Name != "a" || got[1].Score != 80 {
		t.Errorf("custom weights: %+v", got)
	}
	// Nobody scored: everyone ranks first and nobody is 标兵.
	got = Evaluate([]Facts{{ID: 1, Name: "x"}, {ID: 2, Name: "y"}}, w)
	if got[0].Rank != 1 || got[1].Rank != 1 || len(ModelWorkers(got)) != 0 {
		t.Errorf("all zero: %+v", got)
	}
	if len(Evaluate(nil, w)) != 0 {
		t.Error("no facts")
	}
}

func TestMostImproved(t *testing.T) {
	res := func(id int64, score float64) Result {
		return Result{Facts: Facts{ID: id, Name: string(rune('a' + id))}, Score: score}
	}
	prev := []Result{res(1, 50), res(2, 30), res(3, 80), res(4, 10)}
	cur := []Result{res(1, 60), res(2, 50), res(3, 70), res(4, 30), res(5, 99)} // 5 is new: not eligible
	got := MostImproved(cur, prev)
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 4 || got[0].Rise != 20 || got[0].PreviousScore != 30 {
		t.Errorf("ties at +20: %+v", got)
	}
	if got := MostImproved([]Result{res(1, 40)}, []Result{res(1, 50)}); len(got) != 0 {
		t.Errorf("a fall is no improvement: %+v", got)
	}
	if got := MostImproved(cur, nil); len(got) != 0 {
		t.Errorf("no previous month: %+v", got)
	}
}

func TestKthSmallest(t *testing.T) {
	for _, xs := range [][]int64{{5}, {3, 1, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
		{4, 4, 4, 1, 1, 9, 9, 2}, {7, 7, 7, 7}} {
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		for k := 1; k <= len(xs); k++ {
			if got := KthSmallest(slices.Clone(xs), k); got != sorted[k-1] {
				t.Errorf("KthSmallest(%v, %d) = %d, want %d", xs, k, got, sorted[k-1])
			}
		}
	}
	r := make([]int64, 10001)
	for i := range r {
		r[i] = int64((i * 7919) % 10007)
	}
	sorted := slices.Clone(r)
	slices.Sort(sorted)
	if got := KthSmallest(r, 9001); got != sorted[9000] {
		t.Errorf("large: %d, want %d", got, sorted[9000])
	}
}
