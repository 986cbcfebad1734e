package samtemplate_test

import (
	"slices"
	"testing"
)

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
	"SCOPES",
	"SCOPES_SECRET_ARN",
	"AWS_XRAY_CONTEXT_MISSING",
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
	if fn.MemorySize == nil || *fn.MemorySize != 256 {
		t.Errorf("MemorySize = %v, want the MemorySize parameter's default 256", fn.MemorySize)
	}
	if mem := resolverFunction(t, loadTemplate(t, map[string]any{"MemorySize": 512})).MemorySize; mem == nil || *mem != 512 {
		t.Errorf("MemorySize = %v with the parameter at 512", mem)
	}
	assertScalar(t, node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "MemorySize"), "MemorySize", "!Ref", "MemorySize")
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
		"PREFETCH_SECRETS":  "",
		"CALLER_RULES":      "",
		"METRICS_NAMESPACE": "maskresolver",
		// Empty: no scopes (TestScopesDocument sets them).
		"SCOPES":                   "",
		"SCOPES_SECRET_ARN":        "",
		"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}

	// The default allowlist must name the partition, not just leave a hole.
	// Without ScopedSecretArnPatterns (TestScopedSecretPatterns), the
	// allowlist alone.
	vars := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "Environment", "Variables")
	_, plain := assertIf(t, node(t, vars, "SECRET_ARN_ALLOWLIST"), "SECRET_ARN_ALLOWLIST", "HasScopedSecretPatterns")
	def, given := assertIf(t, plain, "SECRET_ARN_ALLOWLIST without scoped patterns", "UseDefaultAllowlist")
	assertScalar(t, def, "SECRET_ARN_ALLOWLIST default", "!Sub",
		"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*")
	assertScalar(t, given, "SECRET_ARN_ALLOWLIST given", "!Ref", "SecretArnAllowlist")
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
	join, els := assertIf(t, v, "PREFETCH_SECRETS", "HasPrefetchSecrets")
	if join.Tag != "!Join" || len(join.Content) != 2 {
		t.Fatalf("PREFETCH_SECRETS then is %s, want !Join [\",\", !Ref PrefetchSecretArns]", join.Tag)
	}
	assertScalar(t, join.Content[0], "PREFETCH_SECRETS delimiter", "!!str", ",")
	assertScalar(t, join.Content[1], "PREFETCH_SECRETS list", "!Ref", "PrefetchSecretArns")
	assertScalar(t, els, "PREFETCH_SECRETS else", "!!str", "")

	j, empty := assertNotEquals(t, node(t, root, "Conditions", "HasPrefetchSecrets"), "HasPrefetchSecrets")
	if j.Tag != "!Join" || len(j.Content) != 2 || j.Content[0].Value != "" {
		t.Fatalf("HasPrefetchSecrets does not compare !Join [\"\", ...]")
	}
	assertScalar(t, j.Content[1], "HasPrefetchSecrets list", "!Ref", "PrefetchSecretArns")
	assertScalar(t, empty, "HasPrefetchSecrets[1]", "!!str", "")
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
	then, els := assertIf(t, rc, "ReservedConcurrentExecutions", "HasReservedConcurrency")
	assertScalar(t, then, "ReservedConcurrentExecutions then", "!Ref", "ReservedConcurrency")
	assertScalar(t, els, "ReservedConcurrentExecutions else", "!Ref", "AWS::NoValue")

	param, unset := assertNotEquals(t, node(t, root, "Conditions", "HasReservedConcurrency"), "HasReservedConcurrency")
	assertScalar(t, param, "HasReservedConcurrency[0]", "!Ref", "ReservedConcurrency")
	assertScalar(t, unset, "HasReservedConcurrency[1]", "!!str", "-1")
}
