package maskresolver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
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

// loadTemplate parses template.yaml with goformation, conditions evaluated,
// after the given parameter overrides.
//
// goformation v7.14.9 models AWS::Serverless::HttpApi's Auth without
// EnableIamAuthorizer and decodes with DisallowUnknownFields, so it rejects
// the template as written. The property is asserted on the YAML (see
// TestHttpApiRequiresIAM) and removed from the copy handed to goformation;
// nothing else is changed.
func loadTemplate(t *testing.T, overrides map[string]any) *cloudformation.Template {
	t.Helper()
	root := rawTemplate(t)
	auth := node(t, root, "Resources", "HttpApi", "Properties", "Auth")
	for i := 0; i+1 < len(auth.Content); i += 2 {
		if auth.Content[i].Value == "EnableIamAuthorizer" {
			auth.Content = slices.Delete(auth.Content, i, i+2)
			break
		}
	}
	b, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := goformation.ParseYAMLWithOptions(b, &intrinsics.ProcessorOptions{
		EvaluateConditions: true,
		ParameterOverrides: overrides,
	})
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

// TestGoformationOpen pins the one thing goformation cannot read as is; when
// a goformation release models EnableIamAuthorizer this test still passes and
// loadTemplate's workaround can go.
func TestGoformationOpen(t *testing.T) {
	t.Parallel()
	_, err := goformation.Open(templatePath)
	if err != nil && !strings.Contains(err.Error(), "EnableIamAuthorizer") {
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
		"SECRET_ARN_ALLOWLIST":     "arn::secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:*",
		"CACHE_TTL":                "5m",
		"CACHE_MAX_ENTRIES":        "1000",
		"CACHE_STALE_IF_ERROR":     "15m",
		"LOG_LEVEL":                "info",
		"MAX_BODY_BYTES":           "1048576",
		"MAX_MASKS":                "1000",
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
	fn := resolverFunction(t, loadTemplate(t, map[string]any{
		"SecretArnAllowlist": allow,
		"LogLevel":           "debug",
		"CacheTtl":           "90s",
	}))
	env := fn.Environment.Variables
	for k, v := range map[string]string{
		"SECRET_ARN_ALLOWLIST": allow,
		"LOG_LEVEL":            "debug",
		"CACHE_TTL":            "90s",
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
	want := map[string]map[string]any{"StringEquals": {"kms:ViaService": "secretsmanager." + fakeRegion + ".amazonaws.com"}}
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

func TestHttpApiRoute(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t, nil)
	fn := resolverFunction(t, tpl)
	if len(fn.Events) != 1 {
		t.Errorf("%d events, want only the HTTP API route", len(fn.Events))
	}
	ev, ok := fn.Events["Resolve"]
	if !ok {
		t.Fatalf("no Resolve event among %v", slices.Collect(maps.Keys(fn.Events)))
	}
	if ev.Type != "HttpApi" {
		t.Fatalf("event type %q, want HttpApi", ev.Type)
	}
	h := ev.Properties.HttpApiEvent
	if h == nil || h.Method == nil || h.Path == nil || h.PayloadFormatVersion == nil {
		t.Fatal("Resolve event lacks Method, Path or PayloadFormatVersion")
	}
	if *h.Method != "POST" || *h.Path != "/v1/resolve" || *h.PayloadFormatVersion != "2.0" {
		t.Errorf("route %s %s (payload %s), want POST /v1/resolve (payload 2.0)", *h.Method, *h.Path, *h.PayloadFormatVersion)
	}
	// A route-level Auth would override the API's IAM default.
	if h.Auth != nil {
		t.Errorf("route overrides the API's authorizer: %+v", *h.Auth)
	}
	// goformation resolves !Ref to a resource as nothing: read the YAML.
	apiID := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "Events", "Resolve", "Properties", "ApiId")
	assertScalar(t, apiID, "Resolve.ApiId", "!Ref", "HttpApi")
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
	assertScalar(t, node(t, out, "ResolverFunctionRoleArn", "Value"), "ResolverFunctionRoleArn", "!GetAtt", "ResolverFunctionRole.Arn")

	tpl := loadTemplate(t, nil)
	for _, name := range []string{"ApiUrl", "ResolverFunctionArn", "ResolverFunctionRoleArn"} {
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
		"SecretArnAllowlist": {"String", ""},
		"CacheTtl":           {"String", "5m"},
		"CacheMaxEntries":    {"Number", "1000"},
		"CacheStaleIfError":  {"String", "15m"},
		"LogLevel":           {"String", "info"},
		"KmsKeyArns":         {"CommaDelimitedList", ""},
		"MaxBodyBytes":       {"Number", "1048576"},
		"MaxMasks":           {"Number", "1000"},
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
	if rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN != "arn:aws:iam::137149879143:role/workato-connector" {
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
	want := map[string]int{"http-resolve.json": 2, "http-dry-run.json": 2, "http-base64.json": 2, "http-failing.json": 3}
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
	for k := range req {
		if k != "connection" && k != "dry_run" {
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
