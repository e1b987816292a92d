// Package stats holds the pure computations behind the progress board (作风看板),
// the trend, the monthly evaluation and the discipline reports: rates,
// percentiles, calendar periods, working days, scoring and ranking. It knows
// nothing of databases or HTTP; app feeds it facts and renders what it returns.
package stats

import (
	"math"
	"strconv"
	"strings"
)

// Rate returns num ÷ den rounded to four decimals, or nil when den is zero:
// a rate of nothing is unknown, not 0 % and not 100 %.
func Rate(num, den int64) *float64 {
	if den <= 0 {
		return nil
	}
	r := Round(float64(num)/float64(den), 4)
	return &r
}

// Round rounds x to n decimals, halves away from zero.
func Round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}

// NearestRank returns the 1-based rank of the p-th percentile (0 < p ≤ 1) of n
// sorted values by the nearest-rank method: ⌈p·n⌉. It returns 0 when n is 0.
func NearestRank(n int64, p float64) int64 {
	if n <= 0 {
		return 0
	}
	r := int64(math.Ceil(p*float64(n) - 1e-9))
	return max(1, min(r, n))
}

// RollUp sums per-node figures into every ancestor of the node, using the
// materialised paths of the tree ("/1/4/9/" is node 9 below 4 below 1). The
// result holds, for every node with anything in its subtree, the subtree's sum.
func RollUp[T any](paths map[int64]string, direct map[int64]T, add func(dst *T, src T)) map[int64]T {
	out := map[int64]T{}
	for id, v := range direct {
		path, ok := paths[id]
		if !ok {
			path = "/" + strconv.FormatInt(id, 10) + "/"
		}
		for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
			anc, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				continue
			}
			sum := out[anc]
			add(&sum, v)
			out[anc] = sum
		}
	}
	return out
}

// KthSmallest returns the k-th smallest (1-based) of xs by quickselect, in
// linear time on average; it reorders xs. It panics when k is out of range.
func KthSmallest(xs []int64, k int) int64 {
	lo, hi, want := 0, len(xs)-1, k-1
	for lo < hi {
		// Median of three as the pivot keeps sorted input linear.
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case want <= j:
			hi = j
		case want >= i:
			lo = i
		default:
			return xs[want]
		}
	}
	return xs[want]
}
