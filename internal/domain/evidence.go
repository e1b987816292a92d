package domain

import (
	"slices"
	"strings"
)

// MaxAttachmentsPerAction bounds the attachment_ids of one progress report or submit.
const MaxAttachmentsPerAction = 20

// Evidence is an uploaded file used by an action (整改佐证材料). Its hash goes
// into the action's audit entry, so that the trail pins the exact content.
type Evidence struct {
	ID          int64
	Name        string
	SHA256      string
	Size        int64
	ContentType string
}

// EvidenceDetails is how an action's evidence enters its audit entry.
func EvidenceDetails(ev []Evidence) []map[string]any { return evidenceDetails(ev) }

func evidenceDetails(ev []Evidence) []map[string]any {
	out := make([]map[string]any, len(ev))
	for i, e := range ev {
		out[i] = map[string]any{"id": e.ID, "name": e.Name, "sha256": e.SHA256, "size": e.Size}
	}
	return out
}

// EvidencePolicy says which problems need evidence to be submitted.
type EvidencePolicy struct {
	Required []Severity // submitting a problem of these severities needs at least one attachment
}

// DefaultEvidencePolicy requires evidence for serious and critical problems.
func DefaultEvidencePolicy() EvidencePolicy {
	return EvidencePolicy{Required: []Severity{SeveritySerious, SeverityCritical}}
}

// Requires reports whether a submit of a problem of severity s needs evidence.
func (e EvidencePolicy) Requires(s Severity) bool { return slices.Contains(e.Required, s) }

// ParseSeverities reads a comma-separated list of severities; "" and "none" are empty.
func ParseSeverities(s string) ([]Severity, error) {
	var out []Severity
	if t := strings.TrimSpace(s); t == "" || t == "none" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		sev := Severity(strings.TrimSpace(part))
		if !sev.Valid() {
			return nil, Invalid("severities", "unknown severity %q; known: general, serious, critical", part)
		}
		if !slices.Contains(out, sev) {
			out = append(out, sev)
		}
	}
	return out, nil
}

// evidenceTypes are the content types accepted as evidence, decided from the
// content's magic bytes: raster images, PDF, Office documents and plain text.
// Nothing that a browser would run (HTML, SVG, scripts) and no executables.
var evidenceTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic", "image/heif",
	"application/pdf",
	// Office Open XML (zip)
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	// legacy Office (OLE compound files)
	"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
	// OpenDocument (WPS and LibreOffice save these too)
	"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
	"application/vnd.oasis.opendocument.presentation",
	"text/plain", "text/csv",
}

// EvidenceTypes lists the content types accepted as evidence.
func EvidenceTypes() []string { return slices.Clone(evidenceTypes) }

// EvidenceTypeAllowed reports whether a detected content type (parameters
// such as charset ignored) is accepted as evidence.
func EvidenceTypeAllowed(contentType string) bool {
	base, _, _ := strings.Cut(contentType, ";")
	return slices.Contains(evidenceTypes, strings.ToLower(strings.TrimSpace(base)))
}

// InlineType reports whether a file of this type may be shown in the browser
// rather than downloaded: raster images only.
func InlineType(contentType string) bool {
	return strings.HasPrefix(contentType, "image/") && EvidenceTypeAllowed(contentType)
}
