package apifuzz

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

func testGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed)), today: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		pools: map[string][]int64{}, names: map[string][]string{}}
}

// TestPatternsDrawMatchingStrings draws from every pattern in the document and
// checks each string against the pattern, as kin-openapi compiles it.
func TestPatternsDrawMatchingStrings(t *testing.T) {
	f, err := New("../../docs/openapi.yaml", 1, Target{})
	if err != nil {
		t.Fatal(err)
	}
	g := testGen(7)
	patterns := map[string]bool{}
	var visit func(s *openapi3.SchemaRef, depth int)
	visit = func(s *openapi3.SchemaRef, depth int) {
		if s == nil || s.Value == nil || depth > 8 {
			return
		}
		if s.Value.Pattern != "" {
			patterns[s.Value.Pattern] = true
		}
		for _, p := range s.Value.Properties {
			visit(p, depth+1)
		}
		for _, list := range []openapi3.SchemaRefs{s.Value.AllOf, s.Value.AnyOf, s.Value.OneOf} {
			for _, p := range list {
				visit(p, depth+1)
			}
		}
		visit(s.Value.Items, depth+1)
	}
	for _, s := range f.doc.Components.Schemas {
		visit(s, 0)
	}
	for _, o := range f.ops {
		for _, p := range o.params {
			visit(p.Value.Schema, 0)
		}
		if o.op.RequestBody != nil {
			for _, mt := range o.op.RequestBody.Value.Content {
				visit(mt.Schema, 0)
			}
		}
	}
	if len(patterns) < 10 {
		t.Fatalf("only %d patterns found in the document", len(patterns))
	}
	for p := range patterns {
		re := regexp.MustCompile(goRegexp(p))
		for range 50 {
			if v := g.fromPattern(p); !re.MatchString(v) {
				t.Errorf("pattern %s drew %q, which it does not match", p, v)
				break
			}
		}
	}
}

// TestRequestBodiesDrawValidAndInvalidValues draws values for every JSON
// request body: those meant to be valid are accepted by the schema (nearly
// always: an alternative may be broken by an optional field), and those meant
// to be refused are refused.
func TestRequestBodiesDrawValidAndInvalidValues(t *testing.T) {
	f, err := New("../../docs/openapi.yaml", 1, Target{})
	if err != nil {
		t.Fatal(err)
	}
	g := testGen(11)
	bodies := 0
	for _, o := range f.ops {
		if o.op.RequestBody == nil {
			continue
		}
		mt := o.op.RequestBody.Value.Content.Get("application/json")
		if mt == nil {
			continue
		}
		bodies++
		check := func(v any) error {
			// Through JSON, as the server sees it: integers become numbers.
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var decoded any
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatal(err)
			}
			return mt.Schema.Value.VisitJSON(decoded)
		}
		const n = 60
		accepted, refused, spoiled := 0, 0, 0
		for range n {
			if check(g.valid(mt.Schema, "", 0)) == nil {
				accepted++
			}
			if v, _, ok := g.invalid(mt.Schema, "", 0); ok {
				spoiled++
				if check(v) != nil {
					refused++
				}
			}
		}
		name := o.method + " " + o.path
		if accepted < n*7/10 {
			t.Errorf("%s: %d of %d values meant to be valid were accepted", name, accepted, n)
		}
		if refused < spoiled*9/10 {
			t.Errorf("%s: %d of %d values meant to be refused were refused", name, refused, spoiled)
		}
	}
	if bodies < 20 {
		t.Fatalf("only %d JSON request bodies found", bodies)
	}
}
