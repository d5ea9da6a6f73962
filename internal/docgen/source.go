package docgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// sources reads the doc comments of struct fields from the module's Go
// files, one package at a time.
type sources struct {
	root string
	pkgs map[string]map[string]*ast.StructType // package path → type name → declaration
}

func newSources(root string) *sources {
	return &sources{root: root, pkgs: map[string]map[string]*ast.StructType{}}
}

// structOf returns the declaration of a named struct type of the module.
func (s *sources) structOf(t reflect.Type) (*ast.StructType, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	rel, ok := strings.CutPrefix(pkg, Module)
	if !ok {
		return nil, nil // another module's type: no comments to read
	}
	types, ok := s.pkgs[pkg]
	if !ok {
		var err error
		if types, err = s.parse(filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(rel, "/")))); err != nil {
			return nil, err
		}
		s.pkgs[pkg] = types
	}
	st, ok := types[t.Name()]
	if !ok {
		return nil, fmt.Errorf("type %s not found in %s", t.Name(), pkg)
	}
	return st, nil
}

// parse reads the struct type declarations of one package directory.
func (s *sources) parse(dir string) (map[string]*ast.StructType, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*ast.StructType{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if st, ok := ts.Type.(*ast.StructType); ok {
					out[ts.Name.Name] = st
				}
			}
		}
	}
	return out, nil
}

// fieldDocs returns the doc comments of a named struct type's fields.
func (s *sources) fieldDocs(t reflect.Type) (map[string]string, error) {
	st, err := s.structOf(t)
	if err != nil || st == nil {
		return map[string]string{}, err
	}
	return docsOf(st), nil
}

// inlineDocs returns the field comments of the anonymous struct type of
// field name of the named struct type parent (a struct or a slice of
// structs declared in place).
func (s *sources) inlineDocs(parent reflect.Type, name string) map[string]string {
	st, err := s.structOf(parent)
	if err != nil || st == nil {
		return map[string]string{}
	}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.Name != name {
				continue
			}
			typ := f.Type
			if at, ok := typ.(*ast.ArrayType); ok {
				typ = at.Elt
			}
			if inner, ok := typ.(*ast.StructType); ok {
				return docsOf(inner)
			}
		}
	}
	return map[string]string{}
}

// docsOf maps each field of a struct declaration to its comment: the doc
// comment above it, else the comment at the end of its line.
func docsOf(st *ast.StructType) map[string]string {
	out := map[string]string{}
	for _, f := range st.Fields.List {
		text := ""
		if f.Doc != nil {
			text = f.Doc.Text()
		} else if f.Comment != nil {
			text = f.Comment.Text()
		}
		text = strings.Join(strings.Fields(text), " ")
		names := f.Names
		if len(names) == 0 { // embedded
			if id := embeddedName(f.Type); id != "" {
				out[id] = text
			}
			continue
		}
		for _, n := range names {
			out[n.Name] = clean(n.Name, text)
		}
	}
	return out
}

func embeddedName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.StarExpr:
		return embeddedName(x.X)
	}
	return ""
}

// clean turns a Go field comment into a table cell: "Socket is the path
// …" becomes "the path …", "AllowedUIDs, when set, …" "when set, …".
func clean(name, text string) string {
	rest, ok := strings.CutPrefix(text, name)
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != ',') {
		return text
	}
	rest = strings.TrimLeft(rest, " ,")
	for _, verb := range []string{"is ", "are "} {
		if r, ok := strings.CutPrefix(rest, verb); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return text
	}
	return rest
}
