package samtemplate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeployingDocs: docs/deploying.md has a table row for every parameter,
// with its default as the template declares it, and for every output.
func TestDeployingDocs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "deploying.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(string(b))
	tpl := loadTemplate(t, nil)
	for name, p := range tpl.Parameters {
		cell, ok := rows[name]
		if !ok {
			t.Errorf("docs/deploying.md has no row for parameter %s", name)
			continue
		}
		def := "`" + fmt.Sprint(p.Default) + "`"
		if p.Default == "" {
			def = "`\"\"`"
		}
		if !strings.HasPrefix(cell, def) {
			t.Errorf("docs/deploying.md gives %s the default %s, want %s", name, cell, def)
		}
	}
	for name := range tpl.Outputs {
		if _, ok := rows[name]; !ok {
			t.Errorf("docs/deploying.md has no row for output %s", name)
		}
	}
}

// tableRows maps the first cell of each table row of a Markdown page that
// starts with a code span (its backticks removed) to the second cell.
func tableRows(page string) map[string]string {
	rows := map[string]string{}
	for _, line := range strings.Split(page, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) >= 4 && strings.HasPrefix(line, "| `") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
		}
	}
	return rows
}
