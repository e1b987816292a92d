package web

import (
	"cmp"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rectify-team/rectify/internal/domain"
)

// The domain, the use cases and the ledger explain a refusal in English, with
// its values filled in ("is %d characters long; at most %d allowed"). The
// console shows it in the viewer's language: each such format has a catalogue
// entry "why:<format>" whose labels take the values as {1}, {2}, ...; a
// Forbidden code has "forbid.<code>", a field "fld.<name>". A test walks the
// source for every format and code so that none is missed.

// reasonRule recognises the reasons one format produced.
type reasonRule struct {
	id string // catalogue id
	re *regexp.Regexp
}

// reasonRules are compiled once from the catalogue; read only after.
var reasonRules = func() []reasonRule {
	var out []reasonRule
	for id := range catalogue {
		if format, ok := strings.CutPrefix(id, "why:"); ok {
			out = append(out, reasonRule{id: id, re: formatPattern(format)})
		}
	}
	// The longer format first, so that "%s lies in the past" is tried before
	// a shorter one that its text would also fit.
	slices.SortFunc(out, func(a, b reasonRule) int {
		return cmp.Or(cmp.Compare(len(b.id), len(a.id)), cmp.Compare(a.id, b.id))
	})
	return out
}()

// formatPattern turns a printf format into an anchored expression whose groups
// capture the values.
func formatPattern(format string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteString(regexp.QuoteMeta(format[i : i+1]))
			continue
		}
		i++
		switch format[i] {
		case '%':
			b.WriteString("%")
		case 'd':
			b.WriteString(`(-?\d+)`)
		case 'q':
			b.WriteString(`("(?:[^"\\]|\\.)*")`)
		default: // %s, %v
			b.WriteString(`(.*?)`)
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// fill puts values into a label's {1}, {2}, ...
func fill(label string, values []string) string {
	for i := len(values); i >= 1; i-- {
		label = strings.ReplaceAll(label, "{"+strconv.Itoa(i)+"}", values[i-1])
	}
	return label
}

// reasonText says in lang why something was refused, from the English reason
// the domain gave. A reason no format explains is not shown in English on a
// Chinese page: a general message stands in for it.
func reasonText(lang, reason string) string {
	return reasonTextDepth(lang, reason, 0)
}

func reasonTextDepth(lang, reason string, depth int) string {
	if id, values, ok := matchReason(reason); ok {
		// A value may itself be a reason, as a cell's "%q %s" holds a date's.
		for i, v := range values {
			if _, ok := catalogue["noun."+v]; ok { // "no %s is named %q": category, unit
				values[i] = translate(lang, "noun."+v)
				continue
			}
			if depth < 2 {
				if _, _, ok := matchReason(v); ok {
					values[i] = reasonTextDepth(lang, v, depth+1)
				}
			}
		}
		return fill(translate(lang, id), values)
	}
	if lang == langEN {
		return reason
	}
	return translate(lang, "why.other")
}

func matchReason(reason string) (string, []string, bool) {
	for _, r := range reasonRules {
		if m := r.re.FindStringSubmatch(reason); m != nil {
			return r.id, m[1:], true
		}
	}
	return "", nil, false
}

var sheetPlaces = []struct {
	id string
	re *regexp.Regexp
}{
	{"fld.cell", regexp.MustCompile(`^row (\d+), column ([A-Z]+) \((.*)\)$`)},
	{"fld.row_col", regexp.MustCompile(`^row (\d+), (.*)$`)},
	{"fld.row", regexp.MustCompile(`^row (\d+)$`)},
}

// fieldLabel names a field of a refusal in lang.
func fieldLabel(lang, field string) string {
	if strings.HasPrefix(field, "milestones") {
		return translate(lang, "f.milestones")
	}
	if _, ok := catalogue["fld."+field]; ok {
		return translate(lang, "fld."+field)
	}
	// A place in an imported sheet, as table.Sheet.Cell names it.
	for _, c := range sheetPlaces {
		if m := c.re.FindStringSubmatch(field); m != nil {
			return fill(translate(lang, c.id), m[1:])
		}
	}
	return field
}

// forbiddenText says in lang why an actor may not act, by the domain's code.
func forbiddenText(lang string, e *domain.ForbiddenError) string {
	if _, _, ok := matchReason(e.Reason); ok {
		return reasonText(lang, e.Reason)
	}
	if _, ok := catalogue["forbid."+e.Code]; ok {
		return translate(lang, "forbid."+e.Code)
	}
	return translate(lang, "err.403")
}

// transitionText names the action, the state and what is open now.
func transitionText(lang string, e *domain.InvalidTransitionError) string {
	allowed := make([]string, len(e.Allowed))
	for i, a := range e.Allowed {
		allowed[i] = translate(lang, "act."+string(a))
	}
	list := strings.Join(allowed, translate(lang, "why.list_sep"))
	if list == "" {
		list = translate(lang, "p.none")
	}
	return translate(lang, "why.transition", translate(lang, "act."+string(e.Action)), statusLabel(lang, e.From), list)
}

// errorText says in lang why a use case refused, for a message that is not
// beside one field.
func errorText(lang string, err error) string {
	var (
		val    *domain.ValidationError
		unsupp *domain.UnsupportedTypeError
		forb   *domain.ForbiddenError
		inv    *domain.InvalidTransitionError
		confl  *domain.ConflictError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &val):
		parts := make([]string, len(val.Fields))
		for i, f := range val.Fields {
			parts[i] = fieldLabel(lang, f.Field) + translate(lang, "why.field_sep") + reasonText(lang, f.Reason)
		}
		return strings.Join(parts, translate(lang, "why.list_sep"))
	case errors.As(err, &unsupp):
		return reasonText(lang, unsupp.Reason)
	case errors.As(err, &forb):
		return forbiddenText(lang, forb)
	case errors.As(err, &inv):
		return transitionText(lang, inv)
	case errors.As(err, &confl):
		return reasonText(lang, confl.Reason)
	case errors.Is(err, domain.ErrPreconditionFailed):
		return translate(lang, "why.version")
	case errors.Is(err, domain.ErrTooManyAttempts):
		return translate(lang, "why.too_many")
	case errors.Is(err, domain.ErrNotFound):
		return translate(lang, "err.404")
	case errors.Is(err, domain.ErrForbidden):
		return translate(lang, "err.403")
	case errors.Is(err, domain.ErrConflict):
		return translate(lang, "why.conflict")
	case errors.As(err, &tooBig):
		return translate(lang, "err.413")
	}
	return translate(lang, "err.500")
}

var (
	recordedTransition = regexp.MustCompile(`^action (\S+) is not allowed in state (\S+); allowed: (.*)$`)
	recordedField      = regexp.MustCompile(`^([a-z_]+(?:\[\d+\]\.[a-z_]+)?|[A-Z]+\d+): (.*)$`)
)

// recordedReasonText says in lang why the audit trail recorded a refusal: the
// trail keeps the refusal's English text (its error's message), which is
// read back here by the same formats.
func recordedReasonText(lang, reason string) string {
	if lang == langEN {
		return reason
	}
	if m := recordedTransition.FindStringSubmatch(reason); m != nil {
		e := &domain.InvalidTransitionError{Action: domain.Action(m[1]), From: domain.Status(m[2])}
		if m[3] != "none" {
			for _, a := range strings.Split(m[3], ", ") {
				e.Allowed = append(e.Allowed, domain.Action(a))
			}
		}
		return transitionText(lang, e)
	}
	if rest, ok := strings.CutPrefix(reason, "invalid input: "); ok {
		// "field: reason; field: reason", where a reason may hold "; " itself.
		var fields []domain.FieldError
		for _, part := range strings.Split(rest, "; ") {
			if m := recordedField.FindStringSubmatch(part); m != nil || len(fields) == 0 {
				if m == nil {
					m = []string{part, "", part}
				}
				fields = append(fields, domain.FieldError{Field: m[1], Reason: m[2]})
				continue
			}
			fields[len(fields)-1].Reason += "; " + part
		}
		return errorText(lang, &domain.ValidationError{Fields: fields})
	}
	for _, sentinel := range []error{domain.ErrPreconditionFailed, domain.ErrTooManyAttempts, domain.ErrNotFound,
		domain.ErrForbidden, domain.ErrConflict} {
		if reason == sentinel.Error() || strings.HasSuffix(reason, ": "+sentinel.Error()) {
			return errorText(lang, sentinel)
		}
	}
	if _, _, ok := matchReason(reason); ok {
		return reasonText(lang, reason)
	}
	return translate(lang, "why.refused")
}
