package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
)

// Who may read /metrics. Its series say how busy the server is and which
// routes fail; it is for the operators' Prometheus, not for the public.
//
//   - RECTIFY_METRICS_ADDR: a listener of its own that serves only /metrics,
//     off by default; on a non-loopback address it needs the token as well.
//   - RECTIFY_METRICS_TOKEN: a bearer token; set, /metrics is also served on
//     the main listener (and on the metrics listener) to requests bearing it.
//
// With neither, no metrics are served at all.

// MinMetricsToken is the shortest metrics token accepted.
const MinMetricsToken = 16

func registerMetrics(fs *flag.FlagSet, c *Config, env func(key, def string) string) {
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("RECTIFY_METRICS_ADDR", ""),
		"serve /metrics on a listener of its own, e.g. 127.0.0.1:9090; off when empty (RECTIFY_METRICS_ADDR)")
	c.MetricsToken = env("RECTIFY_METRICS_TOKEN", "") // no flag: a flag would show in the process list
}

func validateMetrics(c *Config) []error {
	var errs []error
	if c.MetricsToken != "" && len(c.MetricsToken) < MinMetricsToken {
		errs = append(errs, fmt.Errorf("RECTIFY_METRICS_TOKEN: at least %d characters", MinMetricsToken))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("RECTIFY_METRICS_ADDR %q: want host:port such as 127.0.0.1:9090", c.MetricsAddr))
		} else if !loopbackAddr(c.MetricsAddr) && c.MetricsToken == "" {
			errs = append(errs, errors.New("RECTIFY_METRICS_ADDR: a non-loopback address needs RECTIFY_METRICS_TOKEN as well"))
		}
	}
	return errs
}
