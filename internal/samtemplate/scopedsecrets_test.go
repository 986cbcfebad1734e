package samtemplate_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/config"
)

// The tenants' secrets as docs/scopes.md has the operator list them in
// ScopedSecretArnPatterns: read by the scopes' roles, never by the
// function's own.
var (
	scopedPatterns = []string{
		"arn:aws:secretsmanager:*:210987654321:secret:*",
		"arn:aws:secretsmanager:eu-west-1:345678901234:secret:prod/*",
	}
	// A secret of each tenant, and one the function's own role reads.
	scopedSecrets = []string{
		"arn:aws:secretsmanager:us-east-1:210987654321:secret:prod/db-AbCdEf",
		"arn:aws:secretsmanager:eu-west-1:345678901234:secret:prod/api-GhIjKl",
	}
	ownAllowlist = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-*,arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/*"
	ownSecret    = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-db-AbCdEf"
)

// checkAllowlistAdmits loads SECRET_ARN_ALLOWLIST as the function does and
// checks which secrets it admits: every one of admitted, none of refused.
// The function refuses an allowlist it cannot parse, so this also checks
// the joined value is one.
func checkAllowlistAdmits(t *testing.T, what, allowlist string, admitted, refused []string) {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "SECRET_ARN_ALLOWLIST" {
			return allowlist, true
		}
		return "", false
	}, config.Defaults{})
	if err != nil {
		t.Fatalf("%s: the function refuses SECRET_ARN_ALLOWLIST %q: %v", what, allowlist, err)
	}
	for _, a := range admitted {
		if !cfg.Allowed("", a) {
			t.Errorf("%s: SECRET_ARN_ALLOWLIST %q refuses %s", what, allowlist, a)
		}
	}
	for _, a := range refused {
		if cfg.Allowed("", a) {
			t.Errorf("%s: SECRET_ARN_ALLOWLIST %q admits %s", what, allowlist, a)
		}
	}
}

// checkNoGrantOn: no statement of the function's role names any of the
// scoped patterns, whatever its action.
func checkNoGrantOn(t *testing.T, what string, sts []statement, patterns []string) {
	t.Helper()
	for _, s := range sts {
		for _, p := range patterns {
			if slices.Contains(s.resources(), p) || strings.Contains(s.String(), p) {
				t.Errorf("%s: the function's role names scoped pattern %s: %s", what, p, s)
			}
		}
	}
}

// TestScopedSecretPatterns: ScopedSecretArnPatterns widens
// SECRET_ARN_ALLOWLIST, which scoped requests are held to, and nothing of
// the function's role. Empty, SECRET_ARN_ALLOWLIST is what it was, with or
// without SecretArnAllowlist.
func TestScopedSecretPatterns(t *testing.T) {
	t.Parallel()
	scoped := make([]any, len(scopedPatterns))
	for i, p := range scopedPatterns {
		scoped[i] = p
	}
	// ${AWS::Partition} resolves to "" in goformation.
	def := "arn::secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:*"
	for _, c := range []struct {
		name   string
		params map[string]any
		// SECRET_ARN_ALLOWLIST, and the resources of the read statement.
		env  string
		read []string
	}{
		{"defaults", nil, def, []string{def}},
		{"allowlist", map[string]any{"SecretArnAllowlist": ownAllowlist}, ownAllowlist, strings.Split(ownAllowlist, ",")},
		{"scoped", map[string]any{"ScopedSecretArnPatterns": scoped},
			def + "," + strings.Join(scopedPatterns, ","), []string{def}},
		{"allowlist and scoped", map[string]any{"SecretArnAllowlist": ownAllowlist, "ScopedSecretArnPatterns": scoped},
			ownAllowlist + "," + strings.Join(scopedPatterns, ","), strings.Split(ownAllowlist, ",")},
	} {
		fn := resolverFunction(t, loadTemplate(t, c.params))
		if got := fn.Environment.Variables["SECRET_ARN_ALLOWLIST"]; got != c.env {
			t.Errorf("%s: SECRET_ARN_ALLOWLIST = %q, want %q", c.name, got, c.env)
		}
		sts := statements(t, fn)
		checkPolicy(t, sts)
		read, ok := find(sts, "secretsmanager:GetSecretValue")
		if !ok || !slices.Equal(read.resources(), c.read) {
			t.Errorf("%s: GetSecretValue granted by %s, want on %q", c.name, read, c.read)
		}
		checkNoGrantOn(t, c.name, sts, scopedPatterns)
	}
}

// TestScopedSecretPatternsTranslated: the same through the SAM translator,
// as CloudFormation deploys it, and the variable as the function reads it.
func TestScopedSecretPatternsTranslated(t *testing.T) {
	t.Parallel()
	// The stack's partition, region and account as the evaluator has them.
	const def = "arn:aws:secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:*"
	scoped := strings.Join(scopedPatterns, ",")
	defSecret := "arn:aws:secretsmanager:" + fakeRegion + ":" + fakeAccount + ":secret:x-AbCdEf"
	for _, c := range []struct {
		name     string
		params   map[string]string
		env      string
		admitted []string
		refused  []string
	}{
		{"defaults", nil, def, []string{defSecret}, append([]string{ownSecret}, scopedSecrets...)},
		{"allowlist", map[string]string{"SecretArnAllowlist": ownAllowlist}, ownAllowlist,
			[]string{ownSecret}, append([]string{defSecret}, scopedSecrets...)},
		{"scoped", map[string]string{"ScopedSecretArnPatterns": scoped}, def + "," + scoped,
			append([]string{defSecret}, scopedSecrets...), []string{ownSecret}},
		{"allowlist and scoped", map[string]string{"SecretArnAllowlist": ownAllowlist, "ScopedSecretArnPatterns": scoped},
			ownAllowlist + "," + scoped, append([]string{ownSecret}, scopedSecrets...), []string{defSecret}},
	} {
		res := stack(t, c.params)
		raw := jsonPath(t, res["ResolverFunction"], "Properties", "Environment", "Variables", "SECRET_ARN_ALLOWLIST")
		env := stackString(t, raw)
		if env != c.env {
			t.Errorf("%s: SECRET_ARN_ALLOWLIST = %q, want %q", c.name, env, c.env)
		}
		checkAllowlistAdmits(t, c.name, env, c.admitted, c.refused)

		// The role's grants are those of the same stack without
		// ScopedSecretArnPatterns, and name none of the patterns.
		without := map[string]string{}
		if a, ok := c.params["SecretArnAllowlist"]; ok {
			without["SecretArnAllowlist"] = a
		}
		got := mustJSON(t, jsonPath(t, res["ResolverFunctionRole"], "Properties"))
		want := mustJSON(t, jsonPath(t, stack(t, without)["ResolverFunctionRole"], "Properties"))
		if got != want {
			t.Errorf("%s: the function's role differs from the stack's without ScopedSecretArnPatterns:\n%s\nwant\n%s", c.name, got, want)
		}
		for _, p := range scopedPatterns {
			if strings.Contains(got, p) {
				t.Errorf("%s: the function's role names scoped pattern %s: %s", c.name, p, got)
			}
		}
	}
}

// TestScopedSecretPatternsParameter: each value must be a secret ARN
// pattern that names an account: a bare "*" would admit every secret to
// unscoped requests as well.
func TestScopedSecretPatternsParameter(t *testing.T) {
	t.Parallel()
	p := loadTemplate(t, nil).Parameters["ScopedSecretArnPatterns"]
	if p.AllowedPattern == nil {
		t.Fatal("parameter ScopedSecretArnPatterns has no AllowedPattern")
	}
	// A CommaDelimitedList's pattern applies to each value.
	re := regexp.MustCompile(*p.AllowedPattern)
	for _, v := range append([]string{"", "arn:aws-cn:secretsmanager:cn-north-1:210987654321:secret:a/b-??????",
		"arn:aws:secretsmanager:us-east-1:????????????:secret:x"}, scopedPatterns...) {
		if !re.MatchString(v) {
			t.Errorf("ScopedSecretArnPatterns refuses %q", v)
		}
	}
	for _, v := range []string{"*", "arn:*", "arn:aws:secretsmanager:*", "arn:aws:secretsmanager:*:*",
		"arn:aws:iam::210987654321:role/x", "arn:aws:secretsmanager:us-east-1:210987654321:secret:",
		" arn:aws:secretsmanager:us-east-1:210987654321:secret:x", "arn:aws:secretsmanager:us-east-1:210987654321:secret:a b"} {
		if re.MatchString(v) {
			t.Errorf("ScopedSecretArnPatterns accepts %q", v)
		}
	}
}

// stackString evaluates what stack leaves of a string value: Fn::Join and
// Fn::Sub of the pseudo parameters, as CloudFormation would in the stack's
// partition, region and account.
func stackString(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if s, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			return strings.NewReplacer("${AWS::Partition}", "aws", "${AWS::Region}", fakeRegion, "${AWS::AccountId}", fakeAccount).Replace(s)
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(v) == 1 && len(j) == 2 {
			var parts []string
			switch l := j[1].(type) {
			case []string: // a CommaDelimitedList parameter
				parts = l
			case []any:
				for _, x := range l {
					parts = append(parts, stackString(t, x))
				}
			default:
				t.Fatalf("Fn::Join of %s", mustJSON(t, j[1]))
			}
			return strings.Join(parts, j[0].(string))
		}
	}
	t.Fatalf("cannot evaluate %s", mustJSON(t, v))
	return ""
}
