package config_test

import (
	"go/build"
	"strings"
	"testing"
)

// config sits below the request path: of the project's packages it may
// import only the mask grammar, so that defaults and rules cannot drift
// back up into the packages that serve a request.
func TestImportsNoRequestPath(t *testing.T) {
	t.Parallel()
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/maskresolver/maskresolver/"
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, module) && imp != module+"internal/mask" {
			t.Errorf("config imports %s; only internal/mask is below it", imp)
		}
	}
}
