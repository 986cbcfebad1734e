package samtemplate_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Scope parameters as a deployment would set them (docs/scopes.md): two
// tenants' roles, one of them a pattern, and the scopes document's secret.
var (
	scopeRoles = []string{
		"arn:aws:iam::210987654321:role/maskresolver-scope",
		"arn:aws:iam::*:role/tenants/maskresolver-*",
	}
	scopesSecret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:maskresolver/scopes-AbC123"
	scopesDoc    = `{"team-a":{"role_arn":"arn:aws:iam::210987654321:role/maskresolver-scope","callers":["*"],"secrets":["arn:aws:secretsmanager:*:210987654321:secret:*"]}}`
)

// scopeParams sets the scope parameters of the translated stack.
var scopeParams = map[string]string{
	"ScopeRoleArns":   strings.Join(scopeRoles, ","),
	"ScopesSecretArn": scopesSecret,
}

// assumeRoleStatements are the statements granting sts:AssumeRole.
func assumeRoleStatements(sts []statement) []statement {
	var out []statement
	for _, s := range sts {
		if s.grants("sts:AssumeRole") {
			out = append(out, s)
		}
	}
	return out
}

// checkScopeRolesPolicy: sts:AssumeRole on exactly the given roles, in one
// statement of that action alone; with no roles, not at all.
func checkScopeRolesPolicy(t *testing.T, sts []statement, roles []string) {
	t.Helper()
	got := assumeRoleStatements(sts)
	if len(roles) == 0 {
		if len(got) != 0 {
			t.Errorf("sts:AssumeRole granted without ScopeRoleArns: %v", got)
		}
		return
	}
	if len(got) != 1 {
		t.Fatalf("sts:AssumeRole granted by %d statements, want 1: %v", len(got), got)
	}
	s := got[0]
	if !slices.Equal(s.actions(), []string{"sts:AssumeRole"}) {
		t.Errorf("AssumeRole statement actions %q, want sts:AssumeRole alone", s.actions())
	}
	if !slices.Equal(s.resources(), roles) {
		t.Errorf("AssumeRole statement resources %q, want ScopeRoleArns %q", s.resources(), roles)
	}
}

// checkScopesDocumentPolicy: GetSecretValue on the scopes document's secret
// alone, in a statement of its own; with none, no such statement.
func checkScopesDocumentPolicy(t *testing.T, sts []statement, arn string) {
	t.Helper()
	var doc []statement
	for _, s := range sts {
		if slices.Contains(s.resources(), arn) || s.Sid == "ReadScopesDocument" {
			doc = append(doc, s)
		}
	}
	if arn == "" {
		if len(doc) != 0 {
			t.Errorf("scopes document read granted without ScopesSecretArn: %v", doc)
		}
		return
	}
	if len(doc) != 1 {
		t.Fatalf("%d statements name the scopes document %s, want 1: %v", len(doc), arn, doc)
	}
	s := doc[0]
	if !slices.Equal(s.actions(), []string{"secretsmanager:GetSecretValue"}) || !slices.Equal(s.resources(), []string{arn}) || s.Condition != nil {
		t.Errorf("scopes document statement %s, want GetSecretValue on %s alone", s, arn)
	}
}

// TestScopeRolesPolicy: the function may assume the roles ScopeRoleArns
// lists, and no role at all when it is empty.
func TestScopeRolesPolicy(t *testing.T) {
	t.Parallel()
	sts := statements(t, resolverFunction(t, loadTemplate(t, nil)))
	checkPolicy(t, sts)
	checkScopeRolesPolicy(t, sts, nil)

	roles := make([]any, len(scopeRoles))
	for i, r := range scopeRoles {
		roles[i] = r
	}
	sts = statements(t, resolverFunction(t, loadTemplate(t, map[string]any{"ScopeRoleArns": roles})))
	checkPolicy(t, sts)
	checkScopeRolesPolicy(t, sts, scopeRoles)
	checkScopesDocumentPolicy(t, sts, "")
}

// TestScopesDocument: ScopesSecretArn reaches the function as
// SCOPES_SECRET_ARN and lets its role read that secret, without widening
// the allowlist; Scopes reaches it as SCOPES. Empty, they set nothing.
func TestScopesDocument(t *testing.T) {
	t.Parallel()
	def := resolverFunction(t, loadTemplate(t, nil))
	checkScopesDocumentPolicy(t, statements(t, def), "")
	allowlist := def.Environment.Variables["SECRET_ARN_ALLOWLIST"]

	fn := resolverFunction(t, loadTemplate(t, map[string]any{"ScopesSecretArn": scopesSecret}))
	sts := statements(t, fn)
	checkPolicy(t, sts)
	checkScopesDocumentPolicy(t, sts, scopesSecret)
	checkScopeRolesPolicy(t, sts, nil)
	env := fn.Environment.Variables
	if env["SCOPES_SECRET_ARN"] != scopesSecret || env["SCOPES"] != "" {
		t.Errorf("SCOPES_SECRET_ARN = %q, SCOPES = %q; want %q and empty", env["SCOPES_SECRET_ARN"], env["SCOPES"], scopesSecret)
	}
	// Masks can never name the document: it stays out of the allowlist.
	if env["SECRET_ARN_ALLOWLIST"] != allowlist {
		t.Errorf("SECRET_ARN_ALLOWLIST = %q with ScopesSecretArn set, want the default %q", env["SECRET_ARN_ALLOWLIST"], allowlist)
	}
	read, _ := find(sts, "secretsmanager:DescribeSecret")
	if slices.Contains(read.resources(), scopesSecret) {
		t.Errorf("the allowlist's read statement names the scopes document: %s", read)
	}

	fn = resolverFunction(t, loadTemplate(t, map[string]any{"Scopes": scopesDoc}))
	if env := fn.Environment.Variables; env["SCOPES"] != scopesDoc || env["SCOPES_SECRET_ARN"] != "" {
		t.Errorf("SCOPES = %q, SCOPES_SECRET_ARN = %q; want the document and empty", env["SCOPES"], env["SCOPES_SECRET_ARN"])
	}
	sts = statements(t, fn)
	checkScopesDocumentPolicy(t, sts, "")
	checkScopeRolesPolicy(t, sts, nil)

	// The document holds external ids: describe-stacks must not show it.
	if p := loadTemplate(t, nil).Parameters["Scopes"]; p.NoEcho == nil || !*p.NoEcho {
		t.Error("parameter Scopes is not NoEcho")
	}
}

// TestScopesTranslated: what CloudFormation makes of the SAM template, with
// and without the scope parameters. The function's role grants
// sts:AssumeRole in no policy unless ScopeRoleArns is set, and then on
// those roles only.
func TestScopesTranslated(t *testing.T) {
	t.Parallel()
	// The role's inline policies as plain statements; its trust policy,
	// which lets Lambda assume it, is not among them.
	roleStatements := func(res map[string]any) []statement {
		t.Helper()
		var sts []statement
		for _, p := range jsonPath(t, res["ResolverFunctionRole"], "Properties", "Policies").([]any) {
			for _, raw := range jsonPath(t, p, "PolicyDocument", "Statement").([]any) {
				var s statement
				strictDecode(t, []byte(mustJSON(t, raw)), &s)
				sts = append(sts, s)
			}
		}
		return sts
	}
	env := func(res map[string]any) map[string]any {
		t.Helper()
		return jsonPath(t, res["ResolverFunction"], "Properties", "Environment", "Variables").(map[string]any)
	}

	res := stack(t, nil)
	// checkPolicy reads goformation's output (TestScopeRolesPolicy): here
	// resources may still be intrinsics such as Fn::Sub.
	sts := roleStatements(res)
	checkScopeRolesPolicy(t, sts, nil)
	checkScopesDocumentPolicy(t, sts, "")
	for _, p := range jsonPath(t, res["ResolverFunctionRole"], "Properties", "Policies").([]any) {
		if strings.Contains(mustJSON(t, p), "sts:") {
			t.Errorf("a policy of the function's role names sts: without ScopeRoleArns: %s", mustJSON(t, p))
		}
	}
	if e := env(res); e["SCOPES_SECRET_ARN"] != "" || e["SCOPES"] != "" {
		t.Errorf("SCOPES_SECRET_ARN = %v, SCOPES = %v by default, want both empty", e["SCOPES_SECRET_ARN"], e["SCOPES"])
	}

	res = stack(t, scopeParams)
	sts = roleStatements(res)
	checkScopeRolesPolicy(t, sts, scopeRoles)
	checkScopesDocumentPolicy(t, sts, scopesSecret)
	if e := env(res); e["SCOPES_SECRET_ARN"] != scopesSecret {
		t.Errorf("SCOPES_SECRET_ARN = %v, want %s", e["SCOPES_SECRET_ARN"], scopesSecret)
	}
}

// TestScopeParameterPatterns: the parameters refuse what would widen the
// grants: a bare "*" or a non-role ARN among the roles, a partial ARN (no
// random suffix, so IAM would match no secret) for the document.
func TestScopeParameterPatterns(t *testing.T) {
	t.Parallel()
	params := loadTemplate(t, nil).Parameters
	for name, c := range map[string]struct{ ok, bad []string }{
		// A CommaDelimitedList's pattern applies to each value.
		"ScopeRoleArns": {
			ok: append([]string{"", "arn:aws-cn:iam::210987654321:role/a/b/c", "arn:aws:iam::?????????????:role/x"}, scopeRoles...),
			bad: []string{"*", "arn:aws:iam::210987654321:*", "arn:aws:iam::210987654321:user/x",
				"arn:aws:s3:::bucket", "arn:aws:iam::210987654321:role/", " arn:aws:iam::210987654321:role/x"},
		},
		"ScopesSecretArn": {
			ok: []string{"", scopesSecret, "arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:a-b_c/d+e=f.g@h-XyZ789"},
			bad: []string{"*", "arn:aws:secretsmanager:us-east-1:111122223333:secret:maskresolver/scopes",
				"arn:aws:secretsmanager:*:111122223333:secret:maskresolver/scopes-AbC123",
				"arn:aws:secretsmanager:us-east-1:111122223333:secret:*-AbC123", scopesSecret + ",x"},
		},
	} {
		p := params[name]
		if p.AllowedPattern == nil {
			t.Errorf("parameter %s has no AllowedPattern", name)
			continue
		}
		re := regexp.MustCompile(*p.AllowedPattern)
		for _, v := range c.ok {
			if !re.MatchString(v) {
				t.Errorf("%s refuses %q", name, v)
			}
		}
		for _, v := range c.bad {
			if re.MatchString(v) {
				t.Errorf("%s accepts %q", name, v)
			}
		}
	}
}
