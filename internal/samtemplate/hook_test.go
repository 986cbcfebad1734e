package samtemplate_test

import (
	"strings"
	"testing"
)

// hookResources are what PreTrafficConnection brings into the stack.
var hookResources = []string{"PreTrafficHookFunction", "PreTrafficHookFunctionRole", "PreTrafficHookLogGroup"}

// TestPreTrafficHookOnlyWhenAsked: with PreTrafficConnection empty (the
// default) the stack has no hook and the alias's update runs none.
func TestPreTrafficHookOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	res := stack(t, nil)
	for _, id := range hookResources {
		if _, ok := res[id]; ok {
			t.Errorf("%s exists although PreTrafficConnection is empty", id)
		}
	}
	update := jsonPath(t, res[liveAlias(t, res)], "UpdatePolicy", "CodeDeployLambdaAliasUpdate").(map[string]any)
	if h, ok := update["BeforeAllowTrafficHook"]; ok {
		t.Errorf("alias update runs hook %s although PreTrafficConnection is empty", mustJSON(t, h))
	}
}

// TestPreTrafficHook: with PreTrafficConnection set, CodeDeploy runs the
// hook before shifting traffic; the hook is named so that SAM's CodeDeploy
// role (AWSCodeDeployRoleForLambda: functions named CodeDeployHook_*) may
// invoke it, is told the version under test and the connection, and may do
// nothing but invoke that version and report to this deployment group.
func TestPreTrafficHook(t *testing.T) {
	t.Parallel()
	res := stack(t, map[string]string{"PreTrafficConnection": hookConnection})
	for _, id := range hookResources {
		if _, ok := res[id]; !ok {
			t.Fatalf("%s missing with PreTrafficConnection set", id)
		}
	}
	alias := liveAlias(t, res)
	if got := mustJSON(t, jsonPath(t, res[alias], "UpdatePolicy", "CodeDeployLambdaAliasUpdate", "BeforeAllowTrafficHook")); got != `{"Ref":"PreTrafficHookFunction"}` {
		t.Errorf("alias update BeforeAllowTrafficHook %s, want the hook", got)
	}
	version := jsonPath(t, res[alias], "Properties", "FunctionVersion", "Fn::GetAtt").([]any)[0].(string)

	fn := jsonPath(t, res["PreTrafficHookFunction"], "Properties")
	for k, want := range map[string]any{
		"FunctionName":  map[string]any{"Fn::Sub": "CodeDeployHook_${AWS::StackName}"},
		"Role":          map[string]any{"Fn::GetAtt": []any{"PreTrafficHookFunctionRole", "Arn"}},
		"Handler":       "bootstrap",
		"Runtime":       "provided.al2023",
		"Architectures": []any{"arm64"},
		"Environment": map[string]any{"Variables": map[string]any{
			"TARGET_VERSION_ARN": map[string]any{"Ref": version},
			"DRY_RUN_CONNECTION": hookConnection,
		}},
	} {
		if got := mustJSON(t, jsonPath(t, fn, k)); got != mustJSON(t, want) {
			t.Errorf("PreTrafficHookFunction %s = %s, want %s", k, got, mustJSON(t, want))
		}
	}
	// Not a deployment of its own: no alias, version or deployment group.
	for _, ty := range []string{"AWS::Lambda::Alias", "AWS::Lambda::Version", "AWS::CodeDeploy::DeploymentGroup"} {
		if n := len(resourcesOfType(t, res, ty)); n != 1 {
			t.Errorf("%d %s with the hook, want only the resolver's", n, ty)
		}
	}

	role := jsonPath(t, res["PreTrafficHookFunctionRole"], "Properties")
	if got := mustJSON(t, jsonPath(t, role, "AssumeRolePolicyDocument", "Statement")); got != `[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]}}]` {
		t.Errorf("hook role trusts %s, want lambda.amazonaws.com only", got)
	}
	// SAM's basic execution role (its own log lines), nothing else managed.
	if got := mustJSON(t, jsonPath(t, role, "ManagedPolicyArns")); got != `["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]` {
		t.Errorf("hook role managed policies %s", got)
	}
	policies := jsonPath(t, role, "Policies").([]any)
	if len(policies) != 1 {
		t.Fatalf("hook role has %d inline policies, want 1", len(policies))
	}
	want := []any{
		map[string]any{"Sid": "InvokeVersionUnderTest", "Effect": "Allow", "Action": []any{"lambda:InvokeFunction"},
			"Resource": map[string]any{"Ref": version}},
		map[string]any{"Sid": "ReportToThisDeploymentGroup", "Effect": "Allow", "Action": []any{"codedeploy:PutLifecycleEventHookExecutionStatus"},
			"Resource": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:${ServerlessDeploymentApplication}/${ResolverFunctionDeploymentGroup}"}},
	}
	if got := mustJSON(t, jsonPath(t, policies[0], "PolicyDocument", "Statement")); got != mustJSON(t, want) {
		t.Errorf("hook role statements %s, want %s", got, mustJSON(t, want))
	}
	// The resolver's own role gains nothing from the hook.
	resolverRole := mustJSON(t, res["ResolverFunctionRole"])
	for _, a := range []string{"lambda:InvokeFunction", "codedeploy:"} {
		if strings.Contains(resolverRole, a) {
			t.Errorf("the resolver's role grants %s", a)
		}
	}

	lg := jsonPath(t, res["PreTrafficHookLogGroup"], "Properties")
	if got := mustJSON(t, jsonPath(t, lg, "LogGroupName")); got != `{"Fn::Sub":"/aws/lambda/${PreTrafficHookFunction}"}` {
		t.Errorf("PreTrafficHookLogGroup LogGroupName %s", got)
	}
}
