package samtemplate_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"
)

// The repository's root, where template.yaml, samconfig.toml and events/
// live: go test runs in this package's directory.
const repoRoot = "../.."

var (
	templatePath  = filepath.Join(repoRoot, "template.yaml")
	samconfigPath = filepath.Join(repoRoot, "samconfig.toml")
	eventsDir     = filepath.Join(repoRoot, "events")
)

// goformation resolves intrinsics with fake values: this is the stack's
// region, and its account, as goformation sees them.
const (
	fakeRegion  = "us-east-1"
	fakeAccount = "123456789012"
)

// rawTemplate parses template.yaml with yaml.v3, keeping the short-form
// intrinsic tags (!Ref, !If, …) that goformation resolves away.
func rawTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse %s: %v", templatePath, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		t.Fatalf("%s: not a single YAML document", templatePath)
	}
	return doc.Content[0]
}

// node walks mapping keys from n and fails the test when one is missing.
func node(t *testing.T, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	for i, k := range keys {
		v := lookup(n, k)
		if v == nil {
			t.Fatalf("%s: no %s", templatePath, strings.Join(keys[:i+1], "."))
		}
		n = v
	}
	return n
}

func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// assertScalar checks a scalar's tag (e.g. "!Ref", "!Sub", "!!str") and value.
func assertScalar(t *testing.T, n *yaml.Node, what, tag, value string) {
	t.Helper()
	if n.Kind != yaml.ScalarNode || n.Tag != tag || n.Value != value {
		t.Errorf("%s = %s %q, want %s %q", what, n.Tag, n.Value, tag, value)
	}
}

// assertKeys checks that mapping n has exactly the given keys.
func assertKeys(t *testing.T, n *yaml.Node, what string, want ...string) {
	t.Helper()
	if n.Kind != yaml.MappingNode {
		t.Errorf("%s is not a mapping", what)
		return
	}
	var got []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		got = append(got, n.Content[i].Value)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s has keys %q, want %q", what, got, want)
	}
}

// assertIf checks an !If [cond, then, else] and returns then and else.
func assertIf(t *testing.T, n *yaml.Node, what, cond string) (*yaml.Node, *yaml.Node) {
	t.Helper()
	if n.Tag != "!If" || n.Kind != yaml.SequenceNode || len(n.Content) != 3 {
		t.Fatalf("%s is %s, want an !If of three", what, n.Tag)
	}
	assertScalar(t, n.Content[0], what+" condition", "!!str", cond)
	return n.Content[1], n.Content[2]
}

// assertNotEquals checks a condition !Not [!Equals [a, b]] and returns a
// and b.
func assertNotEquals(t *testing.T, n *yaml.Node, what string) (*yaml.Node, *yaml.Node) {
	t.Helper()
	if n.Tag != "!Not" || len(n.Content) != 1 || n.Content[0].Tag != "!Equals" || len(n.Content[0].Content) != 2 {
		t.Fatalf("%s is not !Not [!Equals [...]]", what)
	}
	return n.Content[0].Content[0], n.Content[0].Content[1]
}

// unmodelled lists the properties goformation v7.14.9 cannot read, as
// paths from the template's root to the property.
//
// goformation decodes with DisallowUnknownFields and models
// AWS::Serverless::HttpApi with neither Auth.EnableIamAuthorizer nor
// AccessLogSettings (it spells the latter AccessLogSetting, as for
// AWS::Serverless::Api; SAM's HttpApi takes AccessLogSettings), so it
// rejects the template as written. Nor does it model the function's
// LoggingConfig (of either function) or AutoPublishAliasAllProperties
// (TestLoggingConfig and TestVersionFollowsParameters read them).
var unmodelled = [][]string{
	{"Resources", "HttpApi", "Properties", "Auth", "EnableIamAuthorizer"},
	{"Resources", "HttpApi", "Properties", "AccessLogSettings"},
	{"Resources", "ResolverFunction", "Properties", "LoggingConfig"},
	{"Resources", "PreTrafficHookFunction", "Properties", "LoggingConfig"},
	{"Resources", "ResolverFunction", "Properties", "AutoPublishAliasAllProperties"},
}

// goformationMu serializes goformation's parsing: every parse re-registers
// its YAML tag resolvers in a package-level map (intrinsics/tags.go), a data
// race between the parallel tests that -race reports.
var goformationMu sync.Mutex

// loadTemplate parses template.yaml with goformation, conditions evaluated,
// after the given parameter overrides.
//
// The properties in unmodelled are asserted on the YAML (see
// TestHttpApiRequiresIAM and TestAccessLog) and removed from the copy handed
// to goformation; nothing else is changed.
func loadTemplate(t *testing.T, overrides map[string]any) *cloudformation.Template {
	t.Helper()
	root := rawTemplate(t)
	hide(t, root, unmodelled)
	decideConditionalResources(t, root, overrides)
	tpl := parseYAML(t, root, overrides)
	// goformation does not merge Globals into resources: with a Globals
	// section the tests' assertions would be looking at half the picture.
	if len(tpl.Globals) != 0 {
		t.Fatalf("template has Globals %v: merge them into these assertions", slices.Collect(maps.Keys(tpl.Globals)))
	}
	return tpl
}

func parseYAML(t *testing.T, root *yaml.Node, overrides map[string]any) *cloudformation.Template {
	t.Helper()
	b, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	goformationMu.Lock()
	tpl, err := goformation.ParseYAMLWithOptions(b, &intrinsics.ProcessorOptions{
		EvaluateConditions: true,
		ParameterOverrides: overrides,
	})
	goformationMu.Unlock()
	if err != nil {
		t.Fatalf("goformation: %v", err)
	}
	return tpl
}

// decideConditionalResources removes from root the resources whose
// Condition does not hold under overrides, and the Condition attribute
// from the others. goformation evaluating conditions takes a resource's
// Condition attribute for the Condition intrinsic and replaces the whole
// resource with the condition's value; so the conditions are evaluated
// first, by goformation itself, as outputs of a template holding only the
// parameters and conditions.
func decideConditionalResources(t *testing.T, root *yaml.Node, overrides map[string]any) {
	t.Helper()
	res := node(t, root, "Resources")
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	outputs := &yaml.Node{Kind: yaml.MappingNode}
	conds := map[string]string{} // resource -> condition
	for i := 0; i+1 < len(res.Content); i += 2 {
		if c := lookup(res.Content[i+1], "Condition"); c != nil {
			id := res.Content[i].Value
			conds[id] = c.Value
			outputs.Content = append(outputs.Content, str(id), &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
				str("Value"), {Kind: yaml.SequenceNode, Tag: "!If", Content: []*yaml.Node{str(c.Value), str("yes"), str("no")}},
			}})
		}
	}
	if len(conds) == 0 {
		return
	}
	probe := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("Parameters"), node(t, root, "Parameters"),
		str("Conditions"), node(t, root, "Conditions"),
		str("Resources"), {Kind: yaml.MappingNode},
		str("Outputs"), outputs,
	}}
	holds := parseYAML(t, probe, overrides).Outputs
	var kept []*yaml.Node
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		if c, ok := conds[id]; ok {
			switch holds[id].Value {
			case "no":
				continue
			case "yes":
				for j := 0; j+1 < len(r.Content); j += 2 {
					if r.Content[j].Value == "Condition" {
						r.Content = slices.Delete(r.Content, j, j+2)
						break
					}
				}
			default:
				t.Fatalf("condition %s of %s evaluates to %v", c, id, holds[id].Value)
			}
		}
		kept = append(kept, res.Content[i], r)
	}
	res.Content = kept
}

// hide removes the properties at paths (as in unmodelled) from root. One
// that is not there fails the test: unmodelled would be out of date.
func hide(t *testing.T, root *yaml.Node, paths [][]string) {
	t.Helper()
	for _, path := range paths {
		parent := node(t, root, path[:len(path)-1]...)
		key := path[len(path)-1]
		found := false
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if parent.Content[i].Value == key {
				parent.Content = slices.Delete(parent.Content, i, i+2)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("%s: no %s to hide from goformation", templatePath, strings.Join(path, "."))
		}
	}
}

// openCopy writes root as a template file in a temporary directory and
// returns what goformation.Open, the entry point a tool given the file
// would use, makes of it.
func openCopy(t *testing.T, root *yaml.Node) error {
	t.Helper()
	b, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(templatePath))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	goformationMu.Lock()
	defer goformationMu.Unlock()
	_, err = goformation.Open(path)
	return err
}

func resolverFunction(t *testing.T, tpl *cloudformation.Template) *serverless.Function {
	t.Helper()
	fn, err := tpl.GetServerlessFunctionWithName("ResolverFunction")
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func strictDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatal("trailing data after the JSON value")
	}
}

// statement is one IAM policy statement as goformation hands it over.
type statement struct {
	Sid          string
	Effect       string
	Action       any
	Resource     any
	Condition    map[string]map[string]any
	NotAction    any
	NotResource  any
	NotPrincipal any
	Principal    any
}

func (s statement) actions() []string    { return strings1(s.Action) }
func (s statement) resources() []string  { return strings1(s.Resource) }
func (s statement) String() string       { b, _ := json.Marshal(s); return string(b) }
func (s statement) grants(a string) bool { return slices.Contains(s.actions(), a) }

// strings1 reads an IAM "string or list of strings" field.
func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

func statements(t *testing.T, fn *serverless.Function) []statement {
	t.Helper()
	p := fn.Policies
	if p == nil || p.IAMPolicyDocument == nil {
		t.Fatal("Policies is not a single inline IAM policy document")
	}
	if p.String != nil || p.StringArray != nil || p.IAMPolicyDocumentArray != nil || p.SAMPolicyTemplateArray != nil {
		t.Fatal("Policies mixes an inline document with managed policies or SAM policy templates")
	}
	var out []statement
	for i, raw := range p.IAMPolicyDocument.Statement {
		if raw == nil { // an !If that chose AWS::NoValue
			continue
		}
		b, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		var s statement
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("statement %d %s: %v", i, b, err)
		}
		out = append(out, s)
	}
	return out
}

func find(sts []statement, action string) (statement, bool) {
	for _, s := range sts {
		if s.grants(action) {
			return s, true
		}
	}
	return statement{}, false
}

// subVar matches a ${Name} of an Fn::Sub string (not ${!Literal} and not
// ${Resource.Attribute}).
var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)\}`)

// parameterRefs adds to refs the template parameters that n reads, through
// !Ref, !Sub and the conditions of !If.
func parameterRefs(t *testing.T, root, n *yaml.Node, refs map[string]bool) {
	t.Helper()
	params := node(t, root, "Parameters")
	add := func(name string) {
		if lookup(params, name) != nil {
			refs[name] = true
		}
	}
	switch {
	case n.Tag == "!Ref":
		add(n.Value)
	case n.Tag == "!Sub":
		s := n
		if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
			s = n.Content[0]
		}
		for _, m := range subVar.FindAllStringSubmatch(s.Value, -1) {
			add(m[1])
		}
	case n.Tag == "!If" && len(n.Content) == 3:
		parameterRefs(t, root, node(t, root, "Conditions", n.Content[0].Value), refs)
	}
	for _, c := range n.Content {
		parameterRefs(t, root, c, refs)
	}
}

// readSamconfig reads samconfig.toml's "key = value" lines into a map of
// "table.key" to the value as written (strings keep their quotes). It is
// not a TOML parser: it knows tables, comments and one-line values, which
// is all the file uses.
func readSamconfig(t *testing.T) (map[string]string, []string) {
	t.Helper()
	b, err := os.ReadFile(samconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	var comments []string
	table := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			comments = append(comments, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			table = strings.TrimSpace(line[1 : len(line)-1])
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s:%d: not a table, a comment or key = value: %q", samconfigPath, i+1, line)
			}
			key := strings.TrimSpace(k)
			if table != "" {
				key = table + "." + key
			}
			if _, dup := vals[key]; dup {
				t.Errorf("%s:%d: %s set twice", samconfigPath, i+1, key)
			}
			vals[key] = strings.TrimSpace(v)
		}
	}
	return vals, comments
}
