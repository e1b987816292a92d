package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/domain"
)

// Evidence, extension and upload settings (issue 3).

// DefaultMaxUpload is the largest attachment by default: 20 MiB.
const DefaultMaxUpload = 20 << 20

// registerEvidence adds the flags of attachments and extensions, with their
// RECTIFY_* defaults; malformed variables are collected in errs.
func registerEvidence(fs *flag.FlagSet, c *Config, getenv func(string) string, errs *[]error) {
	c.MaxUploadBytes = DefaultMaxUpload
	if v := getenv("RECTIFY_MAX_UPLOAD"); v != "" {
		if err := (*byteSize)(&c.MaxUploadBytes).Set(v); err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_MAX_UPLOAD %q: %w", v, err))
		}
	}
	fs.Var((*byteSize)(&c.MaxUploadBytes), "max-upload",
		"largest attachment, in bytes or with KiB/MiB/GiB (RECTIFY_MAX_UPLOAD, default 20MiB)")

	c.EvidenceRequired = domain.DefaultEvidencePolicy().Required
	if v := getenv("RECTIFY_EVIDENCE_REQUIRED"); v != "" {
		if err := (*severityList)(&c.EvidenceRequired).Set(v); err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_EVIDENCE_REQUIRED %q: %w", v, err))
		}
	}
	fs.Var((*severityList)(&c.EvidenceRequired), "evidence-required",
		"severities whose submit needs at least one attachment, comma-separated, or none (RECTIFY_EVIDENCE_REQUIRED, default serious,critical)")

	c.MaxExtensions = domain.DefaultExtensionPolicy().Max
	if v := getenv("RECTIFY_MAX_EXTENSIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("RECTIFY_MAX_EXTENSIONS %q: want a whole number", v))
		}
		c.MaxExtensions = n
	}
	fs.IntVar(&c.MaxExtensions, "max-extensions", c.MaxExtensions,
		"approved extensions allowed per problem (RECTIFY_MAX_EXTENSIONS)")
}

// validateEvidence checks the settings' ranges.
func validateEvidence(c *Config) []error {
	var errs []error
	if c.MaxUploadBytes < 1024 || c.MaxUploadBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("RECTIFY_MAX_UPLOAD %d: want 1KiB to 1GiB", c.MaxUploadBytes))
	}
	if c.MaxExtensions < 0 || c.MaxExtensions > 20 {
		errs = append(errs, fmt.Errorf("RECTIFY_MAX_EXTENSIONS %d: want 0 to 20", c.MaxExtensions))
	}
	return errs
}

// byteSize is a size in bytes, given as a number with an optional unit.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return fmt.Errorf("want a size such as 20971520, 20MiB or 512KiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// severityList is a comma-separated list of severities; "none" is empty.
type severityList []domain.Severity

func (s *severityList) String() string {
	if s == nil || len(*s) == 0 {
		return "none"
	}
	parts := make([]string, len(*s))
	for i, x := range *s {
		parts[i] = string(x)
	}
	return strings.Join(parts, ",")
}

func (s *severityList) Set(v string) error {
	sev, err := domain.ParseSeverities(v)
	if err != nil {
		return fmt.Errorf("want severities among general, serious, critical, or none")
	}
	*s = sev
	return nil
}
