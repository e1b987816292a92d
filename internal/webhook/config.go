package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// TargetError says which entry of RECTIFY_WEBHOOKS is wrong, in which field
// and why. It never quotes a URL's query or a secret.
type TargetError struct {
	Index  int    // position in the array, from 0
	Name   string // the entry's name, "" if it has none
	Field  string // "name", "kind", "url", "secret", "events", or "" for the entry itself
	Reason string
}

// Error returns e.g. `RECTIFY_WEBHOOKS[1] "ops": kind: "slack": want dingtalk, wecom or generic`.
func (e *TargetError) Error() string {
	s := fmt.Sprintf("RECTIFY_WEBHOOKS[%d]", e.Index)
	if e.Name != "" {
		s += fmt.Sprintf(" %q", e.Name)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Reason
}

// targetJSON is one entry of RECTIFY_WEBHOOKS.
type targetJSON struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

// ParseTargets reads RECTIFY_WEBHOOKS: a JSON array of
// {"name","kind","url","secret","events"} objects. An empty string means no
// targets. Unknown fields and duplicate names are refused; every problem
// found is reported, each as a *TargetError (joined with errors.Join).
func ParseTargets(s string) ([]Target, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	var entries []json.RawMessage
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("RECTIFY_WEBHOOKS: want a JSON array of targets: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("RECTIFY_WEBHOOKS: unexpected data after the array")
	}

	var (
		targets []Target
		errs    []error
		seen    = map[string]int{}
	)
	for i, raw := range entries {
		t, err := decodeTarget(raw)
		if err != nil {
			err.Index = i
			errs = append(errs, err)
			continue
		}
		for _, p := range t.problems() {
			errs = append(errs, &TargetError{Index: i, Name: t.Name, Field: p.field, Reason: p.reason})
		}
		if first, dup := seen[t.Name]; dup && t.Name != "" {
			errs = append(errs, &TargetError{Index: i, Name: t.Name, Field: "name",
				Reason: fmt.Sprintf("already used by RECTIFY_WEBHOOKS[%d]", first)})
		} else {
			seen[t.Name] = i
		}
		targets = append(targets, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return targets, nil
}

// decodeTarget decodes one entry strictly. Its error lacks the index.
func decodeTarget(raw json.RawMessage) (Target, *TargetError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var tj targetJSON
	if err := dec.Decode(&tj); err != nil {
		// Name the entry if its name can be read at all.
		var named struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(raw, &named)
		te := &TargetError{Name: named.Name, Reason: "want an object"}
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field != "":
			te.Field, _, _ = strings.Cut(typeErr.Field, ".")
			te.Reason = "want " + typeErr.Type.String() + ", got " + typeErr.Value
			if te.Field == "events" {
				te.Reason = "want an array of strings"
			}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			te.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			te.Reason = "unknown field"
		}
		return Target{}, te
	}
	return Target{Name: tj.Name, Kind: Kind(tj.Kind), URL: tj.URL, Secret: tj.Secret, Events: tj.Events}, nil
}

// problem is one thing wrong with a Target.
type problem struct{ field, reason string }

func (p problem) String() string { return p.field + ": " + p.reason }

// problems lists what is wrong with t, field by field; nil means it is usable.
func (t Target) problems() []problem {
	var ps []problem
	add := func(field, format string, args ...any) {
		ps = append(ps, problem{field, fmt.Sprintf(format, args...)})
	}
	switch {
	case t.Name == "":
		add("name", "required")
	case !validName(t.Name):
		add("name", "%q: want 1 to 64 of a-z, 0-9, _ and -", t.Name)
	}
	enc := encoderOf(t.Kind)
	switch {
	case enc != nil:
	case t.Kind == "":
		add("kind", "required: want %s", kindList())
	default:
		add("kind", "%q: want %s", string(t.Kind), kindList())
	}
	// The URL is never quoted: its query holds the robot's credentials.
	if u, err := url.Parse(t.URL); t.URL == "" {
		add("url", "required")
	} else if err != nil {
		add("url", "not a valid URL")
	} else if u.Scheme != "http" && u.Scheme != "https" {
		add("url", "want an http or https URL")
	} else if u.Hostname() == "" {
		add("url", "want an absolute URL with a host")
	} else if _, err := url.ParseQuery(u.RawQuery); err != nil {
		add("url", "malformed query")
	}
	if enc != nil && enc.needsSecret() && t.Secret == "" {
		add("secret", "required for a %s target", string(t.Kind))
	}
	for i, e := range t.Events {
		if strings.TrimSpace(e) == "" {
			add("events", "entry %d is empty", i)
		}
	}
	return ps
}

// validName reports whether name matches [a-z0-9_-]{1,64}.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
