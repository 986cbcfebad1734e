package doccheck_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

// TestCodesHaveOneHome keeps every code in internal/answer's table: a
// string constant of a type named Code declared in any other non-test Go
// file under internal/ would be a code whose status that table does not
// decide, and that docs/api.md need not list.
func TestCodesHaveOneHome(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	home := filepath.Join(root, "internal", "answer")
	var tabled []string
	for _, r := range answer.Codes() {
		tabled = append(tabled, string(r.Code))
	}
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, c := range codeConstants(f) {
			switch {
			case filepath.Dir(path) != home:
				t.Errorf("%s declares the code %q: declare it in internal/answer, with its row in the table", path, c)
			case !slices.Contains(tabled, c):
				t.Errorf("internal/answer declares the code %q but its table has no row for it", c)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// codeConstants returns the values of the string constants of type Code or
// <package>.Code declared in f.
func codeConstants(f *ast.File) []string {
	var codes []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if !isCodeType(vs.Type) {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if s, err := strconv.Unquote(lit.Value); err == nil {
					codes = append(codes, s)
				}
			}
		}
	}
	return codes
}

func isCodeType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Code"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Code"
	}
	return false
}
