package samtemplate_test

import (
	"slices"
	"strings"
	"testing"
)

// deploymentTypes are the traffic-shifting configurations SAM knows by
// name (it writes CodeDeployDefault.Lambda<name>): DeploymentType's
// AllowedValues.
var deploymentTypes = []string{
	"AllAtOnce",
	"Canary10Percent5Minutes",
	"Canary10Percent10Minutes",
	"Canary10Percent15Minutes",
	"Canary10Percent30Minutes",
	"Linear10PercentEvery1Minute",
	"Linear10PercentEvery2Minutes",
	"Linear10PercentEvery3Minutes",
	"Linear10PercentEvery10Minutes",
}

// A connection for the pre-traffic hook, as a deployer would give it.
const hookConnection = `{"password":"{{workato:sm:db.password:arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf}}"}`

// TestDeploymentPreferenceAsWritten: the function's DeploymentPreference
// takes its Type from DeploymentType, rolls back on NewVersionErrorsAlarm
// and runs the pre-traffic hook only under HasPreTrafficHook; CodeDeploy's
// role is SAM's own (no Role given).
func TestDeploymentPreferenceAsWritten(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	dp := node(t, root, "Resources", "ResolverFunction", "Properties", "DeploymentPreference")
	assertKeys(t, dp, "DeploymentPreference", "Type", "Alarms", "Hooks")
	assertScalar(t, node(t, dp, "Type"), "DeploymentPreference.Type", "!Ref", "DeploymentType")
	alarms := node(t, dp, "Alarms")
	if len(alarms.Content) != 1 {
		t.Fatalf("DeploymentPreference.Alarms has %d entries, want NewVersionErrorsAlarm", len(alarms.Content))
	}
	assertScalar(t, alarms.Content[0], "DeploymentPreference.Alarms[0]", "!Ref", "NewVersionErrorsAlarm")
	hooks := node(t, dp, "Hooks")
	assertKeys(t, hooks, "DeploymentPreference.Hooks", "PreTraffic")
	hook, none := assertIf(t, node(t, hooks, "PreTraffic"), "Hooks.PreTraffic", "HasPreTrafficHook")
	assertScalar(t, hook, "Hooks.PreTraffic then", "!Ref", "PreTrafficHookFunction")
	assertScalar(t, none, "Hooks.PreTraffic else", "!Ref", "AWS::NoValue")
	assertScalar(t, node(t, root, "Resources", "PreTrafficHookFunction", "Condition"), "PreTrafficHookFunction.Condition", "!!str", "HasPreTrafficHook")
	assertScalar(t, node(t, root, "Resources", "PreTrafficHookLogGroup", "Condition"), "PreTrafficHookLogGroup.Condition", "!!str", "HasPreTrafficHook")

	param, empty := assertNotEquals(t, node(t, root, "Conditions", "HasPreTrafficHook"), "HasPreTrafficHook")
	assertScalar(t, param, "HasPreTrafficHook[0]", "!Ref", "PreTrafficConnection")
	assertScalar(t, empty, "HasPreTrafficHook[1]", "!!str", "")
}

// TestCodeDeployResources: through the SAM translator, every deploy of the
// alias goes through CodeDeploy: SAM's application, the function's
// deployment group (the configuration DeploymentType names, automatic
// rollback on failure and on alarm, NewVersionErrorsAlarm), CodeDeploy's
// role, and the alias's update policy naming both.
func TestCodeDeployResources(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery1Minute"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			var params map[string]string
			if typ != "AllAtOnce" { // the default
				params = map[string]string{"DeploymentType": typ}
			}
			res := stack(t, params)
			apps := resourcesOfType(t, res, "AWS::CodeDeploy::Application")
			groups := resourcesOfType(t, res, "AWS::CodeDeploy::DeploymentGroup")
			if !slices.Equal(apps, []string{"ServerlessDeploymentApplication"}) || !slices.Equal(groups, []string{"ResolverFunctionDeploymentGroup"}) {
				t.Fatalf("CodeDeploy applications %q and groups %q, want SAM's one of each", apps, groups)
			}
			if got := jsonPath(t, res[apps[0]], "Properties", "ComputePlatform"); got != "Lambda" {
				t.Errorf("application ComputePlatform %v, want Lambda", got)
			}
			g := jsonPath(t, res[groups[0]], "Properties")
			for k, want := range map[string]any{
				"ApplicationName":      map[string]any{"Ref": apps[0]},
				"DeploymentConfigName": map[string]any{"Fn::Sub": []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": typ}}},
				"AlarmConfiguration":   map[string]any{"Enabled": true, "Alarms": []any{map[string]any{"Name": map[string]any{"Ref": "NewVersionErrorsAlarm"}}}},
				"AutoRollbackConfiguration": map[string]any{"Enabled": true,
					"Events": []any{"DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"}},
				"ServiceRoleArn": map[string]any{"Fn::GetAtt": []any{"CodeDeployServiceRole", "Arn"}},
			} {
				if got := mustJSON(t, jsonPath(t, g, k)); got != mustJSON(t, want) {
					t.Errorf("deployment group %s = %s, want %s", k, got, mustJSON(t, want))
				}
			}

			role := jsonPath(t, res["CodeDeployServiceRole"], "Properties")
			if got := mustJSON(t, jsonPath(t, role, "AssumeRolePolicyDocument", "Statement")); !strings.Contains(got, `"Service":["codedeploy.amazonaws.com"]`) {
				t.Errorf("CodeDeployServiceRole trusts %s, want codedeploy.amazonaws.com", got)
			}
			if got := mustJSON(t, jsonPath(t, role, "ManagedPolicyArns")); got != `["arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"]` {
				t.Errorf("CodeDeployServiceRole policies %s, want AWSCodeDeployRoleForLambda", got)
			}

			alias := liveAlias(t, res)
			update := jsonPath(t, res[alias], "UpdatePolicy", "CodeDeployLambdaAliasUpdate")
			want := map[string]any{"ApplicationName": map[string]any{"Ref": apps[0]}, "DeploymentGroupName": map[string]any{"Ref": groups[0]}}
			if got := mustJSON(t, update); got != mustJSON(t, want) {
				t.Errorf("alias update policy %s, want %s (no hook without PreTrafficConnection)", got, mustJSON(t, want))
			}
		})
	}
}

// TestNewVersionErrorsAlarm: the rollback trigger watches Errors of the
// version the alias is being moved to, through the alias (SAM's documented
// pattern), so that a canary's crashes roll it back within a minute.
func TestNewVersionErrorsAlarm(t *testing.T) {
	t.Parallel()
	res := stack(t, nil)
	version := jsonPath(t, res[liveAlias(t, res)], "Properties", "FunctionVersion")
	a := jsonPath(t, res["NewVersionErrorsAlarm"], "Properties")
	dims := map[string]string{}
	for _, d := range jsonPath(t, a, "Dimensions").([]any) {
		dims[jsonPath(t, d, "Name").(string)] = mustJSON(t, jsonPath(t, d, "Value"))
	}
	for name, want := range map[string]any{
		"Resource":        map[string]any{"Fn::Sub": "${ResolverFunction}:live"},
		"FunctionName":    map[string]any{"Ref": "ResolverFunction"},
		"ExecutedVersion": version, // {"Fn::GetAtt": [<version>, "Version"]}
	} {
		if dims[name] != mustJSON(t, want) {
			t.Errorf("NewVersionErrorsAlarm dimension %s = %s, want %s", name, dims[name], mustJSON(t, want))
		}
	}
	if len(dims) != 3 {
		t.Errorf("NewVersionErrorsAlarm dimensions %v, want Resource, FunctionName and ExecutedVersion", dims)
	}
	for k, want := range map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Period": 60.0,
		"EvaluationPeriods": 1.0, "Threshold": 0.0, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"} {
		if got := jsonPath(t, a, k); got != want {
			t.Errorf("NewVersionErrorsAlarm %s = %v, want %v", k, got, want)
		}
	}
}

// TestProvisionedConcurrencyTranslated: the alias carries provisioned
// concurrency only when the parameter asks for some.
func TestProvisionedConcurrencyTranslated(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		value string
		want  any
	}{
		{"0", nil},
		{"5", map[string]any{"ProvisionedConcurrentExecutions": "5"}},
	} {
		t.Run(c.value, func(t *testing.T) {
			t.Parallel()
			res := stack(t, map[string]string{"ProvisionedConcurrency": c.value, "ReservedConcurrency": "10"})
			props := jsonPath(t, res[liveAlias(t, res)], "Properties").(map[string]any)
			got, ok := props["ProvisionedConcurrencyConfig"]
			if c.want == nil && ok {
				t.Errorf("ProvisionedConcurrency 0: alias has ProvisionedConcurrencyConfig %s", mustJSON(t, got))
			}
			if c.want != nil && mustJSON(t, got) != mustJSON(t, c.want) {
				t.Errorf("ProvisionedConcurrency %s: alias ProvisionedConcurrencyConfig %s, want %s", c.value, mustJSON(t, got), mustJSON(t, c.want))
			}
			for _, id := range resourcesOfType(t, res, "AWS::Lambda::Version") {
				if _, ok := jsonPath(t, res[id], "Properties").(map[string]any)["ProvisionedConcurrencyConfig"]; ok {
					t.Errorf("version %s has provisioned concurrency: it belongs on the alias", id)
				}
			}
		})
	}
}
