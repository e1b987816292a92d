package app_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// maxExported is the most exported methods one type of the use cases may
// have: past it, a type is holding several capabilities' doors, and the
// use cases are growing back into one room.
const maxExported = 25

// useCasePackage is one package of go list's JSON stream.
type useCasePackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Deps       []string
}

// useCasePackages lists the core and every capability package (the test
// fixture apptest aside: it builds a store, as a test may).
func useCasePackages(t *testing.T) []useCasePackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json", "../app/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []useCasePackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p useCasePackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if path.Base(p.ImportPath) == "apptest" {
			continue
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 2 {
		t.Fatalf("found %d use-case packages", len(pkgs))
	}
	return pkgs
}

// TestUseCasesKnowNoTransportOrFormat: nothing a use-case package depends on,
// even indirectly, speaks HTTP, maps rows or reads workbooks.
func TestUseCasesKnowNoTransportOrFormat(t *testing.T) {
	for _, p := range useCasePackages(t) {
		for _, dep := range p.Deps {
			switch {
			case dep == "net/http", strings.HasPrefix(dep, "github.com/xuri/excelize"),
				strings.HasPrefix(dep, "github.com/gin-gonic/gin"), strings.HasPrefix(dep, "gorm.io/"):
				t.Errorf("%s depends on %s", p.ImportPath, dep)
			}
		}
	}
}

// TestNoTypeHoldsEveryDoor: no type of the use cases has more than
// maxExported exported methods, counting those promoted from embedded
// types of the use cases.
func TestNoTypeHoldsEveryDoor(t *testing.T) {
	type typeInfo struct {
		methods  map[string]bool
		embedded []string // "importpath.Type"
	}
	types := map[string]*typeInfo{} // "importpath.Type"
	get := func(k string) *typeInfo {
		if types[k] == nil {
			types[k] = &typeInfo{methods: map[string]bool{}}
		}
		return types[k]
	}
	fset := token.NewFileSet()
	for _, p := range useCasePackages(t) {
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, p.Dir+"/"+name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			imports := map[string]string{}
			for _, im := range f.Imports {
				ip := strings.Trim(im.Path.Value, `"`)
				n := path.Base(ip)
				if im.Name != nil {
					n = im.Name.Name
				}
				imports[n] = ip
			}
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil || !d.Name.IsExported() {
						continue
					}
					recv := d.Recv.List[0].Type
					if s, ok := recv.(*ast.StarExpr); ok {
						recv = s.X
					}
					if ix, ok := recv.(*ast.IndexExpr); ok {
						recv = ix.X
					}
					if id, ok := recv.(*ast.Ident); ok {
						get(p.ImportPath + "." + id.Name).methods[d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok {
							continue
						}
						ti := get(p.ImportPath + "." + ts.Name.Name)
						var fields []*ast.Field
						switch x := ts.Type.(type) {
						case *ast.StructType:
							fields = x.Fields.List
						case *ast.InterfaceType:
							fields = x.Methods.List
							for _, m := range x.Methods.List {
								for _, n := range m.Names {
									if n.IsExported() {
										ti.methods[n.Name] = true
									}
								}
							}
						}
						for _, fl := range fields {
							if len(fl.Names) > 0 {
								continue
							}
							e := fl.Type
							if s, ok := e.(*ast.StarExpr); ok {
								e = s.X
							}
							switch e := e.(type) {
							case *ast.Ident:
								ti.embedded = append(ti.embedded, p.ImportPath+"."+e.Name)
							case *ast.SelectorExpr:
								if x, ok := e.X.(*ast.Ident); ok && imports[x.Name] != "" {
									ti.embedded = append(ti.embedded, imports[x.Name]+"."+e.Sel.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	var all func(k string, seen map[string]bool) map[string]bool
	all = func(k string, seen map[string]bool) map[string]bool {
		out := map[string]bool{}
		ti := types[k]
		if ti == nil || seen[k] {
			return out
		}
		seen[k] = true
		for m := range ti.methods {
			out[m] = true
		}
		for _, e := range ti.embedded {
			for m := range all(e, seen) {
				out[m] = true
			}
		}
		return out
	}
	for k := range types {
		if n := len(all(k, map[string]bool{})); n > maxExported {
			t.Errorf("%s has %d exported methods, more than %d: split it by capability", k, n, maxExported)
		}
	}
}
