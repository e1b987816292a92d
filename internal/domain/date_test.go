package domain_test

import (
	"encoding/json"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without a zoneinfo database

	"github.com/rectify-team/rectify/internal/domain"
)

func TestWarning(t *testing.T) {
	const n = 3 // the default yellow window
	open := func(s domain.Status, deadline domain.Date) *domain.Problem {
		p := problemIn(s)
		p.Deadline = deadline
		return p
	}
	closed := func(onTime *bool) *domain.Problem {
		p := problemIn(domain.StatusClosed)
		p.ClosedOnTime = onTime
		return p
	}
	tests := []struct {
		name    string
		p       *domain.Problem
		want    domain.WarningLevel
		overdue bool
	}{
		{"N+1 days left", open(domain.StatusAssigned, today.AddDays(n+1)), domain.WarningGreen, false},
		{"far away", open(domain.StatusRectifying, today.AddDays(100)), domain.WarningGreen, false},
		{"exactly N days left", open(domain.StatusAssigned, today.AddDays(n)), domain.WarningYellow, false},
		{"one day left", open(domain.StatusRectifying, today.AddDays(1)), domain.WarningYellow, false},
		{"deadline today", open(domain.StatusRectifying, today), domain.WarningYellow, false},
		{"deadline yesterday", open(domain.StatusRectifying, today.AddDays(-1)), domain.WarningRed, true},
		{"long overdue", open(domain.StatusAssigned, today.AddDays(-40)), domain.WarningRed, true},
		{"submitted still runs: overdue", open(domain.StatusSubmitted, today.AddDays(-1)), domain.WarningRed, true},
		{"submitted still runs: yellow", open(domain.StatusSubmitted, today.AddDays(2)), domain.WarningYellow, false},
		{"open without a deadline", open(domain.StatusAssigned, domain.Date{}), domain.WarningNone, false},
		{"closed on time", closed(ptr(true)), domain.WarningGreen, false},
		{"closed late", closed(ptr(false)), domain.WarningRed, false},
		{"closed on time, deadline long past", func() *domain.Problem {
			p := closed(ptr(true))
			p.Deadline = today.AddDays(-30)
			return p
		}(), domain.WarningGreen, false},
		{"closed late, deadline in the future", func() *domain.Problem {
			p := closed(ptr(false))
			p.Deadline = today.AddDays(30)
			return p
		}(), domain.WarningRed, false},
		{"closed without a record", closed(nil), domain.WarningNone, false},
		{"registered", problemIn(domain.StatusRegistered), domain.WarningNone, false},
		{"registered with a past deadline", open(domain.StatusRegistered, today.AddDays(-5)), domain.WarningNone, false},
		{"dismissed", problemIn(domain.StatusDismissed), domain.WarningNone, false},
		{"dismissed after assignment, past deadline", open(domain.StatusDismissed, today.AddDays(-5)), domain.WarningNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Warning(today, n); got != tt.want {
				t.Errorf("Warning = %q, want %q", got, tt.want)
			}
			if got := tt.p.Overdue(today); got != tt.overdue {
				t.Errorf("Overdue = %v, want %v", got, tt.overdue)
			}
		})
	}
	t.Run("the window is configurable", func(t *testing.T) {
		p := open(domain.StatusAssigned, today.AddDays(5))
		for days, want := range map[int]domain.WarningLevel{0: domain.WarningGreen, 4: domain.WarningGreen, 5: domain.WarningYellow, 7: domain.WarningYellow} {
			if got := p.Warning(today, days); got != want {
				t.Errorf("yellowDays %d: %q, want %q", days, got, want)
			}
		}
		if got := open(domain.StatusAssigned, today).Warning(today, 0); got != domain.WarningYellow {
			t.Errorf("deadline today with no window: %q, want yellow", got)
		}
	})
	t.Run("Valid", func(t *testing.T) {
		for _, w := range []domain.WarningLevel{domain.WarningGreen, domain.WarningYellow, domain.WarningRed} {
			if !w.Valid() {
				t.Errorf("%q invalid", w)
			}
		}
		for _, w := range []domain.WarningLevel{domain.WarningNone, "amber", "Red"} {
			if w.Valid() {
				t.Errorf("%q valid", w)
			}
		}
	})
}

func TestParseDate(t *testing.T) {
	valid := map[string]domain.Date{
		"2026-02-03": domain.NewDate(2026, time.February, 3),
		"2024-02-29": domain.NewDate(2024, time.February, 29),
		"2026-12-31": domain.NewDate(2026, time.December, 31),
		"1900-01-01": domain.NewDate(1900, time.January, 1),
		"9999-12-31": domain.NewDate(9999, time.December, 31),
	}
	for s, want := range valid {
		got, err := domain.ParseDate(s)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", s, err)
			continue
		}
		if got != want || got.String() != s {
			t.Errorf("ParseDate(%q) = %s, want %s", s, got, want)
		}
	}
	for _, s := range []string{
		"", " ", "2026-2-3", "2026-02-3", "2026-2-03", "26-02-03", "02026-02-03",
		"2026-02-30", "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-01-32",
		"2026/02/03", "20260203", "2026-02-03T00:00:00Z", "2026-02-03 ", " 2026-02-03", "2026-02-03\n",
		"1899-12-31", "0000-01-01", "0001-01-01", "+2026-02-03", "-2026-02-03", "10000-01-01",
		"２０２６-０２-０３", "2026-0２-03", "abcd-ef-gh", "null", `"2026-02-03"`,
	} {
		d, err := domain.ParseDate(s)
		if err == nil {
			t.Errorf("ParseDate(%q) = %s, want an error", s, d)
		} else if !d.IsZero() {
			t.Errorf("ParseDate(%q) failed but returned %s", s, d)
		}
	}
}

// FuzzParseDate: ParseDate either errors, or returns a date in range whose
// String round-trips to the input exactly. Seeds also in testdata/fuzz/FuzzParseDate.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-02-03", "2024-02-29", "2026-02-29", "2026-2-3", "1900-01-01", "9999-12-31",
		"0001-01-01", "+999-01-01", "2026-02-03T00:00:00Z", "", "2026-13-01", "٢٠٢٦-٠٢-٠٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := domain.ParseDate(s)
		if err != nil {
			if !d.IsZero() {
				t.Fatalf("ParseDate(%q) errored but returned %s", s, d)
			}
			return
		}
		if d.IsZero() {
			t.Fatalf("ParseDate(%q) returned the zero date without an error", s)
		}
		if got := d.String(); got != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, got)
		}
		if y := d.Year(); y < 1900 || y > 9999 {
			t.Fatalf("ParseDate(%q) year %d out of range", s, y)
		}
		again, err := domain.ParseDate(d.String())
		if err != nil || again != d {
			t.Fatalf("re-parsing %q: %s, %v", d, again, err)
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != `"`+s+`"` {
			t.Fatalf("MarshalJSON(%q) = %s, %v", s, b, err)
		}
	})
}

func TestAddDays(t *testing.T) {
	tests := []struct {
		from domain.Date
		n    int
		want domain.Date
	}{
		{domain.NewDate(2026, 1, 31), 1, domain.NewDate(2026, 2, 1)},
		{domain.NewDate(2026, 2, 28), 1, domain.NewDate(2026, 3, 1)},
		{domain.NewDate(2024, 2, 28), 1, domain.NewDate(2024, 2, 29)},
		{domain.NewDate(2024, 2, 29), 1, domain.NewDate(2024, 3, 1)},
		{domain.NewDate(2026, 12, 31), 1, domain.NewDate(2027, 1, 1)},
		{domain.NewDate(2027, 1, 1), -1, domain.NewDate(2026, 12, 31)},
		{domain.NewDate(2026, 3, 1), -1, domain.NewDate(2026, 2, 28)},
		{domain.NewDate(2026, 12, 20), 30, domain.NewDate(2027, 1, 19)},
		{domain.NewDate(2026, 3, 10), 0, domain.NewDate(2026, 3, 10)},
		{domain.NewDate(2026, 1, 1), 365, domain.NewDate(2027, 1, 1)},
		{domain.NewDate(2024, 1, 1), 366, domain.NewDate(2025, 1, 1)},
	}
	for _, tt := range tests {
		got := tt.from.AddDays(tt.n)
		if got != tt.want {
			t.Errorf("%s + %d = %s, want %s", tt.from, tt.n, got, tt.want)
		}
		if d := tt.from.DaysUntil(got); d != tt.n {
			t.Errorf("%s.DaysUntil(%s) = %d, want %d", tt.from, got, d, tt.n)
		}
	}
}

func TestDateOf(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	mustNil(t, err)
	tests := []struct {
		name     string
		instant  time.Time
		shanghai domain.Date
		utc      domain.Date
	}{
		// 16:00 UTC is midnight in Shanghai (UTC+8): the next calendar day there.
		{"just before Shanghai midnight", time.Date(2026, 3, 9, 15, 59, 59, 0, time.UTC), domain.NewDate(2026, 3, 9), domain.NewDate(2026, 3, 9)},
		{"Shanghai midnight", time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC), domain.NewDate(2026, 3, 10), domain.NewDate(2026, 3, 9)},
		{"UTC midnight", time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), domain.NewDate(2026, 3, 10), domain.NewDate(2026, 3, 10)},
		{"UTC just before midnight", time.Date(2026, 3, 9, 23, 59, 59, 0, time.UTC), domain.NewDate(2026, 3, 10), domain.NewDate(2026, 3, 9)},
		{"new year in Shanghai first", time.Date(2026, 12, 31, 16, 30, 0, 0, time.UTC), domain.NewDate(2027, 1, 1), domain.NewDate(2026, 12, 31)},
		{"an instant given in another zone", time.Date(2026, 3, 10, 1, 0, 0, 0, time.FixedZone("EST", -5*3600)), domain.NewDate(2026, 3, 10), domain.NewDate(2026, 3, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.DateOf(tt.instant, shanghai); got != tt.shanghai {
				t.Errorf("Shanghai: %s, want %s", got, tt.shanghai)
			}
			if got := domain.DateOf(tt.instant, time.UTC); got != tt.utc {
				t.Errorf("UTC: %s, want %s", got, tt.utc)
			}
		})
	}
	// The fixture clock: 10:00 in Shanghai on the fixture day.
	if got := domain.DateOf(now, shanghai); got != today {
		t.Errorf("DateOf(now) = %s, want %s", got, today)
	}
}

func TestDateBasics(t *testing.T) {
	var zero domain.Date
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero date: %v %q", zero.IsZero(), zero.String())
	}
	d := domain.NewDate(2026, 3, 10)
	if d.IsZero() || d.Year() != 2026 || d.String() != "2026-03-10" {
		t.Errorf("date: %v %d %q", d.IsZero(), d.Year(), d)
	}
	// NewDate normalises like time.Date.
	if got := domain.NewDate(2026, 2, 30); got != domain.NewDate(2026, 3, 2) {
		t.Errorf("NewDate(2026, 2, 30) = %s", got)
	}
	e := d.AddDays(1)
	if !d.Before(e) || d.After(e) || !e.After(d) || e.Before(d) || d.Before(d) || d.After(d) {
		t.Errorf("ordering of %s and %s", d, e)
	}
	if !zero.Before(d) {
		t.Errorf("the zero date is before every date")
	}
	if got := e.DaysUntil(d); got != -1 {
		t.Errorf("DaysUntil backwards = %d", got)
	}
	// Dates from different sources compare equal.
	p, err := domain.ParseDate("2026-03-10")
	mustNil(t, err)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	mustNil(t, err)
	if p != d || domain.DateOf(now, shanghai) != d {
		t.Errorf("ParseDate, NewDate and DateOf disagree")
	}
}

func TestDateJSON(t *testing.T) {
	type body struct {
		Deadline domain.Date  `json:"deadline"`
		FoundAt  *domain.Date `json:"found_at,omitempty"`
	}
	tests := []struct {
		in   body
		want string
	}{
		{body{Deadline: domain.NewDate(2026, 3, 10)}, `{"deadline":"2026-03-10"}`},
		{body{}, `{"deadline":null}`},
		{body{Deadline: domain.NewDate(1900, 1, 1), FoundAt: &domain.Date{}}, `{"deadline":"1900-01-01","found_at":null}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.in)
		mustNil(t, err)
		if string(b) != tt.want {
			t.Errorf("json = %s, want %s", b, tt.want)
		}
	}
}
