package samtemplate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/intrinsics"
	"gopkg.in/yaml.v3"

	"github.com/maskresolver/maskresolver/internal/config"
)

// tenantTemplatePath is the template a tenant deploys in its own account
// (docs/scopes.md): the role a scope assumes.
var tenantTemplatePath = filepath.Join(repoRoot, "docs", "tenant-role.yaml")

// Tenant parameters as docs/scopes.md sets them.
var (
	tenantFunctionRole = "arn:aws:iam::111122223333:role/maskresolver-ResolverFunctionRole-AbCdEf123456"
	tenantExternalID   = "d5c1f0e2-team-a"
	tenantSecrets      = []string{
		"arn:aws:secretsmanager:us-east-1:210987654321:secret:prod/*",
		"arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/db-??????",
	}
	tenantKeys = []string{"arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
)

// tenantActions is every action the tenant's role may be granted.
var tenantActions = []string{
	"secretsmanager:GetSecretValue",
	"secretsmanager:DescribeSecret",
	"secretsmanager:BatchGetSecretValue",
	"kms:Decrypt",
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// tenantParams are the required parameters, and the given others.
func tenantParams(extra map[string]any) map[string]any {
	p := map[string]any{
		"FunctionRoleArn": tenantFunctionRole,
		"ExternalId":      tenantExternalID,
		"SecretArns":      anys(tenantSecrets),
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func rawTenantTemplate(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(tenantTemplatePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) != 1 {
		t.Fatalf("parse %s: %v", tenantTemplatePath, err)
	}
	return doc.Content[0]
}

// loadTenantRole parses the tenant's template with goformation, conditions
// evaluated under params, and returns it and its one resource, the role.
func loadTenantRole(t *testing.T, params map[string]any) (*cloudformation.Template, *iam.Role) {
	t.Helper()
	b, err := os.ReadFile(tenantTemplatePath)
	if err != nil {
		t.Fatal(err)
	}
	goformationMu.Lock()
	tpl, err := goformation.ParseYAMLWithOptions(b, &intrinsics.ProcessorOptions{
		EvaluateConditions: true,
		ParameterOverrides: params,
	})
	goformationMu.Unlock()
	if err != nil {
		t.Fatalf("goformation %s: %v", tenantTemplatePath, err)
	}
	if len(tpl.Resources) != 1 {
		t.Errorf("%s has %d resources, want the role alone", tenantTemplatePath, len(tpl.Resources))
	}
	role, err := tpl.GetIAMRoleWithName("ScopeRole")
	if err != nil {
		t.Fatal(err)
	}
	return tpl, role
}

// policyStatements decodes a policy document's statements. goformation
// leaves an !If that chose AWS::NoValue as null, in a list or as a member:
// both are dropped, as CloudFormation drops them.
func policyStatements(t *testing.T, doc any) []statement {
	t.Helper()
	var d struct {
		Version   string
		Statement []map[string]any
	}
	strictDecode(t, []byte(mustJSON(t, doc)), &d)
	if d.Version != "2012-10-17" {
		t.Errorf("policy Version %q, want 2012-10-17", d.Version)
	}
	var out []statement
	for _, raw := range d.Statement {
		if raw == nil {
			continue
		}
		if c, ok := raw["Condition"].(map[string]any); ok {
			for op, v := range c {
				if v == nil {
					delete(c, op)
				}
			}
		}
		var s statement
		strictDecode(t, []byte(mustJSON(t, raw)), &s)
		out = append(out, s)
	}
	return out
}

// TestTenantRoleTrust: only the function's role may assume the tenant's
// role, and only with the external id (and, when ScopeName is set, with
// the session name the function gives the scope).
func TestTenantRoleTrust(t *testing.T) {
	t.Parallel()
	for _, scope := range []string{"", "team-a"} {
		_, role := loadTenantRole(t, tenantParams(map[string]any{"ScopeName": scope}))
		sts := policyStatements(t, role.AssumeRolePolicyDocument)
		if len(sts) != 1 {
			t.Fatalf("ScopeName %q: trust policy has %d statements, want 1: %v", scope, len(sts), sts)
		}
		s := sts[0]
		if s.Effect != "Allow" || !slices.Equal(s.actions(), []string{"sts:AssumeRole"}) || s.Resource != nil || s.NotAction != nil || s.NotPrincipal != nil {
			t.Errorf("ScopeName %q: trust statement %s, want Allow sts:AssumeRole to a Principal", scope, s)
		}
		if got, want := mustJSON(t, s.Principal), mustJSON(t, map[string]any{"AWS": tenantFunctionRole}); got != want {
			t.Errorf("ScopeName %q: trust Principal %s, want %s", scope, got, want)
		}
		want := map[string]map[string]any{"StringEquals": {"sts:ExternalId": tenantExternalID}}
		if scope != "" {
			want["StringLike"] = map[string]any{"sts:RoleSessionName": "*@" + scope}
		}
		if got := mustJSON(t, s.Condition); got != mustJSON(t, want) {
			t.Errorf("ScopeName %q: trust Condition %s, want %s", scope, got, mustJSON(t, want))
		}
	}

	// As written: the principal is the parameter, never a wildcard; the
	// external id is required and hidden from describe-stacks.
	root := rawTenantTemplate(t)
	var principals []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Kind == yaml.MappingNode && (n.Content[i].Value == "Principal" || n.Content[i].Value == "NotPrincipal") {
				principals = append(principals, n.Content[i+1])
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(node(t, root, "Resources"))
	if len(principals) != 1 {
		t.Fatalf("%d Principal or NotPrincipal members, want the trust policy's one", len(principals))
	}
	assertKeys(t, principals[0], "Principal", "AWS")
	assertScalar(t, node(t, principals[0], "AWS"), "Principal.AWS", "!Ref", "FunctionRoleArn")
	params := node(t, root, "Parameters")
	for _, name := range []string{"FunctionRoleArn", "ExternalId"} {
		if lookup(node(t, params, name), "Default") != nil {
			t.Errorf("parameter %s has a Default: it must be given", name)
		}
	}
	assertScalar(t, node(t, params, "ExternalId", "NoEcho"), "ExternalId.NoEcho", "!!bool", "true")
	assertScalar(t, node(t, params, "ExternalId", "MinLength"), "ExternalId.MinLength", "!!int", "2")
}

// TestTenantRoleSessionName: the trust policy's *@<ScopeName> matches the
// session names the function gives a scope (config.RoleSessionName), for
// every name ScopeName accepts, whatever the function's name.
func TestTenantRoleSessionName(t *testing.T) {
	t.Parallel()
	tpl, _ := loadTenantRole(t, tenantParams(nil))
	pattern := deref(tpl.Parameters["ScopeName"].AllowedPattern)
	if pattern == "" {
		t.Fatal("parameter ScopeName has no AllowedPattern")
	}
	re := regexp.MustCompile(pattern)
	longest := ""
	for n := 1; n <= 64; n++ {
		name := strings.Repeat("s", n)
		if !re.MatchString(name) {
			continue
		}
		longest = name
		for _, fn := range []string{"", "maskresolver-ResolverFunction-AbCdEf123456", strings.Repeat("f", 64)} {
			if session := config.RoleSessionName(fn, name); !strings.HasSuffix(session, "@"+name) {
				t.Errorf("ScopeName %q admitted, but the function %q names its session %q, which *@%s does not match", name, fn, session, name)
			}
		}
	}
	if len(longest) < 32 {
		t.Errorf("ScopeName admits names up to %d characters only", len(longest))
	}
	if !re.MatchString("") {
		t.Error("ScopeName refuses the empty default")
	}
}

// TestTenantRoleReads: the role may read the given secrets and nothing
// else, and decrypt through Secrets Manager with the given keys only.
func TestTenantRoleReads(t *testing.T) {
	t.Parallel()
	for _, keys := range [][]string{nil, tenantKeys} {
		extra := map[string]any{}
		if keys != nil {
			extra["KmsKeyArns"] = anys(keys)
		}
		_, role := loadTenantRole(t, tenantParams(extra))
		if len(role.ManagedPolicyArns) != 0 || role.PermissionsBoundary != nil {
			t.Errorf("role has managed policies %q", role.ManagedPolicyArns)
		}
		if len(role.Policies) != 1 {
			t.Fatalf("role has %d inline policies, want 1", len(role.Policies))
		}
		sts := policyStatements(t, role.Policies[0].PolicyDocument)
		for _, s := range sts {
			if s.Effect != "Allow" || s.NotAction != nil || s.NotResource != nil || s.Principal != nil || s.NotPrincipal != nil {
				t.Errorf("statement %s: want Allow with Action and Resource only", s)
			}
			for _, a := range s.actions() {
				if !slices.Contains(tenantActions, a) {
					t.Errorf("statement %s grants %q, not one of %q", s, a, tenantActions)
				}
			}
			for _, r := range s.resources() {
				if r == "*" && !slices.Equal(s.actions(), []string{"secretsmanager:BatchGetSecretValue"}) {
					t.Errorf("statement %s: only secretsmanager:BatchGetSecretValue may be granted on \"*\"", s)
				}
			}
		}
		for a, want := range map[string][]string{
			"secretsmanager:GetSecretValue":      tenantSecrets,
			"secretsmanager:DescribeSecret":      tenantSecrets,
			"secretsmanager:BatchGetSecretValue": {"*"},
			"kms:Decrypt":                        keys,
		} {
			var got []string
			for _, s := range sts {
				if s.grants(a) {
					got = append(got, s.resources()...)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s granted on %q, want %q", a, got, want)
			}
		}
		if kms, ok := find(sts, "kms:Decrypt"); ok {
			// goformation resolves ${AWS::URLSuffix} to "".
			want := map[string]map[string]any{"StringLike": {"kms:ViaService": "secretsmanager.*."}}
			if got := mustJSON(t, kms.Condition); got != mustJSON(t, want) {
				t.Errorf("kms:Decrypt Condition %s, want %s", got, mustJSON(t, want))
			}
		}
	}
}

// TestTenantRoleOutput: the stack's output is the role's ARN, what the
// function's scopes document and ScopeRoleArns name.
func TestTenantRoleOutput(t *testing.T) {
	t.Parallel()
	outputs := node(t, rawTenantTemplate(t), "Outputs")
	assertKeys(t, outputs, "Outputs", "RoleArn")
	assertScalar(t, node(t, outputs, "RoleArn", "Value"), "RoleArn", "!GetAtt", "ScopeRole.Arn")
}

// TestScopesDocsTenantTemplate: docs/scopes.md has a table row for every
// parameter of the tenant's template, with its default when it has one.
func TestScopesDocsTenantTemplate(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "scopes.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := tableRows(string(b))
	// As written: goformation hands the overrides back as defaults.
	params := node(t, rawTenantTemplate(t), "Parameters")
	for i := 0; i+1 < len(params.Content); i += 2 {
		name := params.Content[i].Value
		cell, ok := rows[name]
		if !ok {
			t.Errorf("docs/scopes.md has no row for tenant-role.yaml's parameter %s", name)
			continue
		}
		want := "required"
		if d := lookup(params.Content[i+1], "Default"); d != nil {
			want = "`" + d.Value + "`"
			if d.Value == "" {
				want = "`\"\"`"
			}
		}
		if !strings.HasPrefix(cell, want) {
			t.Errorf("docs/scopes.md gives %s the default %s, want %s", name, cell, want)
		}
	}
	if _, ok := rows["RoleArn"]; !ok {
		t.Error("docs/scopes.md has no row for tenant-role.yaml's output RoleArn")
	}
}
