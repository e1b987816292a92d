package main

import "testing"

func TestSoftLimit(t *testing.T) {
	for _, c := range []struct{ live, want int64 }{
		{0, 64 << 20},
		{20 << 20, 64 << 20},
		{80 << 20, 80<<20 + 10<<20 + 24<<20},
		{1 << 30, 1<<30 + 128<<20 + 24<<20},
	} {
		if got := softLimit(c.live); got != c.want {
			t.Errorf("softLimit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}
