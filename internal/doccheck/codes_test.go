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
)

// requestLevel are codes the answer carries that are not declared as a
// constant of a type named Code: the umbrella code of a request whose
// masks failed.
var requestLevel = []string{"MaskResolutionFailed"}

// knownCodes are codes the function has answered since its first release.
// The search below must find each of them, so that a change in how codes
// are declared fails this test instead of letting it check nothing.
var knownCodes = []string{
	"InvalidRequest", "PayloadTooLarge", "InvalidMask", "SecretNotAllowed",
	"SecretNotFound", "AccessDenied", "SecretNotKeyValue", "KeyNotFound",
	"TooManyMasks", "ResponseTooLarge", "DecryptionFailure", "UpstreamError",
	"Throttled", "Timeout", "NotFound", "MethodNotAllowed", "InternalError",
}

// answerCodes returns every error code the function can answer: the string
// constants of a type named Code (resolve.Code, secrets.Code, …) declared
// in the non-test Go files under internal/, and the request-level codes
// above.
func answerCodes(t *testing.T) []string {
	t.Helper()
	codes := slices.Clone(requestLevel)
	fset := token.NewFileSet()
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
		codes = append(codes, codeConstants(f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	for _, c := range knownCodes {
		if !slices.Contains(codes, c) {
			t.Fatalf("found no constant of a type named Code with value %q under internal/ (found %q): update answerCodes", c, codes)
		}
	}
	return codes
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
