package samtemplate_test

import (
	"maps"
	"testing"
)

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
		// The rollback trigger of the function's DeploymentPreference.
		"NewVersionErrorsAlarm": "AWS::CloudWatch::Alarm",
		// Only with PreTrafficConnection (TestPreTrafficHook).
		"PreTrafficHookFunction": "AWS::Serverless::Function",
		"PreTrafficHookLogGroup": "AWS::Logs::LogGroup",
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

	// SAM's names for the CodeDeploy resources it writes
	// (TestCodeDeployResources).
	assertScalar(t, node(t, out, "DeploymentApplicationName", "Value"), "DeploymentApplicationName", "!Ref", "ServerlessDeploymentApplication")
	assertScalar(t, node(t, out, "DeploymentGroupName", "Value"), "DeploymentGroupName", "!Ref", "ResolverFunctionDeploymentGroup")

	tpl := loadTemplate(t, nil)
	for _, name := range []string{"ApiUrl", "ResolverFunctionArn", "ResolverFunctionAliasArn", "ResolverFunctionRoleArn", "FunctionLogGroupName", "ApiAccessLogGroupName", "DeploymentApplicationName", "DeploymentGroupName"} {
		if _, ok := tpl.Outputs[name]; !ok {
			t.Errorf("goformation sees no output %s", name)
		}
	}
}
