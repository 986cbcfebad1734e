package samtemplate_test

import (
	"slices"
	"testing"
)

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
		"ThrottlingRateLimit": {"Number", float64(50)},
		// The function's configuration today; docs/deploying.md says how
		// to measure what a deployment needs.
		"MemorySize":           {"Number", float64(256)},
		"DeploymentType":       {"String", "AllAtOnce"},
		"PreTrafficConnection": {"String", ""},
		"ThrottlingBurstLimit": {"Number", float64(100)},
		"LogRetentionInDays":   {"Number", float64(30)},
		// Empty: no scopes, no sts:AssumeRole grant.
		"ScopeRoleArns":   {"CommaDelimitedList", ""},
		"ScopesSecretArn": {"String", ""},
		"Scopes":          {"String", ""},
		// Empty: SECRET_ARN_ALLOWLIST is the allowlist alone.
		"ScopedSecretArnPatterns": {"CommaDelimitedList", ""},
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
	var types []any
	for _, d := range deploymentTypes {
		types = append(types, d)
	}
	if got := tpl.Parameters["DeploymentType"].AllowedValues; !slices.Equal(got, types) {
		t.Errorf("DeploymentType AllowedValues %v, want SAM's predefined %v", got, types)
	}
	if mem := tpl.Parameters["MemorySize"]; mem.MinValue == nil || *mem.MinValue != 128 || mem.MaxValue == nil || *mem.MaxValue != 10240 {
		t.Errorf("MemorySize bounds %v..%v, want Lambda's 128..10240", mem.MinValue, mem.MaxValue)
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
		"RefreshMinInterval":      "Cache",
		"ReservedConcurrency":     "Capacity",
		"ProvisionedConcurrency":  "Capacity",
		"PrefetchSecretArns":      "Capacity",
		"MemorySize":              "Capacity",
		"DeploymentType":          "Deployment",
		"PreTrafficConnection":    "Deployment",
		"ConfigRevision":          "Deployment",
		"ScopeRoleArns":           "Scopes",
		"ScopesSecretArn":         "Scopes",
		"Scopes":                  "Scopes",
		"ScopedSecretArnPatterns": "Scopes",
	} {
		if in[p] != want {
			t.Errorf("parameter %s is in group %q, want %q", p, in[p], want)
		}
	}
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

	// The kms, scopes document and scope roles statements are present
	// only under their conditions, and nothing stands in their place
	// otherwise.
	sts := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "Policies", "Statement")
	want := map[string]string{ // Sid -> condition
		"DecryptSecretsViaSecretsManager": "HasKmsKeys",
		"ReadScopesDocument":              "HasScopesSecret",
		"AssumeScopeRoles":                "HasScopeRoles",
	}
	got := map[string]string{}
	for _, s := range sts.Content {
		if s.Tag != "!If" {
			continue
		}
		then, els := assertIf(t, s, "conditional statement", s.Content[0].Value)
		assertScalar(t, els, "conditional statement else", "!Ref", "AWS::NoValue")
		got[node(t, then, "Sid").Value] = s.Content[0].Value
	}
	if mustJSON(t, got) != mustJSON(t, want) {
		t.Errorf("conditional statements (Sid: condition) %v, want %v", got, want)
	}
	for _, cond := range want {
		node(t, c, cond)
	}
	// Each tells an empty parameter apart, as HasKmsKeys does for a list.
	for cond, param := range map[string]string{"HasScopesSecret": "ScopesSecretArn"} {
		p, empty := assertNotEquals(t, node(t, c, cond), cond)
		assertScalar(t, p, cond+"[0]", "!Ref", param)
		assertScalar(t, empty, cond+"[1]", "!!str", "")
	}
	for cond, param := range map[string]string{"HasKmsKeys": "KmsKeyArns", "HasScopeRoles": "ScopeRoleArns"} {
		join, empty := assertNotEquals(t, node(t, c, cond), cond)
		if join.Tag != "!Join" || len(join.Content) != 2 {
			t.Errorf("%s[0] is %s, want !Join [\"\", !Ref %s]", cond, join.Tag, param)
			continue
		}
		assertScalar(t, join.Content[0], cond+" join separator", "!!str", "")
		assertScalar(t, join.Content[1], cond+" join list", "!Ref", param)
		assertScalar(t, empty, cond+"[1]", "!!str", "")
	}
}
