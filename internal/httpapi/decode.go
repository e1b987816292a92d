package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/domain"
)

// decode reads one JSON object into dst strictly: unknown fields, trailing
// data and wrong types are field-level 400s, an oversize body is a 413.
func decode(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return &badRequest{msg: "could not read the request body"}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &badRequest{msg: "a JSON object body is required"}
	}
	if trimmed[0] != '{' {
		return &badRequest{msg: "the body must be a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &badRequest{msg: "the body holds more than one JSON value"}
	}
	if err := refuseNulls(trimmed); err != nil {
		return err
	}
	return boundArrays(reflect.ValueOf(dst), "")
}

// Bounds of the JSON arrays of request bodies, by field name, checked as
// the body is decoded, before any use case or transaction: a request must
// not cost the server more than it cost the client. They are the bounds
// docs/openapi.yaml states (maxItems); the use cases keep their own checks.
const (
	maxRoles = 20
	// defaultMaxItems bounds any array not named in arrayLimits.
	defaultMaxItems = 100
)

var arrayLimits = map[string]int{
	"attachment_ids": domain.MaxAttachmentsPerAction,
	"milestone_ids":  domain.MaxMilestones,
	"milestones":     domain.MaxMilestones,
	"roles":          maxRoles,
	"ids":            maxMarkRead,
}

// maxItems is the bound of the array in the JSON field name.
func maxItems(name string) int {
	if n, ok := arrayLimits[name]; ok {
		return n
	}
	return defaultMaxItems
}

// boundArrays walks a decoded request (struct, pointer or slice) and refuses
// the first array longer than its bound, naming the field.
func boundArrays(v reflect.Value, path string) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			field := name
			if path != "" {
				field = path + "." + name
			}
			if err := boundField(v.Field(i), name, field); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := boundArrays(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func boundField(v reflect.Value, name, field string) error {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice {
		if limit := maxItems(name); v.Len() > limit {
			return invalidField(field, fmt.Sprintf("holds %d items; at most %d allowed", v.Len(), limit))
		}
	}
	return boundArrays(v, field)
}

// refuseNulls rejects top-level fields given as null: no request field takes
// null, and silently reading it as "absent" would hide a client's mistake.
func refuseNulls(body []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return &badRequest{msg: "the body must be a JSON object"}
	}
	var bad []domain.FieldError
	for name, v := range fields {
		if string(bytes.TrimSpace(v)) == "null" {
			bad = append(bad, domain.FieldError{Field: name, Reason: "must not be null; leave the field out instead"})
		}
	}
	if len(bad) > 0 {
		slices.SortFunc(bad, func(a, b domain.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return &badRequest{msg: "invalid input: null values", fields: bad}
	}
	return nil
}

func jsonError(err error) error {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &badRequest{msg: "the body must be a JSON object"}
		}
		return invalidField(field, "must be "+jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr):
		return &badRequest{msg: fmt.Sprintf("the body is not valid JSON (at byte %d)", syntaxErr.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{msg: "the body is truncated JSON"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return invalidField(field, "is not a known field")
	}
	return &badRequest{msg: "the body is not a valid JSON object"}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "float64":
		return "a number"
	}
	return "of another type"
}

// pathID parses a positive integer path parameter; anything else is 404.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.ErrNotFound
	}
	return id, nil
}

// optDate parses an optional YYYY-MM-DD body field.
func optDate(field string, s *string) (domain.Date, error) {
	if s == nil || *s == "" {
		return domain.Date{}, nil
	}
	d, err := domain.ParseDate(*s)
	if err != nil {
		return d, invalidField(field, err.Error())
	}
	return d, nil
}

// ifMatch reads the If-Match header: a version number, optionally quoted or
// weak. Absent or "*" means no precondition (0). Anything else cannot match (412).
func ifMatch(c *gin.Context) (int64, error) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("If-Match %q names no version: %w", h, domain.ErrPreconditionFailed)
	}
	return n, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }
