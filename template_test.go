package maskresolver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"
)

const templatePath = "template.yaml"

// goformation resolves intrinsics with fake values: this is the stack's
// region, and its account, as goformation sees them.
const (
	fakeRegion  = "us-east-1"
	fakeAccount = "123456789012"
)

// readActions is every action the function's role may have, and nothing else.
var readActions = []string{
	"secretsmanager:GetSecretValue",
	"secretsmanager:DescribeSecret",
	"secretsmanager:BatchGetSecretValue",
	"kms:Decrypt",
}

// wantEnv lists the environment the function must carry; config reads it.
var wantEnv = []string{
	"SECRET_ARN_ALLOWLIST",
	"CACHE_TTL",
	"CACHE_MAX_ENTRIES",
	"CACHE_STALE_IF_ERROR",
	"LOG_LEVEL",
	"MAX_BODY_BYTES",
	"MAX_MASKS",
	"MAX_DEPTH",
	"MAX_STRING_BYTES",
	"MAX_SECRETS",
	"MAX_RESPONSE_BYTES",
	"CACHE_NOT_FOUND_TTL",
	"REFRESH_MIN_INTERVAL",
	"PREFETCH_SECRETS",
	"CALLER_RULES",
	"METRICS_NAMESPACE",
	"AWS_XRAY_CONTEXT_MISSING",
}

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

// unmodelled lists the properties goformation v7.14.9 cannot read, as
// paths from the template's root to the property.
//
// goformation decodes with DisallowUnknownFields and models
// AWS::Serverless::HttpApi with neither Auth.EnableIamAuthorizer nor
// AccessLogSettings (it spells the latter AccessLogSetting, as for
// AWS::Serverless::Api; SAM's HttpApi takes AccessLogSettings), so it
// rejects the template as written. Nor does it model the function's
// LoggingConfig or AutoPublishAliasAllProperties (TestLoggingConfig and
// TestVersionFollowsParameters read them).
var unmodelled = [][]string{
	{"Resources", "HttpApi", "Properties", "Auth", "EnableIamAuthorizer"},
	{"Resources", "HttpApi", "Properties", "AccessLogSettings"},
	{"Resources", "ResolverFunction", "Properties", "LoggingConfig"},
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
	for _, path := range unmodelled {
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
	// goformation does not merge Globals into resources: with a Globals
	// section the assertions below would be looking at half the picture.
	if len(tpl.Globals) != 0 {
		t.Fatalf("template has Globals %v: merge them into these assertions", slices.Collect(maps.Keys(tpl.Globals)))
	}
	return tpl
}

func resolverFunction(t *testing.T, tpl *cloudformation.Template) *serverless.Function {
	t.Helper()
	fn, err := tpl.GetServerlessFunctionWithName("ResolverFunction")
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// TestGoformationOpen pins the only things goformation cannot read as is;
// when a goformation release models them this test still passes and
// loadTemplate's workaround can go.
func TestGoformationOpen(t *testing.T) {
	t.Parallel()
	goformationMu.Lock()
	_, err := goformation.Open(templatePath)
	goformationMu.Unlock()
	if err != nil && !slices.ContainsFunc(unmodelled, func(path []string) bool { return strings.Contains(err.Error(), path[len(path)-1]) }) {
		t.Fatalf("goformation.Open: %v", err)
	}
	t.Logf("goformation.Open: %v", err)
}

func TestResolverFunction(t *testing.T) {
	t.Parallel()
	fn := resolverFunction(t, loadTemplate(t, nil))

	str := func(p *string) string {
		if p == nil {
			return "<unset>"
		}
		return *p
	}
	for _, c := range []struct{ name, got, want string }{
		{"Runtime", str(fn.Runtime), "provided.al2023"},
		{"Handler", str(fn.Handler), "bootstrap"},
		{"Tracing", str(fn.Tracing), "Active"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(fn.Architectures, []string{"arm64"}) {
		t.Errorf("Architectures = %q, want [arm64]", fn.Architectures)
	}
	if fn.CodeUri == nil || fn.CodeUri.String == nil || *fn.CodeUri.String != "." {
		t.Errorf("CodeUri is not \".\"")
	}
	if got := fn.AWSCloudFormationMetadata["BuildMethod"]; got != "makefile" {
		t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
	}
	// API Gateway gives up after 30 s; the function must answer before.
	if fn.Timeout == nil || *fn.Timeout >= 30 || *fn.Timeout < 3 {
		t.Errorf("Timeout = %v, want 3..29 s", fn.Timeout)
	}
	if fn.MemorySize == nil || *fn.MemorySize < 128 {
		t.Errorf("MemorySize = %v, want at least 128", fn.MemorySize)
	}
	if fn.Role != nil {
		t.Errorf("Role = %q: the template must create the role from Policies", *fn.Role)
	}
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	fn := resolverFunction(t, loadTemplate(t, nil))
	if fn.Environment == nil {
		t.Fatal("no Environment")
	}
	env := fn.Environment.Variables
	for _, k := range wantEnv {
		if _, ok := env[k]; !ok {
			t.Errorf("environment variable %s missing", k)
		}
	}
	for k := range env {
		if !slices.Contains(wantEnv, k) {
			t.Errorf("unexpected environment variable %s", k)
		}
	}
	want := map[string]string{
		// ${AWS::Partition} resolves to "" in goformation.
		"SECRET_ARN_ALLOWLIST": "arn::secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:*",
		"CACHE_TTL":            "5m",
		"CACHE_MAX_ENTRIES":    "1000",
		"CACHE_STALE_IF_ERROR": "15m",
		"LOG_LEVEL":            "info",
		"MAX_BODY_BYTES":       "1048576",
		"MAX_MASKS":            "1000",
		"MAX_DEPTH":            "64",
		"MAX_STRING_BYTES":     "262144",
		"MAX_SECRETS":          "100",
		"MAX_RESPONSE_BYTES":   "6287360",
		"CACHE_NOT_FOUND_TTL":  "5s",
		"REFRESH_MIN_INTERVAL": "1s",
		// Empty is how the function reads "unset": no prefetch, no
		// per-caller rules.
		"PREFETCH_SECRETS":         "",
		"CALLER_RULES":             "",
		"METRICS_NAMESPACE":        "maskresolver",
		"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}

	// The default allowlist must name the partition, not just leave a hole.
	vars := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "Environment", "Variables")
	ifNode := node(t, vars, "SECRET_ARN_ALLOWLIST")
	if ifNode.Tag != "!If" || len(ifNode.Content) != 3 {
		t.Fatalf("SECRET_ARN_ALLOWLIST is not an !If of three: %s", ifNode.Tag)
	}
	assertScalar(t, ifNode.Content[0], "SECRET_ARN_ALLOWLIST condition", "!!str", "UseDefaultAllowlist")
	assertScalar(t, ifNode.Content[1], "SECRET_ARN_ALLOWLIST default", "!Sub",
		"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*")
	assertScalar(t, ifNode.Content[2], "SECRET_ARN_ALLOWLIST given", "!Ref", "SecretArnAllowlist")
}

func TestEnvironmentFollowsParameters(t *testing.T) {
	t.Parallel()
	allow := "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-*,arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/*"
	rules := `[{"callers":["arn:aws:iam::111122223333:role/workato-*"],"secrets":["arn:aws:secretsmanager:*:111122223333:secret:prod/*"]}]`
	prefetch := []any{
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-db-AbCdEf",
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/api-GhIjKl",
	}
	fn := resolverFunction(t, loadTemplate(t, map[string]any{
		"SecretArnAllowlist": allow,
		"LogLevel":           "debug",
		"CacheTtl":           "90s",
		"CallerRules":        rules,
		"MaxDepth":           "16",
		"MetricsNamespace":   "acme/maskresolver",
		"RefreshMinInterval": "250ms",
		"PrefetchSecretArns": prefetch,
	}))
	env := fn.Environment.Variables
	for k, v := range map[string]string{
		"SECRET_ARN_ALLOWLIST": allow,
		"LOG_LEVEL":            "debug",
		"CACHE_TTL":            "90s",
		"CALLER_RULES":         rules,
		"MAX_DEPTH":            "16",
		"METRICS_NAMESPACE":    "acme/maskresolver",
		"REFRESH_MIN_INTERVAL": "250ms",
		"PREFETCH_SECRETS":     prefetch[0].(string) + "," + prefetch[1].(string),
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
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

// checkPolicy asserts what must hold for every parameter combination.
func checkPolicy(t *testing.T, sts []statement) {
	t.Helper()
	for _, s := range sts {
		if s.Effect != "Allow" {
			t.Errorf("statement %s: Effect %q, want Allow", s, s.Effect)
		}
		if s.NotAction != nil || s.NotResource != nil || s.Principal != nil || s.NotPrincipal != nil {
			t.Errorf("statement %s uses NotAction, NotResource or a Principal", s)
		}
		if len(s.actions()) == 0 || len(s.resources()) == 0 {
			t.Errorf("statement %s: no Action or no Resource", s)
		}
		for _, a := range s.actions() {
			if !slices.Contains(readActions, a) {
				t.Errorf("statement %s grants %q, not one of %q", s, a, readActions)
			}
			for _, bad := range []string{"*", "Put", "Delete", "Update", "Create", "Restore", "Rotate", "Tag", "Replicate", "Policy"} {
				if strings.Contains(a, bad) {
					t.Errorf("statement %s grants %q", s, a)
				}
			}
		}
		for _, r := range s.resources() {
			if r == "" {
				t.Errorf("statement %s has an empty Resource", s)
			}
			if r == "*" && !slices.Equal(s.actions(), []string{"secretsmanager:BatchGetSecretValue"}) {
				t.Errorf("statement %s: only secretsmanager:BatchGetSecretValue may be granted on \"*\"", s)
			}
		}
	}
	for _, a := range []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:BatchGetSecretValue"} {
		n := 0
		for _, s := range sts {
			if s.grants(a) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s granted by %d statements, want 1", a, n)
		}
	}
}

func find(sts []statement, action string) (statement, bool) {
	for _, s := range sts {
		if s.grants(action) {
			return s, true
		}
	}
	return statement{}, false
}

func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	sts := statements(t, resolverFunction(t, loadTemplate(t, nil)))
	checkPolicy(t, sts)
	if len(sts) != 2 {
		t.Errorf("%d statements without KMS keys, want 2: %v", len(sts), sts)
	}
	read, _ := find(sts, "secretsmanager:GetSecretValue")
	want := []string{"arn::secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:*"}
	if !slices.Equal(read.resources(), want) {
		t.Errorf("read statement resources %q, want %q (own account and region)", read.resources(), want)
	}
	if !slices.Equal(read.actions(), []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}) {
		t.Errorf("read statement actions %q", read.actions())
	}
	batch, _ := find(sts, "secretsmanager:BatchGetSecretValue")
	if !slices.Equal(batch.resources(), []string{"*"}) {
		t.Errorf("BatchGetSecretValue resources %q, want [*]", batch.resources())
	}
	if _, ok := find(sts, "kms:Decrypt"); ok {
		t.Error("kms:Decrypt granted although KmsKeyArns is empty")
	}
}

func TestPolicyFollowsParameters(t *testing.T) {
	t.Parallel()
	allow := []string{
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-*",
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/*",
	}
	keys := []any{
		"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
	}
	sts := statements(t, resolverFunction(t, loadTemplate(t, map[string]any{
		"SecretArnAllowlist": strings.Join(allow, ","),
		"KmsKeyArns":         keys,
	})))
	checkPolicy(t, sts)
	if len(sts) != 3 {
		t.Errorf("%d statements with KMS keys, want 3: %v", len(sts), sts)
	}
	read, _ := find(sts, "secretsmanager:GetSecretValue")
	if !slices.Equal(read.resources(), allow) {
		t.Errorf("read statement resources %q, want the allowlist %q", read.resources(), allow)
	}
	kms, ok := find(sts, "kms:Decrypt")
	if !ok {
		t.Fatal("kms:Decrypt not granted although KmsKeyArns is set")
	}
	if !slices.Equal(kms.actions(), []string{"kms:Decrypt"}) {
		t.Errorf("KMS statement actions %q, want [kms:Decrypt]", kms.actions())
	}
	if got := kms.resources(); len(got) != len(keys) || got[0] != keys[0] || got[1] != keys[1] {
		t.Errorf("KMS statement resources %q, want %q", got, keys)
	}
	// goformation resolves ${AWS::URLSuffix} to ""; the raw template must
	// name it, so that aws-cn's amazonaws.com.cn works too.
	want := map[string]map[string]any{"StringLike": {"kms:ViaService": "secretsmanager.*."}}
	if raw, err := os.ReadFile("template.yaml"); err != nil || !strings.Contains(string(raw), "kms:ViaService: !Sub secretsmanager.*.${AWS::URLSuffix}") {
		t.Errorf("the KMS condition must be secretsmanager.*.${AWS::URLSuffix} (any region, any partition): %v", err)
	}
	if got, _ := json.Marshal(kms.Condition); string(got) != mustJSON(t, want) {
		t.Errorf("KMS statement Condition %s, want %s", got, mustJSON(t, want))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConditions(t *testing.T) {
	t.Parallel()
	c := node(t, rawTemplate(t), "Conditions")
	eq := node(t, c, "UseDefaultAllowlist")
	if eq.Tag != "!Equals" || len(eq.Content) != 2 {
		t.Fatalf("UseDefaultAllowlist is %s, want !Equals", eq.Tag)
	}
	assertScalar(t, eq.Content[0], "UseDefaultAllowlist[0]", "!Ref", "SecretArnAllowlist")
	assertScalar(t, eq.Content[1], "UseDefaultAllowlist[1]", "!!str", "")

	// The kms statement is present only under HasKmsKeys.
	sts := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "Policies", "Statement")
	var ifs []*yaml.Node
	for _, s := range sts.Content {
		if s.Tag == "!If" {
			ifs = append(ifs, s)
		}
	}
	if len(ifs) != 1 || len(ifs[0].Content) != 3 {
		t.Fatalf("want exactly one conditional statement (kms:Decrypt), got %d", len(ifs))
	}
	assertScalar(t, ifs[0].Content[0], "kms statement condition", "!!str", "HasKmsKeys")
	assertScalar(t, ifs[0].Content[2], "kms statement else", "!Ref", "AWS::NoValue")
	node(t, c, "HasKmsKeys")
}

// The API's one route, as the OpenAPI body names it; the invoke
// permission's source ARN ends with it.
const (
	resolvePath   = "/v1/resolve"
	resolveMethod = "post"
)

// Lambda integration URIs in SAM's own form for a function event, naming
// the alias (ProvisionedConcurrency above 0) or the function ($LATEST).
const (
	aliasIntegrationURI    = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ResolverFunction.Alias}/invocations"
	functionIntegrationURI = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ResolverFunction.Arn}/invocations"
)

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

// TestHttpApiRoute: POST /v1/resolve is written in the HttpApi's OpenAPI
// body, and its integration invokes the "live" alias only under
// HasProvisionedConcurrency, the function ($LATEST) otherwise. A function
// event would make SAM point it at the alias whatever the condition, and
// separate AWS::ApiGatewayV2::Route resources would be dropped by the next
// reimport of the body (aws/serverless-application-model#1971).
func TestHttpApiRoute(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	if ev := lookup(node(t, root, "Resources", "ResolverFunction", "Properties"), "Events"); ev != nil {
		t.Error("ResolverFunction has Events: SAM would point an HttpApi event at the alias even with ProvisionedConcurrency 0")
	}
	if fn := resolverFunction(t, loadTemplate(t, nil)); len(fn.Events) != 0 {
		t.Errorf("goformation sees %d function events, want none", len(fn.Events))
	}

	body := node(t, root, "Resources", "HttpApi", "Properties", "DefinitionBody")
	// No document-level security, CORS or other extension: SAM adds the
	// AWS_IAM scheme and security from Auth.
	assertKeys(t, body, "DefinitionBody", "openapi", "info", "paths")
	assertScalar(t, node(t, body, "openapi"), "DefinitionBody.openapi", "!!str", "3.0.1")
	assertScalar(t, node(t, body, "info", "title"), "DefinitionBody.info.title", "!Ref", "AWS::StackName")
	paths := node(t, body, "paths")
	assertKeys(t, paths, "DefinitionBody.paths", resolvePath)
	assertKeys(t, node(t, paths, resolvePath), resolvePath, resolveMethod)
	op := node(t, paths, resolvePath, resolveMethod)
	// No security of its own: SAM fills in the DefaultAuthorizer (AWS_IAM,
	// which TestSamTranslation reads in the translated body); a second
	// statement of it here could only disagree.
	assertKeys(t, op, "the resolve operation", "responses", "x-amazon-apigateway-integration")

	in := node(t, op, "x-amazon-apigateway-integration")
	assertKeys(t, in, "the resolve integration", "type", "httpMethod", "payloadFormatVersion", "uri")
	assertScalar(t, node(t, in, "type"), "integration type", "!!str", "aws_proxy")
	// Lambda is always invoked with POST, whatever the route's method.
	assertScalar(t, node(t, in, "httpMethod"), "integration httpMethod", "!!str", "POST")
	assertScalar(t, node(t, in, "payloadFormatVersion"), "integration payloadFormatVersion", "!!str", "2.0")
	alias, function := assertIf(t, node(t, in, "uri"), "integration uri", "HasProvisionedConcurrency")
	assertScalar(t, alias, "integration uri with provisioned concurrency", "!Sub", aliasIntegrationURI)
	assertScalar(t, function, "integration uri without", "!Sub", functionIntegrationURI)
}

// TestApiInvokePermission: API Gateway may invoke the target the route
// names (the alias or the function: a permission on one does not cover the
// other), and only from POST /v1/resolve of this API.
func TestApiInvokePermission(t *testing.T) {
	t.Parallel()
	res := node(t, rawTemplate(t), "Resources")
	var perms []string
	for i := 0; i+1 < len(res.Content); i += 2 {
		if ty := lookup(res.Content[i+1], "Type"); ty != nil && ty.Value == "AWS::Lambda::Permission" {
			perms = append(perms, res.Content[i].Value)
		}
	}
	if !slices.Equal(perms, []string{"ApiInvokePermission"}) {
		t.Fatalf("Lambda permissions %q, want only ApiInvokePermission", perms)
	}
	p := node(t, res, "ApiInvokePermission", "Properties")
	// Nothing but the source ARN says who may invoke (no SourceAccount,
	// PrincipalOrgID or FunctionUrlAuthType to reason about).
	assertKeys(t, p, "ApiInvokePermission", "Action", "FunctionName", "Principal", "SourceArn")
	assertScalar(t, node(t, p, "Action"), "ApiInvokePermission.Action", "!!str", "lambda:InvokeFunction")
	assertScalar(t, node(t, p, "Principal"), "ApiInvokePermission.Principal", "!!str", "apigateway.amazonaws.com")
	alias, function := assertIf(t, node(t, p, "FunctionName"), "ApiInvokePermission.FunctionName", "HasProvisionedConcurrency")
	assertScalar(t, alias, "ApiInvokePermission.FunctionName with provisioned concurrency", "!Ref", "ResolverFunction.Alias")
	assertScalar(t, function, "ApiInvokePermission.FunctionName without", "!Ref", "ResolverFunction")
	// Any stage (only $default exists), this API, this route only.
	route := strings.ToUpper(resolveMethod) + resolvePath
	assertScalar(t, node(t, p, "SourceArn"), "ApiInvokePermission.SourceArn", "!Sub",
		"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/"+route)
}

func TestHttpApiRequiresIAM(t *testing.T) {
	t.Parallel()
	api, err := loadTemplate(t, nil).GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		t.Fatal(err)
	}
	if api.Auth == nil || api.Auth.DefaultAuthorizer == nil || *api.Auth.DefaultAuthorizer != "AWS_IAM" {
		t.Error("HttpApi Auth.DefaultAuthorizer is not AWS_IAM")
	}
	if api.Auth != nil && api.Auth.Authorizers != nil {
		t.Errorf("HttpApi defines other authorizers: %v", api.Auth.Authorizers)
	}
	// The output URL has no stage segment: only right for the $default stage.
	if api.StageName != nil && *api.StageName != "$default" {
		t.Errorf("StageName %q: ApiUrl assumes $default", *api.StageName)
	}
	if api.DisableExecuteApiEndpoint != nil && *api.DisableExecuteApiEndpoint {
		t.Error("execute-api endpoint disabled, but ApiUrl points at it")
	}
	// Without EnableIamAuthorizer SAM rejects AWS_IAM as DefaultAuthorizer;
	// goformation does not model it (see loadTemplate).
	auth := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "Auth")
	assertScalar(t, node(t, auth, "EnableIamAuthorizer"), "HttpApi Auth.EnableIamAuthorizer", "!!bool", "true")
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	out := node(t, rawTemplate(t), "Outputs")
	assertScalar(t, node(t, out, "ApiUrl", "Value"), "ApiUrl", "!Sub",
		"https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/v1/resolve")
	assertScalar(t, node(t, out, "ResolverFunctionArn", "Value"), "ResolverFunctionArn", "!GetAtt", "ResolverFunction.Arn")
	// SAM's name for the alias AutoPublishAlias creates.
	assertScalar(t, node(t, out, "ResolverFunctionAliasArn", "Value"), "ResolverFunctionAliasArn", "!Ref", "ResolverFunction.Alias")
	assertScalar(t, node(t, out, "ResolverFunctionRoleArn", "Value"), "ResolverFunctionRoleArn", "!GetAtt", "ResolverFunctionRole.Arn")
	assertScalar(t, node(t, out, "FunctionLogGroupName", "Value"), "FunctionLogGroupName", "!Ref", "FunctionLogGroup")
	assertScalar(t, node(t, out, "ApiAccessLogGroupName", "Value"), "ApiAccessLogGroupName", "!Ref", "ApiAccessLogGroup")

	tpl := loadTemplate(t, nil)
	for _, name := range []string{"ApiUrl", "ResolverFunctionArn", "ResolverFunctionAliasArn", "ResolverFunctionRoleArn", "FunctionLogGroupName", "ApiAccessLogGroupName"} {
		if _, ok := tpl.Outputs[name]; !ok {
			t.Errorf("goformation sees no output %s", name)
		}
	}
}

func TestParameters(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t, nil)
	want := map[string]struct {
		typ string
		def any
	}{
		"SecretArnAllowlist":  {"String", ""},
		"CacheTtl":            {"String", "5m"},
		"CacheMaxEntries":     {"Number", "1000"},
		"CacheStaleIfError":   {"String", "15m"},
		"LogLevel":            {"String", "info"},
		"KmsKeyArns":          {"CommaDelimitedList", ""},
		"MaxBodyBytes":        {"Number", "1048576"},
		"MaxMasks":            {"Number", "1000"},
		"MaxDepth":            {"Number", "64"},
		"MaxResponseBytes":    {"Number", "6287360"},
		"CacheNotFoundTtl":    {"String", "5s"},
		"CallerRules":         {"String", ""},
		"MetricsNamespace":    {"String", "maskresolver"},
		"AlarmTopicArn":       {"String", ""},
		"ReservedConcurrency": {"Number", "-1"},
		"RefreshMinInterval":  {"String", "1s"},
		// An empty list: PREFETCH_SECRETS is then "", read as unset.
		"PrefetchSecretArns":     {"CommaDelimitedList", ""},
		"ProvisionedConcurrency": {"Number", "0"},
		"ConfigRevision":         {"String", "1"},
		// Not environment variables, so plain numbers.
		"ThrottlingRateLimit":  {"Number", float64(50)},
		"ThrottlingBurstLimit": {"Number", float64(100)},
		"LogRetentionInDays":   {"Number", float64(30)},
	}
	for name, w := range want {
		p, ok := tpl.Parameters[name]
		if !ok {
			t.Errorf("parameter %s missing", name)
			continue
		}
		if p.Type != w.typ || p.Default != w.def {
			t.Errorf("parameter %s: %s default %#v, want %s default %#v", name, p.Type, p.Default, w.typ, w.def)
		}
	}
	if got := tpl.Parameters["LogLevel"].AllowedValues; !slices.Equal(got, []any{"debug", "info", "warn", "error"}) {
		t.Errorf("LogLevel AllowedValues %v", got)
	}
	// Every Go duration parameter takes the same shapes.
	durations := deref(tpl.Parameters["CacheTtl"].AllowedPattern)
	for _, name := range []string{"CacheStaleIfError", "CacheNotFoundTtl", "RefreshMinInterval"} {
		if got := deref(tpl.Parameters[name].AllowedPattern); got != durations {
			t.Errorf("%s AllowedPattern %q, want CacheTtl's %q", name, got, durations)
		}
	}
	if min := tpl.Parameters["ProvisionedConcurrency"].MinValue; min == nil || *min != 0 {
		t.Errorf("ProvisionedConcurrency MinValue %v, want 0", min)
	}
	// Bounded, so that the VersionDescription stays within 256 characters.
	if rev := tpl.Parameters["ConfigRevision"]; rev.MaxLength == nil || *rev.MaxLength > 16 || rev.AllowedPattern == nil {
		t.Errorf("ConfigRevision MaxLength %v, AllowedPattern %v: want at most 16 characters of a pattern", rev.MaxLength, rev.AllowedPattern)
	}
}

// TestCfnLint runs the linter CI runs; the SAM translator inside it catches
// what the structural tests above cannot (bad transforms, enum values).
func TestCfnLint(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint is not on PATH and CI=true: install cfn-lint (pip install cfn-lint)")
		}
		t.Skip("cfn-lint is not on PATH; install it (pip install cfn-lint) to lint template.yaml")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, templatePath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("cfn-lint %s: %v\n%s", templatePath, err, out)
	}
}

// samTranslate is the SAM transform CloudFormation runs at deploy time:
// AWS's own translator (the Python package samtranslator, a dependency of
// cfn-lint), with no managed policies to look up. It reads a template on
// stdin and writes the expanded CloudFormation template on stdout.
const samTranslate = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

json.dump(transform(yaml_parse(sys.stdin.read()), {}, NoManagedPolicies()), sys.stdout)
`

// translateTemplate runs template.yaml through samTranslate. The code is
// given as an S3 object, as sam deploy uploads it: the translator refuses a
// local path.
func translateTemplate(t *testing.T) map[string]any {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import samtranslator").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the SAM translator is not importable from python3 and CI=true: pip install aws-sam-translator (%v)", err)
		}
		t.Skipf("the SAM translator is not importable from python3 (pip install aws-sam-translator): %v", err)
	}
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	const local = "\n      CodeUri: .\n"
	if !bytes.Contains(b, []byte(local)) {
		t.Fatalf("%s: no %q to replace with an S3 object", templatePath, strings.TrimSpace(local))
	}
	b = bytes.Replace(b, []byte(local), []byte("\n      CodeUri: s3://bucket/key.zip\n"), 1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", samTranslate)
	cmd.Stdin = bytes.NewReader(b)
	// The translator needs a region for the partition; none is called.
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION="+fakeRegion)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("SAM translator: %v\n%s", err, stderr.Bytes())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("SAM translator output: %v", err)
	}
	return out
}

// jsonPath walks maps of a decoded JSON document and fails when a key is
// missing.
func jsonPath(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("translated template: %s is not an object", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("translated template: no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

// choose evaluates an Fn::If on condition the way CloudFormation does.
func choose(t *testing.T, v any, condition string, holds bool) any {
	t.Helper()
	m, _ := v.(map[string]any)
	args, _ := m["Fn::If"].([]any)
	if len(m) != 1 || len(args) != 3 || args[0] != condition {
		t.Fatalf("translated template: %s is not an Fn::If on %s", mustJSON(t, v), condition)
	}
	if holds {
		return args[1]
	}
	return args[2]
}

// TestSamTranslation expands the template with AWS's SAM translator and
// checks what CloudFormation is handed: the route that SAM secures with
// IAM, with the target and the invoke permission that ProvisionedConcurrency
// chooses (CloudFormation evaluates the conditions, so both branches are
// read here), and no other route, integration or permission.
func TestSamTranslation(t *testing.T) {
	t.Parallel()
	res := jsonPath(t, translateTemplate(t), "Resources").(map[string]any)
	types := map[string][]string{}
	for name, r := range res {
		ty, _ := jsonPath(t, r, "Type").(string)
		types[ty] = append(types[ty], name)
	}
	for _, ty := range []string{"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration"} {
		if len(types[ty]) != 0 {
			t.Errorf("%s %q: routes belong in the API's body, which a reimport would enforce", ty, types[ty])
		}
	}
	if perms := types["AWS::Lambda::Permission"]; !slices.Equal(perms, []string{"ApiInvokePermission"}) {
		t.Errorf("Lambda permissions %q, want only ApiInvokePermission", perms)
	}
	aliases := types["AWS::Lambda::Alias"]
	if len(aliases) != 1 {
		t.Fatalf("aliases %q, want the one AutoPublishAlias makes", aliases)
	}
	alias := aliases[0]
	if jsonPath(t, res[alias], "Properties", "Name") != "live" {
		t.Errorf("alias %s is not named live", alias)
	}

	api := jsonPath(t, res["HttpApi"], "Properties", "Body")
	paths := jsonPath(t, api, "paths").(map[string]any)
	if len(paths) != 1 || len(jsonPath(t, paths, resolvePath).(map[string]any)) != 1 {
		t.Errorf("the API's paths are %s, want only %s %s", mustJSON(t, paths), resolveMethod, resolvePath)
	}
	op := jsonPath(t, paths, resolvePath, resolveMethod)
	if got, want := mustJSON(t, jsonPath(t, op, "security")), `[{"AWS_IAM":[]}]`; got != want {
		t.Errorf("%s %s security %s, want %s", resolveMethod, resolvePath, got, want)
	}
	if got := mustJSON(t, jsonPath(t, api, "components", "securitySchemes", "AWS_IAM")); !strings.Contains(got, `"x-amazon-apigateway-authtype":"awsSigv4"`) {
		t.Errorf("AWS_IAM security scheme %s is not SigV4", got)
	}
	in := jsonPath(t, op, "x-amazon-apigateway-integration")
	for k, want := range map[string]string{"type": "aws_proxy", "httpMethod": "POST", "payloadFormatVersion": "2.0"} {
		if got := jsonPath(t, in, k); got != want {
			t.Errorf("integration %s = %v, want %s", k, got, want)
		}
	}

	perm := jsonPath(t, res["ApiInvokePermission"], "Properties")
	wantURI := func(target string) string {
		return "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${" + target + "}/invocations"
	}
	for _, c := range []struct {
		name              string
		provisioned       bool
		uriTarget, permTo string
	}{
		{"ProvisionedConcurrency 0", false, "ResolverFunction.Arn", "ResolverFunction"},
		{"ProvisionedConcurrency 5", true, alias, alias},
	} {
		uri := choose(t, jsonPath(t, in, "uri"), "HasProvisionedConcurrency", c.provisioned)
		if got, want := mustJSON(t, uri), mustJSON(t, map[string]any{"Fn::Sub": wantURI(c.uriTarget)}); got != want {
			t.Errorf("%s: integration uri %s, want %s", c.name, got, want)
		}
		fn := choose(t, jsonPath(t, perm, "FunctionName"), "HasProvisionedConcurrency", c.provisioned)
		if got, want := mustJSON(t, fn), mustJSON(t, map[string]any{"Ref": c.permTo}); got != want {
			t.Errorf("%s: permission FunctionName %s, want %s", c.name, got, want)
		}
	}
	if got, want := mustJSON(t, jsonPath(t, perm, "SourceArn")), mustJSON(t, map[string]any{
		"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/" + strings.ToUpper(resolveMethod) + resolvePath,
	}); got != want {
		t.Errorf("permission SourceArn %s, want %s", got, want)
	}

	// The one stage: $default, deployed on every change of the API, with
	// the stage-wide throttling and no per-route settings.
	stages := types["AWS::ApiGatewayV2::Stage"]
	if len(stages) != 1 {
		t.Fatalf("stages %q, want SAM's $default", stages)
	}
	stage := jsonPath(t, res[stages[0]], "Properties")
	if jsonPath(t, stage, "StageName") != "$default" || jsonPath(t, stage, "AutoDeploy") != true {
		t.Errorf("stage %s is not the auto-deployed $default", stages[0])
	}
	jsonPath(t, stage, "DefaultRouteSettings", "ThrottlingRateLimit")
	jsonPath(t, stage, "AccessLogSettings", "Format")
	if _, ok := stage.(map[string]any)["RouteSettings"]; ok {
		t.Error("the stage has RouteSettings overriding the default throttling")
	}
}

// TestEvents decodes every sample event with aws-lambda-go's types, refusing
// unknown fields, so a misspelt field fails here rather than in sam local.
func TestEvents(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{
		"http-resolve.json", "http-dry-run.json", "http-base64.json", "http-failing.json",
		"http-not-found.json", "rest-resolve.json", "direct.json", "env.json",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("events/%s missing", want)
		}
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("events", name))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(name, "http-"):
				var ev events.APIGatewayV2HTTPRequest
				strictDecode(t, b, &ev)
				checkHTTPEvent(t, name, ev)
			case strings.HasPrefix(name, "rest-"):
				var ev events.APIGatewayProxyRequest
				strictDecode(t, b, &ev)
				if ev.HTTPMethod != "POST" || ev.Path != "/v1/resolve" || ev.Resource != "/v1/resolve" {
					t.Errorf("REST event %s %s (resource %s), want POST /v1/resolve", ev.HTTPMethod, ev.Path, ev.Resource)
				}
				if ev.RequestContext.Identity.UserArn == "" {
					t.Error("REST event has no requestContext.identity.userArn")
				}
				checkRequest(t, []byte(ev.Body), 2)
			case name == "direct.json":
				checkRequest(t, b, 1)
			case name == "env.json":
				checkEnvFile(t, b)
			case name == "secrets.json":
				var v map[string]any
				strictDecode(t, b, &v)
			default:
				t.Errorf("unknown kind of event %s: name it http-*, rest-*, direct.json or env.json", name)
			}
		})
	}
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

func checkHTTPEvent(t *testing.T, name string, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	rc := ev.RequestContext
	if ev.Version != "2.0" {
		t.Errorf("version %q, want 2.0", ev.Version)
	}
	if rc.HTTP.Path != ev.RawPath || rc.RouteKey != ev.RouteKey || ev.RouteKey != rc.HTTP.Method+" "+ev.RawPath {
		t.Errorf("routeKey %q / %q disagrees with %s %s", ev.RouteKey, rc.RouteKey, rc.HTTP.Method, ev.RawPath)
	}
	if rc.Stage != "$default" {
		t.Errorf("stage %q, want $default", rc.Stage)
	}
	if rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN != "arn:aws:sts::137149879143:assumed-role/workato-connector/workato-backend" {
		t.Error("requestContext.authorizer.iam.userArn is not the workato-connector role")
	}
	if name == "http-not-found.json" {
		if ev.RouteKey != "GET /v1/other" || ev.Body != "" {
			t.Errorf("not-found event is %q with body %q, want GET /v1/other without a body", ev.RouteKey, ev.Body)
		}
		return
	}
	if ev.RouteKey != "POST /v1/resolve" {
		t.Errorf("routeKey %q, want POST /v1/resolve", ev.RouteKey)
	}
	if ev.Headers["content-type"] != "application/json" {
		t.Errorf("content-type %q", ev.Headers["content-type"])
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatalf("isBase64Encoded but body is not base64: %v", err)
		}
	} else if name == "http-base64.json" {
		t.Error("http-base64.json is not isBase64Encoded")
	}
	if cl := ev.Headers["content-length"]; cl != "" && cl != strconv.Itoa(len(body)) {
		t.Errorf("content-length %s, body is %d bytes", cl, len(body))
	}
	want := map[string]int{"http-resolve.json": 2, "http-dry-run.json": 2, "http-base64.json": 2, "http-failing.json": 3, "http-refresh.json": 2}
	req := checkRequest(t, body, want[name])
	if dry := req["dry_run"] == true; dry != (name == "http-dry-run.json") {
		t.Errorf("dry_run = %v", req["dry_run"])
	}
}

// checkRequest checks a request body: a JSON object with connection, only
// known fields, and the given number of masks.
func checkRequest(t *testing.T, body []byte, masks int) map[string]any {
	t.Helper()
	var req map[string]any
	strictDecode(t, body, &req)
	if _, ok := req["connection"]; !ok {
		t.Error("request has no connection")
	}
	for k, v := range req {
		switch k {
		case "connection", "dry_run":
		case "max_age": // seconds, a non-negative integer (SPEC §8)
			if n, ok := v.(float64); !ok || n < 0 || n != math.Trunc(n) {
				t.Errorf("max_age = %v, want a non-negative integer", v)
			}
		default:
			t.Errorf("request has unknown field %q", k)
		}
	}
	if n := strings.Count(string(body), "{{workato:sm:"); masks != 0 && n != masks {
		t.Errorf("request has %d masks, want %d", n, masks)
	}
	return req
}

// checkEnvFile checks the --env-vars file: sam local only overrides
// variables the template declares, so any other name would be silently lost.
func checkEnvFile(t *testing.T, b []byte) {
	t.Helper()
	var env map[string]map[string]string
	strictDecode(t, b, &env)
	vars, ok := env["ResolverFunction"]
	if !ok {
		t.Fatal("env.json has no ResolverFunction")
	}
	for k := range env {
		if k != "ResolverFunction" && k != "Parameters" {
			t.Errorf("env.json names %q, not a function of the template", k)
		}
	}
	for k := range vars {
		if !slices.Contains(wantEnv, k) {
			t.Errorf("env.json sets %s, which the template does not declare (sam local would drop it)", k)
		}
	}
	if len(vars) == 0 {
		t.Error("env.json sets nothing")
	}
}

// TestResourceTypes pins every resource the template declares, so that
// nothing — an IAM role or policy above all — arrives without a test.
func TestResourceTypes(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"ResolverFunction":             "AWS::Serverless::Function",
		"HttpApi":                      "AWS::Serverless::HttpApi",
		"ApiAccessLogGroup":            "AWS::Logs::LogGroup",
		"FunctionLogGroup":             "AWS::Logs::LogGroup",
		"FunctionErrorsAlarm":          "AWS::CloudWatch::Alarm",
		"FunctionThrottlesAlarm":       "AWS::CloudWatch::Alarm",
		"Api5xxRateAlarm":              "AWS::CloudWatch::Alarm",
		"SecretsManagerThrottledAlarm": "AWS::CloudWatch::Alarm",
		// Quota pressure: throttles absorbed, before they become 503s.
		"SecretsManagerQuotaPressureAlarm": "AWS::CloudWatch::Alarm",
		// The route's invoke permission (TestApiInvokePermission), which
		// SAM wrote for the function event before.
		"ApiInvokePermission": "AWS::Lambda::Permission",
	}
	res := node(t, rawTemplate(t), "Resources")
	got := map[string]string{}
	for i := 0; i+1 < len(res.Content); i += 2 {
		got[res.Content[i].Value] = node(t, res.Content[i+1], "Type").Value
	}
	if !maps.Equal(got, want) {
		t.Errorf("resources %v, want %v", got, want)
	}
}

// TestOnlyReadActions walks the whole template for IAM actions: the
// function's policy must stay the only grant to the function, and grant only
// reads. The Lambda permission's Action is what API Gateway may do to the
// function, pinned by TestApiInvokePermission.
func TestOnlyReadActions(t *testing.T) {
	t.Parallel()
	var walk func(n *yaml.Node, under string)
	n := 0
	walk = func(y *yaml.Node, under string) {
		switch y.Kind {
		case yaml.MappingNode:
			if ty := lookup(y, "Type"); ty != nil && ty.Value == "AWS::Lambda::Permission" {
				return
			}
			for i := 0; i+1 < len(y.Content); i += 2 {
				walk(y.Content[i+1], y.Content[i].Value)
			}
		case yaml.SequenceNode:
			for _, c := range y.Content {
				walk(c, under)
			}
		case yaml.ScalarNode:
			if under == "Action" || under == "NotAction" {
				n++
				if under == "NotAction" || !slices.Contains(readActions, y.Value) {
					t.Errorf("%s %q in the template, want only %q", under, y.Value, readActions)
				}
			}
		}
	}
	walk(rawTemplate(t), "")
	if n != len(readActions) {
		t.Errorf("%d Action entries in the template, want exactly the %d of the function's policy", n, len(readActions))
	}
}

func TestHttpApiThrottling(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		overrides   map[string]any
		rate, burst float64
	}{
		{"defaults", nil, 50, 100},
		{"overridden", map[string]any{"ThrottlingRateLimit": 7, "ThrottlingBurstLimit": 9}, 7, 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api, err := loadTemplate(t, c.overrides).GetServerlessHttpApiWithName("HttpApi")
			if err != nil {
				t.Fatal(err)
			}
			s := api.DefaultRouteSettings
			if s == nil || s.ThrottlingRateLimit == nil || s.ThrottlingBurstLimit == nil {
				t.Fatal("HttpApi has no DefaultRouteSettings throttling")
			}
			if *s.ThrottlingRateLimit != c.rate || float64(*s.ThrottlingBurstLimit) != c.burst {
				t.Errorf("throttling rate %v burst %v, want %v and %v", *s.ThrottlingRateLimit, *s.ThrottlingBurstLimit, c.rate, c.burst)
			}
			// A per-route setting would override the stage-wide limits.
			if api.RouteSettings != nil {
				t.Errorf("HttpApi RouteSettings %+v override the default throttling", *api.RouteSettings)
			}
		})
	}
	s := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "DefaultRouteSettings")
	assertScalar(t, node(t, s, "ThrottlingRateLimit"), "ThrottlingRateLimit", "!Ref", "ThrottlingRateLimit")
	assertScalar(t, node(t, s, "ThrottlingBurstLimit"), "ThrottlingBurstLimit", "!Ref", "ThrottlingBurstLimit")
}

// accessLogVars is every $context variable the access log may carry: all
// metadata. Adding one means checking it cannot carry the payload.
var accessLogVars = []string{
	"$context.requestId",
	"$context.requestTime",
	"$context.httpMethod",
	"$context.path",
	"$context.routeKey",
	"$context.status",
	"$context.protocol",
	"$context.responseLength",
	"$context.responseLatency",
	"$context.integrationLatency",
	"$context.integrationStatus",
	"$context.identity.userArn",
	"$context.identity.sourceIp",
	"$context.error.message",
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	als := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "AccessLogSettings")
	assertScalar(t, node(t, als, "DestinationArn"), "AccessLogSettings.DestinationArn", "!GetAtt", "ApiAccessLogGroup.Arn")
	format := node(t, als, "Format")
	if format.Kind != yaml.ScalarNode || format.Tag != "!!str" {
		t.Fatalf("AccessLogSettings.Format is %s, want a plain string", format.Tag)
	}
	f := format.Value
	if strings.ContainsAny(f, "\n\r") {
		t.Error("access log format spans lines; API Gateway wants one line")
	}
	low := strings.ToLower(f)
	for _, bad := range []string{"$request.", "$input", "body", "requestoverride", "responseoverride", "header", "querystring", "stagevariables"} {
		if strings.Contains(low, bad) {
			t.Errorf("access log format contains %q: it could carry the payload or credentials", bad)
		}
	}
	// Every value is one quoted $context variable, so the line is JSON
	// whatever the values, and each variable is one the list above allows.
	var fields map[string]string
	if err := json.Unmarshal([]byte(f), &fields); err != nil {
		t.Fatalf("access log format is not a JSON object of strings: %v\n%s", err, f)
	}
	var vars []string
	for k, v := range fields {
		if !slices.Contains(accessLogVars, v) {
			t.Errorf("access log field %s = %q, not one of the allowed metadata variables", k, v)
		}
		vars = append(vars, v)
	}
	for _, must := range []string{"$context.requestId", "$context.status", "$context.identity.userArn", "$context.routeKey"} {
		if !slices.Contains(vars, must) {
			t.Errorf("access log format lacks %s", must)
		}
	}
}

func TestLogGroups(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		overrides map[string]any
		days      int
	}{
		{"defaults", nil, 30},
		{"overridden", map[string]any{"LogRetentionInDays": 7}, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tpl := loadTemplate(t, c.overrides)
			for _, name := range []string{"ApiAccessLogGroup", "FunctionLogGroup"} {
				lg, err := tpl.GetLogsLogGroupWithName(name)
				if err != nil {
					t.Fatal(err)
				}
				if lg.RetentionInDays == nil || *lg.RetentionInDays != c.days {
					t.Errorf("%s RetentionInDays %v, want %d", name, lg.RetentionInDays, c.days)
				}
			}
		})
	}
	res := node(t, rawTemplate(t), "Resources")
	for _, name := range []string{"ApiAccessLogGroup", "FunctionLogGroup"} {
		assertScalar(t, node(t, res, name, "Properties", "RetentionInDays"), name+".RetentionInDays", "!Ref", "LogRetentionInDays")
	}
	// The group Lambda writes to: named after the function, or Lambda
	// creates its own that never expires.
	assertScalar(t, node(t, res, "FunctionLogGroup", "Properties", "LogGroupName"), "FunctionLogGroup.LogGroupName", "!Sub", "/aws/lambda/${ResolverFunction}")
	if lc := lookup(node(t, res, "ResolverFunction", "Properties"), "LoggingConfig"); lc != nil && lookup(lc, "LogGroup") != nil {
		t.Error("ResolverFunction's LoggingConfig names a LogGroup: FunctionLogGroup may no longer be its log group")
	}
}

func TestReservedConcurrency(t *testing.T) {
	t.Parallel()
	if fn := resolverFunction(t, loadTemplate(t, nil)); fn.ReservedConcurrentExecutions != nil {
		t.Errorf("ReservedConcurrentExecutions = %d by default, want none", *fn.ReservedConcurrentExecutions)
	}
	fn := resolverFunction(t, loadTemplate(t, map[string]any{"ReservedConcurrency": 25}))
	if fn.ReservedConcurrentExecutions == nil || *fn.ReservedConcurrentExecutions != 25 {
		t.Errorf("ReservedConcurrentExecutions = %v with ReservedConcurrency 25", fn.ReservedConcurrentExecutions)
	}

	root := rawTemplate(t)
	rc := node(t, root, "Resources", "ResolverFunction", "Properties", "ReservedConcurrentExecutions")
	if rc.Tag != "!If" || len(rc.Content) != 3 {
		t.Fatalf("ReservedConcurrentExecutions is %s, want an !If of three", rc.Tag)
	}
	assertScalar(t, rc.Content[0], "ReservedConcurrentExecutions condition", "!!str", "HasReservedConcurrency")
	assertScalar(t, rc.Content[1], "ReservedConcurrentExecutions then", "!Ref", "ReservedConcurrency")
	assertScalar(t, rc.Content[2], "ReservedConcurrentExecutions else", "!Ref", "AWS::NoValue")

	not := node(t, root, "Conditions", "HasReservedConcurrency")
	if not.Tag != "!Not" || len(not.Content) != 1 || not.Content[0].Tag != "!Equals" || len(not.Content[0].Content) != 2 {
		t.Fatalf("HasReservedConcurrency is not !Not [!Equals [...]]")
	}
	assertScalar(t, not.Content[0].Content[0], "HasReservedConcurrency[0]", "!Ref", "ReservedConcurrency")
	assertScalar(t, not.Content[0].Content[1], "HasReservedConcurrency[1]", "!!str", "-1")
}

// TestProvisionedConcurrency: the function always has the "live" alias; the
// alias gets provisioned concurrency only when the parameter asks for some,
// and only then does the API invoke it (TestHttpApiRoute,
// TestApiInvokePermission).
func TestProvisionedConcurrency(t *testing.T) {
	t.Parallel()
	fn := resolverFunction(t, loadTemplate(t, nil))
	if deref(fn.AutoPublishAlias) != "live" {
		t.Errorf("AutoPublishAlias = %q, want live", deref(fn.AutoPublishAlias))
	}
	if fn.ProvisionedConcurrencyConfig != nil {
		t.Errorf("ProvisionedConcurrencyConfig = %+v by default, want none", *fn.ProvisionedConcurrencyConfig)
	}
	// Parameter values reach the template as strings.
	// goformation models the executions as a string, ReservedConcurrentExecutions as an int.
	fn = resolverFunction(t, loadTemplate(t, map[string]any{"ProvisionedConcurrency": "5", "ReservedConcurrency": 10}))
	if pc := fn.ProvisionedConcurrencyConfig; pc == nil || pc.ProvisionedConcurrentExecutions != "5" {
		t.Errorf("ProvisionedConcurrencyConfig = %+v with ProvisionedConcurrency 5, want 5 executions", pc)
	}
	if deref(fn.AutoPublishAlias) != "live" {
		t.Errorf("AutoPublishAlias = %q with ProvisionedConcurrency 5, want live", deref(fn.AutoPublishAlias))
	}

	root := rawTemplate(t)
	props := node(t, root, "Resources", "ResolverFunction", "Properties")
	// SAM takes a string or a Ref to a parameter here, never an !If: the
	// alias cannot come and go with the condition.
	assertScalar(t, node(t, props, "AutoPublishAlias"), "AutoPublishAlias", "!!str", "live")
	pc := node(t, props, "ProvisionedConcurrencyConfig")
	if pc.Tag != "!If" || len(pc.Content) != 3 {
		t.Fatalf("ProvisionedConcurrencyConfig is %s, want an !If of three", pc.Tag)
	}
	assertScalar(t, pc.Content[0], "ProvisionedConcurrencyConfig condition", "!!str", "HasProvisionedConcurrency")
	if then := pc.Content[1]; then.Kind != yaml.MappingNode || len(then.Content) != 2 {
		t.Errorf("ProvisionedConcurrencyConfig then is not {ProvisionedConcurrentExecutions: ...}")
	}
	assertScalar(t, node(t, pc.Content[1], "ProvisionedConcurrentExecutions"), "ProvisionedConcurrentExecutions", "!Ref", "ProvisionedConcurrency")
	assertScalar(t, pc.Content[2], "ProvisionedConcurrencyConfig else", "!Ref", "AWS::NoValue")

	not := node(t, root, "Conditions", "HasProvisionedConcurrency")
	if not.Tag != "!Not" || len(not.Content) != 1 || not.Content[0].Tag != "!Equals" || len(not.Content[0].Content) != 2 {
		t.Fatalf("HasProvisionedConcurrency is not !Not [!Equals [...]]")
	}
	assertScalar(t, not.Content[0].Content[0], "HasProvisionedConcurrency[0]", "!Ref", "ProvisionedConcurrency")
	assertScalar(t, not.Content[0].Content[1], "HasProvisionedConcurrency[1]", "!!str", "0")
}

// TestPrefetchSecrets: PREFETCH_SECRETS is the list joined with commas, and
// "" (unset) for the empty default. goformation joins the default "" with
// "," into ",", so the !If on HasPrefetchSecrets (HasKmsKeys' pattern) is
// what its view relies on; CloudFormation gives "" either way.
func TestPrefetchSecrets(t *testing.T) {
	t.Parallel()
	one := "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-db-AbCdEf"
	fn := resolverFunction(t, loadTemplate(t, map[string]any{"PrefetchSecretArns": []any{one}}))
	if got := fn.Environment.Variables["PREFETCH_SECRETS"]; got != one {
		t.Errorf("PREFETCH_SECRETS = %q with one ARN, want %q", got, one)
	}

	root := rawTemplate(t)
	v := node(t, root, "Resources", "ResolverFunction", "Properties", "Environment", "Variables", "PREFETCH_SECRETS")
	if v.Tag != "!If" || len(v.Content) != 3 {
		t.Fatalf("PREFETCH_SECRETS is %s, want an !If of three", v.Tag)
	}
	assertScalar(t, v.Content[0], "PREFETCH_SECRETS condition", "!!str", "HasPrefetchSecrets")
	join := v.Content[1]
	if join.Tag != "!Join" || len(join.Content) != 2 {
		t.Fatalf("PREFETCH_SECRETS then is %s, want !Join [\",\", !Ref PrefetchSecretArns]", join.Tag)
	}
	assertScalar(t, join.Content[0], "PREFETCH_SECRETS delimiter", "!!str", ",")
	assertScalar(t, join.Content[1], "PREFETCH_SECRETS list", "!Ref", "PrefetchSecretArns")
	assertScalar(t, v.Content[2], "PREFETCH_SECRETS else", "!!str", "")

	not := node(t, root, "Conditions", "HasPrefetchSecrets")
	if not.Tag != "!Not" || len(not.Content) != 1 || not.Content[0].Tag != "!Equals" || len(not.Content[0].Content) != 2 {
		t.Fatalf("HasPrefetchSecrets is not !Not [!Equals [...]]")
	}
	j := not.Content[0].Content[0]
	if j.Tag != "!Join" || len(j.Content) != 2 || j.Content[0].Value != "" {
		t.Fatalf("HasPrefetchSecrets does not compare !Join [\"\", ...]")
	}
	assertScalar(t, j.Content[1], "HasPrefetchSecrets list", "!Ref", "PrefetchSecretArns")
	assertScalar(t, not.Content[0].Content[1], "HasPrefetchSecrets[1]", "!!str", "")
}

// versionUnnamed lists the parameters that shape the function's published
// configuration but that its VersionDescription cannot name: their values
// have no useful bound and Lambda caps the description at 256 characters.
// A deploy that changes only these leaves the alias on the old version
// unless it also changes ConfigRevision; the API invokes the alias only with
// ProvisionedConcurrency above 0.
var versionUnnamed = []string{"SecretArnAllowlist", "CallerRules", "PrefetchSecretArns", "MetricsNamespace"}

// unversioned lists the function's properties that a published version does
// not capture: the function's own concurrency, the alias's, the role.
var unversioned = []string{"ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "Policies", "VersionDescription"}

// TestVersionFollowsParameters: SAM publishes a version when its hash of the
// function's properties changes, and hashes parameter references unresolved
// (aws/serverless-application-model#3820). The version's description, which
// CloudFormation cannot update in place, names the parameter values, so a
// change of one replaces the version and moves the alias (which the API
// invokes with ProvisionedConcurrency above 0). Every parameter the
// published configuration reads must be named, or listed in versionUnnamed
// and covered by ConfigRevision.
func TestVersionFollowsParameters(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	props := node(t, root, "Resources", "ResolverFunction", "Properties")
	// Literal edits of the template (Timeout, LoggingConfig…) then publish too.
	assertScalar(t, node(t, props, "AutoPublishAliasAllProperties"), "AutoPublishAliasAllProperties", "!!bool", "true")
	desc := node(t, props, "VersionDescription")
	if desc.Kind != yaml.ScalarNode || desc.Tag != "!Sub" {
		t.Fatalf("VersionDescription is %s, want a !Sub string", desc.Tag)
	}
	params := node(t, root, "Parameters")
	named := map[string]bool{}
	for _, m := range subVar.FindAllStringSubmatch(desc.Value, -1) {
		if lookup(params, m[1]) == nil {
			t.Errorf("VersionDescription names ${%s}, not a parameter", m[1])
		}
		named[m[1]] = true
	}

	declared := loadTemplate(t, nil).Parameters
	read := map[string]bool{}
	for i := 0; i+1 < len(props.Content); i += 2 {
		if !slices.Contains(unversioned, props.Content[i].Value) {
			parameterRefs(t, root, props.Content[i+1], read)
		}
	}
	for p := range read {
		if !named[p] && !slices.Contains(versionUnnamed, p) {
			t.Errorf("the function's configuration reads parameter %s, which VersionDescription does not name: changing it alone would not reach the alias", p)
		}
	}
	for p := range named {
		if !read[p] {
			t.Errorf("VersionDescription names %s, which the function's configuration does not read", p)
		}
	}
	for _, p := range versionUnnamed {
		if !read[p] || named[p] {
			t.Errorf("versionUnnamed lists %s: read %v, named %v", p, read[p], named[p])
		}
		// Whoever changes it in the console is told when, and what to do.
		d := deref(declared[p].Description)
		for _, must := range []string{"ProvisionedConcurrency above 0", "does not publish a new version", "change ConfigRevision"} {
			if !strings.Contains(d, must) {
				t.Errorf("parameter %s's description does not say %q", p, must)
			}
		}
	}

	// ConfigRevision publishes on its own: named here, so the version is
	// replaced, and in the function's Description, so that $LATEST changes
	// (Lambda hands back the last version when it has not).
	if !named["ConfigRevision"] {
		t.Error("VersionDescription does not name ConfigRevision")
	}
	fnDesc := map[string]bool{}
	parameterRefs(t, root, node(t, props, "Description"), fnDesc)
	if !fnDesc["ConfigRevision"] {
		t.Error("the function's Description does not name ConfigRevision: changing only it would publish no new version")
	}
	pcDesc := deref(declared["ProvisionedConcurrency"].Description)
	for _, p := range append([]string{"ConfigRevision"}, versionUnnamed...) {
		if !strings.Contains(pcDesc, p) {
			t.Errorf("ProvisionedConcurrency's description does not name %s", p)
		}
	}

	// Within Lambda's 256 characters at the defaults and at long values:
	// the largest numbers the parameters allow, long durations.
	long := map[string]any{}
	for p := range named {
		switch par := declared[p]; {
		case len(par.AllowedValues) != 0:
			longest := ""
			for _, v := range par.AllowedValues {
				if s := fmt.Sprint(v); len(s) > len(longest) {
					longest = s
				}
			}
			long[p] = longest
		case par.Type == "Number" && par.MaxValue != nil:
			long[p] = strconv.FormatFloat(*par.MaxValue, 'f', -1, 64)
		case par.AllowedPattern != nil && strings.Contains(*par.AllowedPattern, "ms|s|m|h"):
			long[p] = "1h59m59.999s"
		case par.MaxLength != nil:
			long[p] = strings.Repeat("9", *par.MaxLength)
		default:
			t.Errorf("VersionDescription names %s, which has no bound to measure it at", p)
		}
	}
	for name, overrides := range map[string]map[string]any{"defaults": nil, "long values": long} {
		got := deref(resolverFunction(t, loadTemplate(t, overrides)).VersionDescription)
		if n := len(got); n == 0 || n > 256 {
			t.Errorf("%s: VersionDescription is %d characters, want 1..256: %q", name, n, got)
		}
		t.Logf("%s: VersionDescription (%d characters) %q", name, len(got), got)
	}
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

// TestParameterGroups: the console's form shows every parameter once, in the
// group that says what it is for.
func TestParameterGroups(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	groups := node(t, root, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups")
	params := node(t, root, "Parameters")
	in := map[string]string{} // parameter -> group label
	for _, g := range groups.Content {
		label := node(t, g, "Label", "default").Value
		for _, p := range node(t, g, "Parameters").Content {
			if prev, dup := in[p.Value]; dup {
				t.Errorf("parameter %s is in groups %s and %s", p.Value, prev, label)
			}
			if lookup(params, p.Value) == nil {
				t.Errorf("group %s lists %s, not a parameter", label, p.Value)
			}
			in[p.Value] = label
		}
	}
	for i := 0; i+1 < len(params.Content); i += 2 {
		if _, ok := in[params.Content[i].Value]; !ok {
			t.Errorf("parameter %s is in no ParameterGroup", params.Content[i].Value)
		}
	}
	for p, want := range map[string]string{
		"RefreshMinInterval":     "Cache",
		"ReservedConcurrency":    "Capacity",
		"ProvisionedConcurrency": "Capacity",
		"PrefetchSecretArns":     "Capacity",
		"ConfigRevision":         "Capacity",
	} {
		if in[p] != want {
			t.Errorf("parameter %s is in group %q, want %q", p, in[p], want)
		}
	}
}

// wantAlarm is what one alarm on a single metric must say.
type wantAlarm struct {
	namespace, metric, stat string
	dims                    map[string]string // name -> value as goformation resolves it
}

func TestAlarms(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t, nil)
	alarms := tpl.GetAllCloudWatchAlarmResources()
	if len(alarms) != 5 {
		t.Errorf("%d alarms, want 5: %v", len(alarms), slices.Sorted(maps.Keys(alarms)))
	}
	// goformation resolves a !Ref to a resource as "": the YAML check
	// below says which resource.
	single := map[string]wantAlarm{
		"FunctionErrorsAlarm":          {"AWS/Lambda", "Errors", "Sum", map[string]string{"FunctionName": ""}},
		"FunctionThrottlesAlarm":       {"AWS/Lambda", "Throttles", "Sum", map[string]string{"FunctionName": ""}},
		"SecretsManagerThrottledAlarm": {"maskresolver", "Throttled", "Sum", map[string]string{"Service": "maskresolver"}},
	}
	for name, w := range single {
		a, ok := alarms[name]
		if !ok {
			t.Errorf("alarm %s missing", name)
			continue
		}
		if deref(a.Namespace) != w.namespace || deref(a.MetricName) != w.metric || deref(a.Statistic) != w.stat {
			t.Errorf("%s watches %s %s %s, want %s %s %s", name, deref(a.Namespace), deref(a.MetricName), deref(a.Statistic), w.namespace, w.metric, w.stat)
		}
		dims := map[string]string{}
		for _, d := range a.Dimensions {
			dims[d.Name] = d.Value
		}
		if !maps.Equal(dims, w.dims) {
			t.Errorf("%s dimensions %v, want %v", name, dims, w.dims)
		}
		if a.Period == nil || *a.Period != 300 || a.EvaluationPeriods != 1 {
			t.Errorf("%s: period %v × %d, want 300 s × 1", name, a.Period, a.EvaluationPeriods)
		}
		checkAnyAbove(t, name, a, 0)
	}
	res := node(t, rawTemplate(t), "Resources")
	for _, name := range []string{"FunctionErrorsAlarm", "FunctionThrottlesAlarm"} {
		d := node(t, res, name, "Properties", "Dimensions")
		if len(d.Content) != 1 {
			t.Fatalf("%s has %d dimensions", name, len(d.Content))
		}
		assertScalar(t, node(t, d.Content[0], "Value"), name+" FunctionName", "!Ref", "ResolverFunction")
	}
	// The EMF alarm follows the namespace parameter and needs no other
	// dimension than Service (the per-Code series are not watched).
	assertScalar(t, node(t, res, "SecretsManagerThrottledAlarm", "Properties", "Namespace"), "SecretsManagerThrottledAlarm.Namespace", "!Ref", "MetricsNamespace")
	emf := loadTemplate(t, map[string]any{"MetricsNamespace": "acme/resolver"}).GetAllCloudWatchAlarmResources()["SecretsManagerThrottledAlarm"]
	if emf == nil || deref(emf.Namespace) != "acme/resolver" {
		t.Error("SecretsManagerThrottledAlarm does not follow MetricsNamespace")
	}
	checkQuotaPressureAlarm(t, alarms["SecretsManagerQuotaPressureAlarm"])
	assertScalar(t, node(t, res, "SecretsManagerQuotaPressureAlarm", "Properties", "Threshold"), "SecretsManagerQuotaPressureAlarm.Threshold", "!Ref", "QuotaPressureThreshold")

	checkRateAlarm(t, alarms["Api5xxRateAlarm"])
	m := node(t, res, "Api5xxRateAlarm", "Properties", "Metrics")
	for _, q := range m.Content {
		if ms := lookup(q, "MetricStat"); ms != nil {
			d := node(t, ms, "Metric", "Dimensions")
			if len(d.Content) != 1 {
				t.Fatalf("Api5xxRateAlarm query has %d dimensions, want ApiId only", len(d.Content))
			}
			assertScalar(t, node(t, d.Content[0], "Value"), "Api5xxRateAlarm ApiId", "!Ref", "HttpApi")
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkAnyAbove asserts a "more than threshold" alarm that quiet periods
// (no datapoints) do not trip.
func checkAnyAbove(t *testing.T, name string, a *cloudwatch.Alarm, threshold float64) {
	t.Helper()
	if a.ComparisonOperator != "GreaterThanThreshold" || a.Threshold == nil || *a.Threshold != threshold {
		t.Errorf("%s: %s %v, want GreaterThanThreshold %v", name, a.ComparisonOperator, a.Threshold, threshold)
	}
	if deref(a.TreatMissingData) != "notBreaching" {
		t.Errorf("%s TreatMissingData %q, want notBreaching", name, deref(a.TreatMissingData))
	}
}

// checkRateAlarm asserts the API's 5xx rate: 5xx / Count of the HTTP API's
// metrics over 5 minutes, above 5 %.
func checkRateAlarm(t *testing.T, a *cloudwatch.Alarm) {
	t.Helper()
	if a == nil {
		t.Fatal("alarm Api5xxRateAlarm missing")
	}
	if a.MetricName != nil || a.Namespace != nil || a.Statistic != nil {
		t.Error("Api5xxRateAlarm mixes a single metric with metric math")
	}
	checkAnyAbove(t, "Api5xxRateAlarm", a, 5)
	stats := map[string]string{} // id -> metric name
	var expr []string
	for _, q := range a.Metrics {
		switch {
		case q.MetricStat != nil:
			m := q.MetricStat.Metric
			if deref(m.Namespace) != "AWS/ApiGateway" || q.MetricStat.Stat != "Sum" || q.MetricStat.Period != 300 {
				t.Errorf("query %s: %s %s every %d s, want AWS/ApiGateway Sum every 300 s", q.Id, deref(m.Namespace), q.MetricStat.Stat, q.MetricStat.Period)
			}
			if len(m.Dimensions) != 1 || m.Dimensions[0].Name != "ApiId" {
				t.Errorf("query %s dimensions %+v, want ApiId", q.Id, m.Dimensions)
			}
			if deref(q.ReturnData) {
				t.Errorf("query %s returns data; only the rate may", q.Id)
			}
			stats[q.Id] = deref(m.MetricName)
		case q.Expression != nil:
			if !deref(q.ReturnData) {
				t.Errorf("expression %s does not return data", q.Id)
			}
			expr = append(expr, *q.Expression)
		}
	}
	var errID, countID string
	for id, m := range stats {
		switch m {
		case "5xx":
			errID = id
		case "Count":
			countID = id
		}
	}
	if len(stats) != 2 || errID == "" || countID == "" {
		t.Fatalf("metric queries %v, want 5xx and Count", stats)
	}
	if len(expr) != 1 || !strings.Contains(expr[0], "100 * "+errID+" / "+countID) {
		t.Errorf("expressions %q, want one percentage 100 * %s / %s", expr, errID, countID)
	}
}

func TestAlarmActions(t *testing.T) {
	t.Parallel()
	for name, a := range loadTemplate(t, nil).GetAllCloudWatchAlarmResources() {
		if len(a.AlarmActions) != 0 || len(a.OKActions) != 0 {
			t.Errorf("%s notifies %v / %v although AlarmTopicArn is empty", name, a.AlarmActions, a.OKActions)
		}
	}
	topic := "arn:aws:sns:us-east-1:111122223333:maskresolver-alarms"
	for name, a := range loadTemplate(t, map[string]any{"AlarmTopicArn": topic}).GetAllCloudWatchAlarmResources() {
		if !slices.Equal(a.AlarmActions, []string{topic}) || !slices.Equal(a.OKActions, []string{topic}) {
			t.Errorf("%s notifies %v / %v, want %s", name, a.AlarmActions, a.OKActions, topic)
		}
	}
	not := node(t, rawTemplate(t), "Conditions", "HasAlarmTopic")
	if not.Tag != "!Not" || len(not.Content) != 1 || not.Content[0].Tag != "!Equals" || len(not.Content[0].Content) != 2 {
		t.Fatalf("HasAlarmTopic is not !Not [!Equals [...]]")
	}
	assertScalar(t, not.Content[0].Content[0], "HasAlarmTopic[0]", "!Ref", "AlarmTopicArn")
	assertScalar(t, not.Content[0].Content[1], "HasAlarmTopic[1]", "!!str", "")
}

const samconfigPath = "samconfig.toml"

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

func TestSamconfig(t *testing.T) {
	t.Parallel()
	vals, comments := readSamconfig(t)
	for k, v := range map[string]string{
		"version":                                     "0.1",
		"default.global.parameters.stack_name":        `"maskresolver"`,
		"default.build.parameters.cached":             "true",
		"default.build.parameters.parallel":           "true",
		"default.deploy.parameters.capabilities":      `"CAPABILITY_IAM"`,
		"default.deploy.parameters.confirm_changeset": "true",
		"default.deploy.parameters.resolve_s3":        "true",
		"default.deploy.parameters.s3_prefix":         `"maskresolver"`,
		"default.local_invoke.parameters.env_vars":    `"events/env.json"`,
	} {
		if vals[k] != v {
			t.Errorf("%s: %s = %s, want %s", samconfigPath, k, vals[k], v)
		}
	}
	// The region comes from the user's profile, never from the repository.
	for k := range vals {
		if strings.HasSuffix(k, ".region") {
			t.Errorf("%s sets %s: leave the region to the AWS profile", samconfigPath, k)
		}
	}
	// Every path the file names must exist.
	for k, v := range vals {
		if strings.HasSuffix(k, ".env_vars") || strings.HasSuffix(k, ".template_file") || strings.HasSuffix(k, ".event") {
			p, err := strconv.Unquote(v)
			if err != nil {
				t.Errorf("%s: %s = %s is not a string", samconfigPath, k, v)
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s: %s names %s: %v", samconfigPath, k, p, err)
			}
		}
	}
	// The commented parameter_overrides examples must name real parameters.
	params := node(t, rawTemplate(t), "Parameters")
	n := 0
	for _, c := range comments {
		k, v, ok := strings.Cut(c, "=")
		if !ok || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		n++
		s, err := strconv.Unquote(strings.TrimSpace(v))
		if err != nil {
			t.Errorf("%s: example %q is not a TOML string", samconfigPath, c)
			continue
		}
		for _, kv := range strings.Fields(s) {
			name, _, _ := strings.Cut(kv, "=")
			if lookup(params, name) == nil {
				t.Errorf("%s: example parameter_overrides names %s, not a template parameter", samconfigPath, name)
			}
		}
	}
	if n == 0 {
		t.Errorf("%s has no commented parameter_overrides example", samconfigPath)
	}
}

// The function logs JSON, so that the EMF metrics in its summary line reach
// CloudWatch, at the level the LogLevel parameter names.
func TestLoggingConfig(t *testing.T) {
	t.Parallel()
	lc := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "LoggingConfig")
	assertScalar(t, node(t, lc, "LogFormat"), "LoggingConfig.LogFormat", "!!str", "JSON")
	level := node(t, lc, "ApplicationLogLevel")
	if level.Tag != "!FindInMap" || len(level.Content) != 3 || level.Content[0].Value != "LambdaLogLevels" || level.Content[1].Value != "LogLevel" {
		t.Fatalf("ApplicationLogLevel is not !FindInMap [LambdaLogLevels, !Ref LogLevel, Level]: %s", level.Tag)
	}
	levels := node(t, rawTemplate(t), "Mappings", "LambdaLogLevels")
	for _, l := range []string{"debug", "info", "warn", "error"} {
		assertScalar(t, node(t, node(t, levels, l), "Level"), "LambdaLogLevels."+l, "!!str", strings.ToUpper(l))
	}
}

// checkQuotaPressureAlarm: the alarm on throttles that retries absorbed
// watches the function's EMF metric per minute and fires only when the
// pressure lasts (3 of 5 minutes), so that one deploy's cold storm, which
// the retries absorb in seconds, does not page anyone.
func checkQuotaPressureAlarm(t *testing.T, a *cloudwatch.Alarm) {
	t.Helper()
	if a == nil {
		t.Fatal("SecretsManagerQuotaPressureAlarm missing")
	}
	if deref(a.Namespace) != "maskresolver" || deref(a.MetricName) != "ThrottlesAbsorbed" || deref(a.Statistic) != "Sum" {
		t.Errorf("quota pressure alarm watches %s %s %s", deref(a.Namespace), deref(a.MetricName), deref(a.Statistic))
	}
	if len(a.Dimensions) != 1 || a.Dimensions[0].Name != "Service" || a.Dimensions[0].Value != "maskresolver" {
		t.Errorf("quota pressure alarm dimensions %+v", a.Dimensions)
	}
	if a.Period == nil || *a.Period != 60 || a.EvaluationPeriods != 5 || a.DatapointsToAlarm == nil || *a.DatapointsToAlarm != 3 {
		t.Errorf("quota pressure alarm: period %v, %d periods, %v to alarm; want 60 s, 3 of 5", a.Period, a.EvaluationPeriods, a.DatapointsToAlarm)
	}
	checkAnyAbove(t, "SecretsManagerQuotaPressureAlarm", a, 60)
}
