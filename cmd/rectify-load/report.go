package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// loadAvg is the 1-minute load average of the machine (0 if unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// percentiles returns the nearest-rank percentiles of ds (q in (0, 1]).
func percentiles(ds []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(ds) == 0 {
		return out
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	for i, q := range qs {
		k := int(q*float64(len(sorted))+0.999999) - 1
		k = max(0, min(k, len(sorted)-1))
		out[i] = sorted[k]
	}
	return out
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// console output; nothing to do if it fails
	_, _ = fmt.Fprintln(tw, "kind\tdb\tworkload\tclients\treq/s\tops/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tlimit/s\tratio\tRSS peak MB\tload\t")
	for _, r := range rs {
		lim, ratio, rss := "", "", ""
		if r.LimitRPS > 0 {
			lim, ratio = strconv.FormatFloat(r.LimitRPS, 'f', 0, 64), strconv.FormatFloat(r.Ratio, 'f', 2, 64)
		}
		if r.RSSPeakMB > 0 {
			rss = strconv.FormatFloat(r.RSSPeakMB, 'f', 1, 64)
		}
		// console output; nothing to do if it fails
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%s\t%s\t%s\t%s\t%.1f\t\n", r.Kind, r.DB, r.Workload, r.Clients,
			r.RPS, r.OpsPerS, r.P50ms, r.P95ms, r.P99ms, r.MaxMs, errorSummary(r), lim, ratio, rss, r.LoadAvg[0])
	}
	_ = tw.Flush()
}

func errorSummary(r result) string {
	if r.Errors == 0 {
		return "0"
	}
	var parts []string
	for k, v := range r.Statuses {
		if code, err := strconv.Atoi(k); err != nil || code >= 400 {
			parts = append(parts, fmt.Sprintf("%s×%d", k, v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// rssSampler keeps the largest resident set seen while it runs.
type rssSampler struct{ peak, last atomic.Int64 }

func (s *rssSampler) start(pid int, every time.Duration) (stop func()) {
	if pid <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if kb, err := procStatusKB(pid, "VmRSS"); err == nil {
				s.last.Store(kb)
				if kb > s.peak.Load() {
					s.peak.Store(kb)
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// procStatusKB reads one "Name: N kB" line of /proc/PID/status.
func procStatusKB(pid int, field string) (int64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in /proc/%d/status", field, pid)
}

// pidByPort finds the process listening on a local TCP port: the socket's
// inode from /proc/net/tcp{,6}, then the process holding it.
func pidByPort(port string) (int, error) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, err
	}
	want := fmt.Sprintf(":%04X", p)
	inodes := map[string]bool{}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && strings.HasSuffix(f[1], want) && f[3] == "0A" { // 0A: LISTEN
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("nothing listens on port %d", p)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if link, err := os.Readlink(fd); err == nil && inodes[link] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("no visible process holds port %d", p)
}

// soakReporter prints, every interval, the rate and p99 of that interval and
// the server's resident memory and goroutines (from /metrics).
func soakReporter(s *session, m *measurement, w string, n int, o runOpts, rss *rssSampler, stdout, jsonOut io.Writer) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(o.interval)
		defer t.Stop()
		start, last := time.Now(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			m.mu.Lock()
			win := m.window
			m.window = nil
			m.mu.Unlock()
			now := time.Now()
			ps := percentiles(win, 0.5, 0.99, 1)
			line := map[string]any{"kind": "interval", "label": o.label, "workload": w, "clients": n,
				"t_s": round(now.Sub(start).Seconds(), 1), "rps": round(float64(len(win))/now.Sub(last).Seconds(), 1),
				"p50_ms": ms(ps[0]), "p99_ms": ms(ps[1]), "max_ms": ms(ps[2]),
				"rss_mb": round(float64(rss.last.Load())/1024, 1)}
			if g, err := scrapeGauge(s, "go_goroutines"); err == nil {
				line["goroutines"] = g
			}
			if h, err := scrapeGauge(s, "go_memstats_heap_inuse_bytes"); err == nil {
				line["heap_inuse_mb"] = round(h/1024/1024, 1)
			}
			if c, err := scrapeGauge(s, "go_sql_open_connections"); err == nil {
				line["db_open_conns"] = c
			}
			last = now
			b, _ := json.Marshal(line)
			// console output; nothing to do if it fails
			_, _ = fmt.Fprintln(stdout, string(b))
			if jsonOut != nil {
				// console output; nothing to do if it fails
				_, _ = fmt.Fprintln(jsonOut, string(b))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// scrapeGauge reads one unlabelled series from the server's /metrics.
func scrapeGauge(s *session, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(s.base, "/api/v1")+"/metrics", nil)
	if tok := os.Getenv("RECTIFY_METRICS_TOKEN"); tok != "" { // the server serves /metrics to its token only
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: %d", res.StatusCode)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			f := strings.Fields(line)
			return strconv.ParseFloat(f[len(f)-1], 64)
		}
	}
	return 0, fmt.Errorf("%s not exposed", name)
}
