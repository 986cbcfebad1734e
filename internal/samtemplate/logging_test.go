package samtemplate_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The function logs JSON, so that the EMF metrics in its summary line reach
// CloudWatch, at the level the LogLevel parameter names.
func TestLoggingConfig(t *testing.T) {
	t.Parallel()
	lc := node(t, rawTemplate(t), "Resources", "ResolverFunction", "Properties", "LoggingConfig")
	assertScalar(t, node(t, lc, "LogFormat"), "LoggingConfig.LogFormat", "!!str", "JSON")
	level := node(t, lc, "ApplicationLogLevel")
	if level.Tag != "!FindInMap" || len(level.Content) != 3 || level.Content[0].Value != "LambdaLogLevels" || level.Content[1].Value != "LogLevel" {
		t.Fatalf("ApplicationLogLevel is not !FindInMap [LambdaLogLevels, !Ref LogLevel, Level]: %s", level.Tag)
	}
	levels := node(t, rawTemplate(t), "Mappings", "LambdaLogLevels")
	for _, l := range []string{"debug", "info", "warn", "error"} {
		assertScalar(t, node(t, node(t, levels, l), "Level"), "LambdaLogLevels."+l, "!!str", strings.ToUpper(l))
	}
}

// accessLogVars is every $context variable the access log may carry: all
// metadata. Adding one means checking it cannot carry the payload.
var accessLogVars = []string{
	"$context.requestId",
	"$context.requestTime",
	"$context.httpMethod",
	"$context.path",
	"$context.routeKey",
	"$context.status",
	"$context.protocol",
	"$context.responseLength",
	"$context.responseLatency",
	"$context.integrationLatency",
	"$context.integrationStatus",
	"$context.identity.userArn",
	"$context.identity.sourceIp",
	"$context.error.message",
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	als := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "AccessLogSettings")
	assertScalar(t, node(t, als, "DestinationArn"), "AccessLogSettings.DestinationArn", "!GetAtt", "ApiAccessLogGroup.Arn")
	format := node(t, als, "Format")
	if format.Kind != yaml.ScalarNode || format.Tag != "!!str" {
		t.Fatalf("AccessLogSettings.Format is %s, want a plain string", format.Tag)
	}
	f := format.Value
	if strings.ContainsAny(f, "\n\r") {
		t.Error("access log format spans lines; API Gateway wants one line")
	}
	low := strings.ToLower(f)
	for _, bad := range []string{"$request.", "$input", "body", "requestoverride", "responseoverride", "header", "querystring", "stagevariables"} {
		if strings.Contains(low, bad) {
			t.Errorf("access log format contains %q: it could carry the payload or credentials", bad)
		}
	}
	// Every value is one quoted $context variable, so the line is JSON
	// whatever the values, and each variable is one the list above allows.
	var fields map[string]string
	if err := json.Unmarshal([]byte(f), &fields); err != nil {
		t.Fatalf("access log format is not a JSON object of strings: %v\n%s", err, f)
	}
	var vars []string
	for k, v := range fields {
		if !slices.Contains(accessLogVars, v) {
			t.Errorf("access log field %s = %q, not one of the allowed metadata variables", k, v)
		}
		vars = append(vars, v)
	}
	for _, must := range []string{"$context.requestId", "$context.status", "$context.identity.userArn", "$context.routeKey"} {
		if !slices.Contains(vars, must) {
			t.Errorf("access log format lacks %s", must)
		}
	}
}

func TestLogGroups(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		overrides map[string]any
		days      int
	}{
		{"defaults", nil, 30},
		{"overridden", map[string]any{"LogRetentionInDays": 7, "PreTrafficConnection": "{}"}, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tpl := loadTemplate(t, c.overrides)
			groups := []string{"ApiAccessLogGroup", "FunctionLogGroup"}
			// The hook's group comes and goes with the hook.
			_, err := tpl.GetLogsLogGroupWithName("PreTrafficHookLogGroup")
			if hook := c.overrides["PreTrafficConnection"] != nil; hook {
				groups = append(groups, "PreTrafficHookLogGroup")
			} else if err == nil {
				t.Error("PreTrafficHookLogGroup exists without PreTrafficConnection")
			}
			for _, name := range groups {
				lg, err := tpl.GetLogsLogGroupWithName(name)
				if err != nil {
					t.Fatal(err)
				}
				if lg.RetentionInDays == nil || *lg.RetentionInDays != c.days {
					t.Errorf("%s RetentionInDays %v, want %d", name, lg.RetentionInDays, c.days)
				}
			}
		})
	}
	res := node(t, rawTemplate(t), "Resources")
	for _, name := range []string{"ApiAccessLogGroup", "FunctionLogGroup", "PreTrafficHookLogGroup"} {
		assertScalar(t, node(t, res, name, "Properties", "RetentionInDays"), name+".RetentionInDays", "!Ref", "LogRetentionInDays")
	}
	assertScalar(t, node(t, res, "PreTrafficHookLogGroup", "Properties", "LogGroupName"), "PreTrafficHookLogGroup.LogGroupName", "!Sub", "/aws/lambda/${PreTrafficHookFunction}")
	// The group Lambda writes to: named after the function, or Lambda
	// creates its own that never expires.
	assertScalar(t, node(t, res, "FunctionLogGroup", "Properties", "LogGroupName"), "FunctionLogGroup.LogGroupName", "!Sub", "/aws/lambda/${ResolverFunction}")
	if lc := lookup(node(t, res, "ResolverFunction", "Properties"), "LoggingConfig"); lc != nil && lookup(lc, "LogGroup") != nil {
		t.Error("ResolverFunction's LoggingConfig names a LogGroup: FunctionLogGroup may no longer be its log group")
	}
}
