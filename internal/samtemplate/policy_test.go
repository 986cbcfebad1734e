package samtemplate_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// readActions is every action the function's role may have, and nothing
// else: reads, and assuming the roles of scopes (which read for it).
var readActions = []string{
	"secretsmanager:GetSecretValue",
	"secretsmanager:DescribeSecret",
	"secretsmanager:BatchGetSecretValue",
	"kms:Decrypt",
	"sts:AssumeRole",
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
	// GetSecretValue twice when the scopes document has its own statement
	// (checkScopesDocumentPolicy pins it); sts:AssumeRole at most once, on
	// its own (checkScopeRolesPolicy pins its resources).
	scopesDoc := 0
	for _, s := range sts {
		if s.Sid == "ReadScopesDocument" {
			scopesDoc++
		}
		if s.grants("sts:AssumeRole") && len(s.actions()) != 1 {
			t.Errorf("statement %s grants sts:AssumeRole with other actions", s)
		}
	}
	for a, want := range map[string]int{
		"secretsmanager:GetSecretValue":      1 + scopesDoc,
		"secretsmanager:DescribeSecret":      1,
		"secretsmanager:BatchGetSecretValue": 1,
	} {
		n := 0
		for _, s := range sts {
			if s.grants(a) {
				n++
			}
		}
		if n != want {
			t.Errorf("%s granted by %d statements, want %d", a, n, want)
		}
	}
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
	if raw, err := os.ReadFile(templatePath); err != nil || !strings.Contains(string(raw), "kms:ViaService: !Sub secretsmanager.*.${AWS::URLSuffix}") {
		t.Errorf("the KMS condition must be secretsmanager.*.${AWS::URLSuffix} (any region, any partition): %v", err)
	}
	if got, _ := json.Marshal(kms.Condition); string(got) != mustJSON(t, want) {
		t.Errorf("KMS statement Condition %s, want %s", got, mustJSON(t, want))
	}
}

// hookActions is every action the pre-traffic hook's role may have
// (TestPreTrafficHook pins their resources in SAM's output).
var hookActions = []string{
	"lambda:InvokeFunction",
	"codedeploy:PutLifecycleEventHookExecutionStatus",
}

// TestOnlyReadActions walks the whole template for IAM actions: the
// resolver's policy must grant only reads, the hook's only its two calls,
// and no other resource may grant anything.
func TestOnlyReadActions(t *testing.T) {
	t.Parallel()
	allowed := map[string][]string{"ResolverFunction": readActions, "PreTrafficHookFunction": hookActions}
	// The scopes document's statement grants GetSecretValue a second time.
	twice := map[string]string{"ResolverFunction": "secretsmanager:GetSecretValue"}
	var walk func(y *yaml.Node, under, id string, allow []string, seen map[string]int)
	walk = func(y *yaml.Node, under, id string, allow []string, seen map[string]int) {
		switch y.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(y.Content); i += 2 {
				walk(y.Content[i+1], y.Content[i].Value, id, allow, seen)
			}
		case yaml.SequenceNode:
			for _, c := range y.Content {
				walk(c, under, id, allow, seen)
			}
		case yaml.ScalarNode:
			if under == "Action" || under == "NotAction" {
				most := 1
				if twice[id] == y.Value {
					most = 2
				}
				if under == "NotAction" || !slices.Contains(allow, y.Value) || seen[y.Value] >= most {
					t.Errorf("%s %s %q, want each of %q once (%s twice)", id, under, y.Value, allow, twice[id])
				}
				seen[y.Value]++
			}
		}
	}
	res := node(t, rawTemplate(t), "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		id := res.Content[i].Value
		seen := map[string]int{}
		walk(res.Content[i+1], "", id, allowed[id], seen)
		if len(seen) != len(allowed[id]) {
			t.Errorf("%s grants %d actions, want the %d of %q", id, len(seen), len(allowed[id]), allowed[id])
		}
	}
}
