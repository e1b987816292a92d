// Package apifuzz generates requests from docs/openapi.yaml — values each
// schema accepts and values it refuses — sends them to the real API and
// reports what the document and the server disagree on: a 5xx, a response the
// document does not describe, a request the document refuses that the server
// accepts, a request the document accepts that the server calls malformed.
//
// The values come from the document alone (types, enums, patterns, formats,
// bounds, required fields), from a seeded math/rand/v2 source, so a run is
// repeatable; ids of things that exist are drawn from pools the caller fills.
package apifuzz

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// gen draws values from schemas.
type gen struct {
	r     *rand.Rand
	today time.Time           // dates are drawn around it
	pools map[string][]int64  // ids by resource name ("problems", "users", ...)
	names map[string][]string // by operation id and field: "login.username"
	op    string              // the operation drawn for
}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

// text is printable text, Chinese included, of n characters.
func (g *gen) text(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;!?()"
	han := []rune("整改问题学习意识担当作为遵规守纪检查验收销号督办回头看材料班组部门")
	var b strings.Builder
	for range n {
		if g.chance(0.3) {
			b.WriteRune(han[g.pick(len(han))])
		} else {
			b.WriteByte(alphabet[g.pick(len(alphabet))])
		}
	}
	return b.String()
}

// idFor names the pool an id field draws from: category_id → categories.
func idPool(field string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(field, "_ids"), "_id")
	switch base {
	case "assignee":
		return "assignees"
	case "user", "actor", "owner", "created_by", "requested_by":
		return "users"
	case "parent", "unit":
		return "units"
	case "category":
		return "categories"
	case "attachment":
		return "attachments"
	case "milestone":
		return "milestones"
	case "problem", "object":
		return "problems"
	case "recheck":
		return "rechecks"
	case "notice":
		return "notices"
	}
	return ""
}

// valid draws a value the schema accepts. field is the property or parameter
// name, which only steers ids towards things that exist.
func (g *gen) valid(ref *openapi3.SchemaRef, field string, depth int) any {
	s := ref.Value
	if bs := branches(s); len(bs) > 0 && len(s.Properties) > 0 {
		// An object whose alternatives add rules to its properties: one alternative, merged in,
		// without the fields that would make another alternative (or a "not") match too.
		b := bs[g.pick(len(bs))]
		return g.validObject(withBranch(s, b).Value, depth, avoidFor(s, b, bs))
	}
	if len(s.OneOf) > 0 {
		return g.valid(s.OneOf[g.pick(len(s.OneOf))], field, depth)
	}
	if len(s.AnyOf) > 0 {
		return g.valid(s.AnyOf[g.pick(len(s.AnyOf))], field, depth)
	}
	if len(s.AllOf) > 0 {
		return g.valid(merged(s), field, depth)
	}
	if len(s.Enum) > 0 {
		return s.Enum[g.pick(len(s.Enum))]
	}
	switch {
	case s.Type.Is("string"):
		return g.validString(s, field)
	case s.Type.Is("integer"):
		return g.validInt(s, field)
	case s.Type.Is("number"):
		lo, hi := 0.0, 100.0
		if s.Min != nil {
			lo = *s.Min
		}
		if s.Max != nil {
			hi = *s.Max
		}
		return lo + g.r.Float64()*(hi-lo)
	case s.Type.Is("boolean"):
		return g.chance(0.5)
	case s.Type.Is("array"):
		lo, hi := int(s.MinItems), int(s.MinItems)+3
		if s.MaxItems != nil && int(*s.MaxItems) < hi {
			hi = int(*s.MaxItems)
		}
		if s.MaxItems != nil && *s.MaxItems <= 200 && !s.UniqueItems && g.chance(0.1) {
			lo, hi = int(*s.MaxItems), int(*s.MaxItems) // as many as the document allows
		}
		n := lo + g.pick(hi-lo+1)
		out := make([]any, 0, n)
		for range n {
			v := g.valid(s.Items, strings.TrimSuffix(field, "s"), depth+1)
			if s.UniqueItems && slices.ContainsFunc(out, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(v) }) {
				continue
			}
			out = append(out, v)
		}
		return out
	case s.Type.Is("object") || len(s.Properties) > 0:
		return g.validObject(s, depth, nil)
	}
	return g.text(5)
}

func branches(s *openapi3.Schema) openapi3.SchemaRefs {
	if len(s.OneOf) > 0 {
		return s.OneOf
	}
	return s.AnyOf
}

// withBranch is an object schema with one of its alternatives merged in.
func withBranch(s *openapi3.Schema, branch *openapi3.SchemaRef) *openapi3.SchemaRef {
	base := *s
	base.OneOf, base.AnyOf = nil, nil
	return merged(&openapi3.Schema{AllOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", &base), branch}})
}

// merged flattens allOf into one schema (properties, required, bounds of the first that sets them).
func merged(s *openapi3.Schema) *openapi3.SchemaRef {
	out := *s
	out.AllOf = nil
	for _, part := range s.AllOf {
		p := part.Value
		if len(p.AllOf) > 0 {
			p = merged(p).Value
		}
		if out.Type == nil || len(out.Type.Slice()) == 0 {
			out.Type = p.Type
		}
		if len(out.Enum) == 0 {
			out.Enum = p.Enum
		} else if len(p.Enum) > 0 { // both: what both allow
			out.Enum = slices.DeleteFunc(slices.Clone(out.Enum), func(v any) bool { return !slices.Contains(p.Enum, v) })
		}
		if out.Format == "" {
			out.Format = p.Format
		}
		if out.Pattern == "" {
			out.Pattern = p.Pattern
		}
		if out.Min == nil {
			out.Min = p.Min
		}
		if out.Max == nil {
			out.Max = p.Max
		}
		if out.MaxLength == nil || p.MaxLength != nil && *p.MaxLength < *out.MaxLength {
			out.MaxLength = p.MaxLength
		}
		out.MinLength = max(out.MinLength, p.MinLength)
		if out.Items == nil {
			out.Items = p.Items
		}
		if out.MaxItems == nil || p.MaxItems != nil && *p.MaxItems < *out.MaxItems {
			out.MaxItems = p.MaxItems
		}
		out.MinItems = max(out.MinItems, p.MinItems)
		out.Nullable = out.Nullable || p.Nullable
		if len(p.Properties) > 0 {
			props := openapi3.Schemas{}
			for k, v := range out.Properties {
				props[k] = v
			}
			for k, v := range p.Properties {
				if prev, ok := props[k]; ok {
					v = merged(&openapi3.Schema{AllOf: openapi3.SchemaRefs{prev, v}})
				}
				props[k] = v
			}
			out.Properties = props
		}
		out.Required = append(slices.Clone(out.Required), p.Required...)
		if p.AdditionalProperties.Has != nil {
			out.AdditionalProperties = p.AdditionalProperties
		}
	}
	return openapi3.NewSchemaRef("", &out)
}

// avoidFor names the optional fields to leave out of an object drawn for the
// alternative chosen: those other alternatives require, and those a "not" forbids together.
func avoidFor(s *openapi3.Schema, chosen *openapi3.SchemaRef, all openapi3.SchemaRefs) map[string]bool {
	avoid := map[string]bool{}
	for _, b := range all {
		if b != chosen {
			for _, r := range b.Value.Required {
				avoid[r] = true
			}
		}
	}
	for _, not := range []*openapi3.SchemaRef{s.Not, chosen.Value.Not} {
		if not != nil {
			for _, r := range not.Value.Required {
				avoid[r] = true
			}
		}
	}
	for _, r := range chosen.Value.Required {
		delete(avoid, r)
	}
	return avoid
}

func (g *gen) validObject(s *openapi3.Schema, depth int, avoid map[string]bool) map[string]any {
	out := map[string]any{}
	for _, name := range sortedProps(s) {
		p := s.Properties[name]
		if p.Value.ReadOnly || avoid[name] {
			continue
		}
		if slices.Contains(s.Required, name) || (depth < 3 && g.chance(0.5)) {
			out[name] = g.valid(p, name, depth+1)
		}
	}
	return out
}

func sortedProps(s *openapi3.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (g *gen) validInt(s *openapi3.Schema, field string) int64 {
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if s.Min != nil {
		lo = int64(math.Ceil(*s.Min))
		if b := s.ExclusiveMin.Bool; b != nil && *b {
			lo++
		}
	}
	if s.Max != nil {
		hi = int64(math.Floor(*s.Max))
		if b := s.ExclusiveMax.Bool; b != nil && *b {
			hi--
		}
	}
	if s.Max != nil && g.chance(0.08) {
		return hi // the bounds the document allows
	}
	if s.Min != nil && g.chance(0.08) {
		return lo
	}
	if pool := g.pools[idPool(field)]; len(pool) > 0 && g.chance(0.85) {
		if v := pool[g.pick(len(pool))]; v >= lo && v <= hi {
			return v
		}
	}
	// Mostly small numbers near the lower bound, sometimes anywhere in range.
	if s.Min != nil && g.chance(0.7) {
		return lo + int64(g.pick(int(min(hi-lo, 100))+1))
	}
	if g.chance(0.3) && lo <= 0 && hi >= 0 {
		return int64(g.pick(int(min(hi, 100)) + 1))
	}
	return lo + g.r.Int64N(hi-lo+1)
}

func (g *gen) date(days int) string {
	return g.today.AddDate(0, 0, days).Format(time.DateOnly)
}

func (g *gen) validString(s *openapi3.Schema, field string) string {
	if names := g.names[g.op+"."+field]; len(names) > 0 && g.chance(0.7) {
		return names[g.pick(len(names))]
	}
	maxLen := 40
	if s.MaxLength != nil && int(*s.MaxLength) < maxLen {
		maxLen = int(*s.MaxLength)
	}
	minLen := int(s.MinLength)
	if s.MaxLength != nil && s.Pattern == "" && s.Format == "" && g.chance(0.1) {
		minLen, maxLen = int(*s.MaxLength), int(*s.MaxLength) // the longest the document allows
	}
	for range 20 {
		var v string
		switch {
		case s.Format == "date":
			v = g.date(g.pick(400) - 30)
		case s.Format == "date-time":
			v = g.today.Add(time.Duration(g.pick(400*24)-30*24) * time.Hour).UTC().Format(time.RFC3339)
		case s.Format == "binary":
			v = "%PDF-1.4\n%%EOF\n"
		case s.Pattern != "":
			v = g.fromPattern(s.Pattern)
		default:
			v = g.text(minLen + g.pick(max(maxLen-minLen, 0)+1))
		}
		n := utf8.RuneCountInString(v)
		if n >= minLen && (s.MaxLength == nil || n <= int(*s.MaxLength)) {
			return v
		}
	}
	return strings.Repeat("a", minLen)
}

// ecmaCodepoint is the \uXXXX escape of ECMA-262 patterns, which Go writes \x{XXXX}
// (kin-openapi rewrites it the same way).
var ecmaCodepoint = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

func goRegexp(pattern string) string { return ecmaCodepoint.ReplaceAllString(pattern, `\x{$1}`) }

// fromPattern draws a string matching a regular expression.
func (g *gen) fromPattern(pattern string) string {
	re, err := syntax.Parse(goRegexp(pattern), syntax.Perl)
	if err != nil {
		return g.text(5)
	}
	var b strings.Builder
	g.walk(re.Simplify(), &b)
	return b.String()
}

func (g *gen) walk(re *syntax.Regexp, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		// Pairs of ranges; weight each by its size, capped so that a class like [^/] stays printable.
		var total int
		for i := 0; i < len(re.Rune); i += 2 {
			total += min(int(re.Rune[i+1]-re.Rune[i])+1, 200)
		}
		if total == 0 {
			return
		}
		k := g.pick(total)
		for i := 0; i < len(re.Rune); i += 2 {
			size := min(int(re.Rune[i+1]-re.Rune[i])+1, 200)
			if k < size {
				r := re.Rune[i] + rune(k)
				if r < 0x20 || r == 0x7f {
					r = 'a'
				}
				b.WriteRune(r)
				return
			}
			k -= size
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteString(g.text(1))
	case syntax.OpCapture:
		g.walk(re.Sub[0], b)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.walk(s, b)
		}
	case syntax.OpAlternate:
		g.walk(re.Sub[g.pick(len(re.Sub))], b)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, 4
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 {
				hi = lo + 4
			}
		}
		if hi > lo+8 && g.chance(0.8) {
			hi = lo + 8
		}
		for range lo + g.pick(hi-lo+1) {
			g.walk(re.Sub[0], b)
		}
	}
}

// invalid draws a value the schema refuses, when it can find one; ok is false
// for schemas that accept anything of their type.
func (g *gen) invalid(ref *openapi3.SchemaRef, field string, depth int) (v any, how string, ok bool) {
	s := ref.Value
	if len(s.AllOf) > 0 {
		s = merged(s).Value
	}
	if b := branches(s); len(b) > 0 && len(s.Properties) > 0 {
		s = withBranch(s, b[0]).Value
	} else if len(b) > 0 {
		return map[string]any{"zz_unknown": 1}, "no alternative matches", true
	}
	var options []func() (any, string)
	add := func(f func() (any, string)) { options = append(options, f) }
	typ := func() (any, string) {
		switch {
		case s.Type.Is("string"):
			return 12345, "a number for a string"
		case s.Type.Is("array"):
			return "x", "a string for an array"
		case s.Type.Is("object"):
			return []any{1}, "an array for an object"
		}
		return "x", "a string for a " + strings.Join(s.Type.Slice(), "|")
	}
	add(typ)
	if !s.Nullable {
		add(func() (any, string) { return nil, "null" })
	}
	switch {
	case len(s.Enum) > 0:
		add(func() (any, string) { return "not_in_enum", "a value outside the enum" })
	case s.Type.Is("string"):
		if s.MaxLength != nil {
			n := int(*s.MaxLength) + 1
			add(func() (any, string) { return strings.Repeat("长", n), fmt.Sprintf("%d characters, over maxLength", n) })
		}
		if s.MinLength > 0 {
			add(func() (any, string) {
				return strings.Repeat("a", int(s.MinLength)-1), "shorter than minLength"
			})
		}
		switch {
		case strings.HasPrefix(s.Pattern, "^") && strings.HasSuffix(s.Pattern, "$"):
			add(func() (any, string) { return "\x01!", "not matching the pattern" })
			add(func() (any, string) {
				v := g.fromPattern(s.Pattern)
				return v + "~", "a pattern match with a character more"
			})
		case s.Pattern != "": // a pattern that looks for a character, such as a non-blank one
			add(func() (any, string) { return " ", "blank" })
		}
		switch s.Format {
		case "date":
			for _, d := range []string{"2026-02-30", "2026/03/01", "20260301", "2026-3-1", "tomorrow"} {
				add(func() (any, string) { return d, "not a date" })
			}
		case "date-time":
			add(func() (any, string) { return "2026-03-01 10:00", "not an RFC 3339 instant" })
		}
	case s.Type.Is("integer"):
		if s.Min != nil {
			add(func() (any, string) { return int64(*s.Min) - 1, "below minimum" })
		}
		if s.Max != nil {
			add(func() (any, string) { return int64(*s.Max) + 1, "above maximum" })
		}
		add(func() (any, string) { return 1.5, "a fraction for an integer" })
	case s.Type.Is("array"):
		if s.MaxItems != nil {
			add(func() (any, string) {
				n := int(*s.MaxItems) + 1
				out := make([]any, n)
				for i := range out {
					out[i] = g.valid(s.Items, strings.TrimSuffix(field, "s"), depth+1)
					if s.Items.Value.Type.Is("integer") {
						out[i] = int64(i + 1)
					}
				}
				return out, fmt.Sprintf("%d items, over maxItems", n)
			})
		}
		if s.MinItems > 0 {
			add(func() (any, string) { return []any{}, "fewer than minItems" })
		}
		add(func() (any, string) {
			item, how, ok := g.invalid(s.Items, field, depth+1)
			if !ok {
				return "x", "a string for an array"
			}
			return []any{item}, "an item: " + how
		})
	case s.Type.Is("object") || len(s.Properties) > 0:
		obj := g.validObject(s, depth, nil)
		if len(s.Required) > 0 {
			add(func() (any, string) {
				name := s.Required[g.pick(len(s.Required))]
				delete(obj, name)
				return obj, "without the required " + name
			})
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			add(func() (any, string) {
				obj["zz_unknown"] = "x"
				return obj, "an unknown property"
			})
		}
		if props := sortedProps(s); len(props) > 0 {
			add(func() (any, string) {
				name := props[g.pick(len(props))]
				v, how, ok := g.invalid(s.Properties[name], name, depth+1)
				if !ok {
					return []any{"x"}, "an array for an object"
				}
				obj[name] = v
				return obj, name + ": " + how
			})
		}
	}
	v, how = options[g.pick(len(options))]()
	return v, how, true
}
