package doccheck_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/config"
)

// root is the repository's top level, seen from this package.
const root = "../.."

// readDoc returns the text of a page under docs/.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", name))
	if err != nil {
		t.Fatalf("read docs/%s: %v", name, err)
	}
	return string(b)
}

// undocumented returns the names the page does not name as code. A name
// counts when a code span starts with it and ends there or at a space, a
// colon or an equals sign: `CACHE_TTL`, `MAX_MASKS=10` and `Timeout (503)`
// name theirs; `503 Timeout`, `CacheTtlSeconds` and plain text do not. When
// inTable is set the span must stand on a table row (a line starting with
// "|"), where the reference pages keep their lists.
func undocumented(page string, names []string, inTable bool) []string {
	var missing []string
	for _, name := range names {
		re := regexp.MustCompile("`" + regexp.QuoteMeta(name) + "([ :=][^`]*)?`")
		found := false
		for line := range strings.SplitSeq(page, "\n") {
			if inTable && !strings.HasPrefix(strings.TrimSpace(line), "|") {
				continue
			}
			if re.MatchString(line) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, name)
		}
	}
	return missing
}

func TestUndocumented(t *testing.T) {
	t.Parallel()
	page := "# Page\n\n| name | meaning |\n| --- | --- |\n| `CACHE_TTL` | a |\n| `MAX_MASKS=10` | b |\n\nProse names `LOG_LEVEL`, `Throttled (503)` and `503 Timeout`.\n"
	for _, tc := range []struct {
		names   []string
		inTable bool
		want    []string
	}{
		{[]string{"CACHE_TTL", "MAX_MASKS", "LOG_LEVEL"}, false, nil},
		{[]string{"CACHE_TTL", "MAX_MASKS", "LOG_LEVEL"}, true, []string{"LOG_LEVEL"}},
		// A name is not found inside a longer one, nor outside backticks.
		{[]string{"CACHE", "TTL", "Page", "meaning"}, false, []string{"CACHE", "TTL", "Page", "meaning"}},
		// A code span must start with the name.
		{[]string{"Throttled", "Timeout"}, false, []string{"Timeout"}},
	} {
		if got := undocumented(page, tc.names, tc.inTable); !slices.Equal(got, tc.want) {
			t.Errorf("undocumented(%q, inTable %v) = %q, want %q", tc.names, tc.inTable, got, tc.want)
		}
	}
}

// TestConfigurationDocumentsEveryVariable keeps docs/configuration.md's
// table in step with the variables the function reads.
func TestConfigurationDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	if len(config.Variables) == 0 {
		t.Fatal("config.Variables is empty")
	}
	if missing := undocumented(readDoc(t, "configuration.md"), config.Variables, true); len(missing) > 0 {
		t.Errorf("docs/configuration.md has no table row for these variables of config.Variables: %s", strings.Join(missing, ", "))
	}
}

// TestAPIDocumentsEveryCode keeps docs/api.md's table of codes in step with
// internal/answer's: a row for each code, with its status and level.
func TestAPIDocumentsEveryCode(t *testing.T) {
	t.Parallel()
	page := readDoc(t, "api.md")
	var names []string
	for _, r := range answer.Codes() {
		names = append(names, string(r.Code))
		row := regexp.MustCompile(`(?m)^\|\s*` + strconv.Itoa(r.Status) + "\\s*\\|\\s*`" + regexp.QuoteMeta(string(r.Code)) + "`\\s*\\|\\s*" + regexp.QuoteMeta(r.Level.String()) + `\s*\|`)
		if !row.MatchString(page) {
			t.Errorf("docs/api.md has no row | %d | `%s` | %s | (the status and level internal/answer gives it)", r.Status, r.Code, r.Level)
		}
	}
	if missing := undocumented(page, names, true); len(missing) > 0 {
		t.Errorf("docs/api.md has no table row for these error codes: %s", strings.Join(missing, ", "))
	}
}

// TestOperationsDocumentsEveryAlarm keeps docs/operations.md in step with
// the template's alarms.
func TestOperationsDocumentsEveryAlarm(t *testing.T) {
	t.Parallel()
	alarms := readTemplate(t).alarms
	if len(alarms) == 0 {
		t.Fatal("template.yaml has no AWS::CloudWatch::Alarm")
	}
	if missing := undocumented(readDoc(t, "operations.md"), alarms, false); len(missing) > 0 {
		t.Errorf("docs/operations.md does not name these alarms of template.yaml: %s", strings.Join(missing, ", "))
	}
}
