package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// refusalSources are the packages whose refusals reach the console.
var refusalSources = []string{"../domain", "../app", "../password", "../ledger", "../stats", "../audit", "."}

// formatArg names, per function, which argument is a refusal's reason format
// and which the field (-1: none). Validator.Add/Check, domain.Invalid, Conflict
// and Forbidden, the helpers of the use cases that wrap them, and the ledger
// import's cell reporters.
var formatArg = map[string]struct{ field, format int }{
	"Invalid":          {0, 1},
	"Add":              {0, 1},
	"Check":            {1, 2},
	"Conflict":         {-1, 0},
	"uniqueAsConflict": {-1, 1},
	"filterError":      {1, 2},
	"bad":              {-1, 2},
	"fail":             {-1, 1},
	"Forbidden":        {-1, 1}, // its code (argument 0) is collected apart
	"Errorf":           {-1, 0}, // parsers' errors of dates and months, shown through "%s"
	"New":              {-1, 0},
	"find":             {-1, 2}, // a finding of the trail's verification (校验)
	"refuse":           {-1, 1}, // an OpenID Connect sign-in's refusal
	"Text":             {0, -1},
}

// reasonStructs are the error types whose Reason field is shown.
var reasonStructs = map[string]bool{"ConflictError": true, "ParseError": true, "UnsupportedTypeError": true, "SkippedRow": true, "Finding": true}

// format renders an expression that builds a reason as its printf format:
// literals as they are, fmt.Sprintf as its format, anything else as %s.
func format(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, okA := format(x.X)
		b, okB := format(x.Y)
		if !okA && !okB {
			return "", false
		}
		if !okA {
			a = "%s"
		}
		if !okB {
			b = "%s"
		}
		return a + b, true
	case *ast.CallExpr:
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(x.Args) > 0 {
			return format(x.Args[0])
		}
	}
	return "", false
}

type refusalCatalogue struct {
	formats map[string]string // format → where
	fields  map[string]string
	codes   map[string]string
}

// walkRefusals collects every reason format, field name and Forbidden code
// written in the sources.
func walkRefusals(t *testing.T) refusalCatalogue {
	t.Helper()
	rc := refusalCatalogue{formats: map[string]string{}, fields: map[string]string{}, codes: map[string]string{}}
	fset := token.NewFileSet()
	for _, dir := range refusalSources {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasSuffix(path, "test") && path != ".") {
				return filepath.SkipDir // apptest, storetest: helpers of tests
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			// A parser's own errors count where they are shown: the domain's
			// dates, the months, the ledger's cells; elsewhere Errorf and
			// errors.New wrap or report faults, not refusals.
			slash := filepath.ToSlash(path)
			parsers := strings.Contains(slash, "/domain/") || strings.HasSuffix(slash, "stats/calendar.go") ||
				strings.Contains(slash, "ledger/table/")
			importer := strings.HasSuffix(slash, "app/ledger.go") // its lookups' errors become cells' reasons
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GenDecl:
					// Package-level sentinels (ErrNotFound, ...) are matched by
					// errors.Is, not by their text.
					return x.Tok != token.VAR || !parsers
				case *ast.CompositeLit:
					name := ""
					switch tt := x.Type.(type) {
					case *ast.Ident:
						name = tt.Name
					case *ast.SelectorExpr:
						name = tt.Sel.Name
					}
					if !reasonStructs[name] {
						return true
					}
					for _, el := range x.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Reason" {
								if s, ok := format(kv.Value); ok {
									rc.formats[s] = fset.Position(kv.Pos()).String()
								}
							}
						}
					}
				case *ast.CallExpr:
					var name string
					switch fn := x.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						name = fn.Sel.Name
					}
					spec, ok := formatArg[name]
					if !ok {
						return true
					}
					if (name == "New" && !parsers) || (name == "Errorf" && !parsers && !importer) {
						return true
					}
					where := fset.Position(x.Pos()).String()
					if name == "Forbidden" && len(x.Args) > 0 {
						if s, ok := format(x.Args[0]); ok {
							rc.codes[s] = where
						}
					}
					if spec.field >= 0 && spec.field < len(x.Args) {
						if s, ok := format(x.Args[spec.field]); ok && !strings.Contains(s, "%") {
							rc.fields[s] = where
						}
					}
					if spec.format >= 0 && spec.format < len(x.Args) {
						s, ok := format(x.Args[spec.format])
						if ok && s != "%s" && !strings.Contains(s, "%w") {
							rc.formats[s] = where
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return rc
}

// Every reason, field and code the domain, the use cases, the password
// policy and the ledger can refuse with has its words in both languages.
func TestEveryRefusalHasItsWordsInBothLanguages(t *testing.T) {
	rc := walkRefusals(t)
	if len(rc.formats) < 60 || len(rc.codes) < 5 || len(rc.fields) < 30 {
		t.Fatalf("the walk found too little (%d formats, %d codes, %d fields): does it still read the sources?",
			len(rc.formats), len(rc.codes), len(rc.fields))
	}
	var missing []string
	check := func(id, where string) {
		m, ok := catalogue[id]
		if !ok || m[0] == "" || m[1] == "" {
			missing = append(missing, strconv.Quote(id)+" // "+where)
		}
	}
	for s, where := range rc.formats {
		check("why:"+s, where)
	}
	for s, where := range rc.fields {
		check("fld."+s, where)
	}
	for s, where := range rc.codes {
		check("forbid."+s, where)
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("the catalogue lacks %s", m)
	}
	// A format's Chinese label takes as many values as the format has.
	for id, m := range catalogue {
		format, ok := strings.CutPrefix(id, "why:")
		if !ok {
			continue
		}
		n := formatPattern(format).NumSubexp()
		for lang, label := range m {
			for i := 1; i <= 9; i++ {
				if strings.Contains(label, "{"+strconv.Itoa(i)+"}") && i > n {
					t.Errorf("%s [%d] uses {%d}, the format has %d values", id, lang, i, n)
				}
			}
		}
	}
}

// Reasons read back as the domain wrote them: values kept, nested reasons
// translated, and the trail's recorded texts too.
func TestReasonsReadBackInChinese(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{reasonText(langZH, "is 300 characters long; at most 200 allowed"), "共 300 个字，最多 200 个字"},
		{reasonText(langZH, `"2026-13-01" is not a date; write it as 2026-03-02`), `"2026-13-01" 不是日期，请写成 2026-03-02 的形式`},
		{reasonText(langZH, "something no format explains"), translate(langZH, "why.other")},
		{fieldLabel(langZH, "row 7"), "第 7 行"},
		{fieldLabel(langZH, "row 3, column B (类别)"), "第 3 行 B 列（类别）"},
		{fieldLabel(langEN, "row 3, column B (类别)"), "row 3, column B (类别)"},
		{fieldLabel(langZH, "row 3, 类别"), "第 3 行（类别）"},
		{reasonText(langZH, `no category is named "不存在的类别"`), `没有名为 "不存在的类别" 的类别`},
		{fieldLabel(langZH, "milestones[2].due"), "节点计划（挂图作战）"},
		{reasonText(langEN, "something no format explains"), "something no format explains"},
		{recordedReasonText(langZH, "action accept is not allowed in state submitted; allowed: verify_pass, verify_fail"),
			"「签收」不能在「待验收」状态下办理；现在可以办理：验收通过；退回"},
		{recordedReasonText(langZH, "invalid input: note: is required; found_at: lies in the future"), "说明：必填；发现日期：不能晚于今天"},
		{recordedReasonText(langZH, "nobody verifies a fix they submitted or a problem assigned to them"), "不能验收自己提交或负责的问题"},
		{recordedReasonText(langZH, "version does not match"), translate(langZH, "why.version")},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
