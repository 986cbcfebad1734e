package samtemplate_test

import (
	"strings"
	"testing"
)

// The API's one route, as ResolverFunction's event names it; the invoke
// permission's source ARN ends with it.
const (
	resolvePath   = "/v1/resolve"
	resolveMethod = "post"
)

// TestHttpApiRoute: POST /v1/resolve is ResolverFunction's one event, an
// HttpApi event on the HttpApi resource, IAM-authorized, so that a reader
// (and sam local start-api) finds the route, its auth and its target in
// the function. The API has no OpenAPI body of its own: SAM writes it from
// the events.
func TestHttpApiRoute(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	events := node(t, root, "Resources", "ResolverFunction", "Properties", "Events")
	assertKeys(t, events, "ResolverFunction.Events", "Resolve")
	ev := node(t, events, "Resolve")
	assertKeys(t, ev, "the Resolve event", "Type", "Properties")
	assertScalar(t, node(t, ev, "Type"), "Resolve.Type", "!!str", "HttpApi")
	p := node(t, ev, "Properties")
	assertKeys(t, p, "Resolve.Properties", "ApiId", "Method", "Path", "PayloadFormatVersion", "Auth")
	assertScalar(t, node(t, p, "ApiId"), "Resolve.ApiId", "!Ref", "HttpApi")
	assertScalar(t, node(t, p, "Method"), "Resolve.Method", "!!str", strings.ToUpper(resolveMethod))
	assertScalar(t, node(t, p, "Path"), "Resolve.Path", "!!str", resolvePath)
	assertScalar(t, node(t, p, "PayloadFormatVersion"), "Resolve.PayloadFormatVersion", "!!str", "2.0")
	assertKeys(t, node(t, p, "Auth"), "Resolve.Auth", "Authorizer")
	assertScalar(t, node(t, p, "Auth", "Authorizer"), "Resolve.Auth.Authorizer", "!!str", "AWS_IAM")

	api := node(t, root, "Resources", "HttpApi", "Properties")
	for _, k := range []string{"DefinitionBody", "DefinitionUri"} {
		if lookup(api, k) != nil {
			t.Errorf("HttpApi has a %s: the routes are the functions' events", k)
		}
	}
	if fn := resolverFunction(t, loadTemplate(t, nil)); len(fn.Events) != 1 {
		t.Errorf("goformation sees %d function events, want 1", len(fn.Events))
	}
}

// TestApiInvokePermission: the template writes no Lambda permission; SAM
// writes the one the route needs (TestSamTranslation reads it).
func TestApiInvokePermission(t *testing.T) {
	t.Parallel()
	res := node(t, rawTemplate(t), "Resources")
	for i := 0; i+1 < len(res.Content); i += 2 {
		if ty := lookup(res.Content[i+1], "Type"); ty != nil && ty.Value == "AWS::Lambda::Permission" {
			t.Errorf("%s is a hand-written Lambda permission", res.Content[i].Value)
		}
	}
}

func TestHttpApiRequiresIAM(t *testing.T) {
	t.Parallel()
	api, err := loadTemplate(t, nil).GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		t.Fatal(err)
	}
	if api.Auth == nil || api.Auth.DefaultAuthorizer == nil || *api.Auth.DefaultAuthorizer != "AWS_IAM" {
		t.Error("HttpApi Auth.DefaultAuthorizer is not AWS_IAM")
	}
	if api.Auth != nil && api.Auth.Authorizers != nil {
		t.Errorf("HttpApi defines other authorizers: %v", api.Auth.Authorizers)
	}
	// The output URL has no stage segment: only right for the $default stage.
	if api.StageName != nil && *api.StageName != "$default" {
		t.Errorf("StageName %q: ApiUrl assumes $default", *api.StageName)
	}
	if api.DisableExecuteApiEndpoint != nil && *api.DisableExecuteApiEndpoint {
		t.Error("execute-api endpoint disabled, but ApiUrl points at it")
	}
	// Without EnableIamAuthorizer SAM rejects AWS_IAM as DefaultAuthorizer;
	// goformation does not model it (see loadTemplate).
	auth := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "Auth")
	assertScalar(t, node(t, auth, "EnableIamAuthorizer"), "HttpApi Auth.EnableIamAuthorizer", "!!bool", "true")
}

func TestHttpApiThrottling(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name        string
		overrides   map[string]any
		rate, burst float64
	}{
		{"defaults", nil, 50, 100},
		{"overridden", map[string]any{"ThrottlingRateLimit": 7, "ThrottlingBurstLimit": 9}, 7, 9},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api, err := loadTemplate(t, c.overrides).GetServerlessHttpApiWithName("HttpApi")
			if err != nil {
				t.Fatal(err)
			}
			s := api.DefaultRouteSettings
			if s == nil || s.ThrottlingRateLimit == nil || s.ThrottlingBurstLimit == nil {
				t.Fatal("HttpApi has no DefaultRouteSettings throttling")
			}
			if *s.ThrottlingRateLimit != c.rate || float64(*s.ThrottlingBurstLimit) != c.burst {
				t.Errorf("throttling rate %v burst %v, want %v and %v", *s.ThrottlingRateLimit, *s.ThrottlingBurstLimit, c.rate, c.burst)
			}
			// A per-route setting would override the stage-wide limits.
			if api.RouteSettings != nil {
				t.Errorf("HttpApi RouteSettings %+v override the default throttling", *api.RouteSettings)
			}
		})
	}
	s := node(t, rawTemplate(t), "Resources", "HttpApi", "Properties", "DefaultRouteSettings")
	assertScalar(t, node(t, s, "ThrottlingRateLimit"), "ThrottlingRateLimit", "!Ref", "ThrottlingRateLimit")
	assertScalar(t, node(t, s, "ThrottlingBurstLimit"), "ThrottlingBurstLimit", "!Ref", "ThrottlingBurstLimit")
}

// TestSamTranslation expands the template with AWS's SAM translator and
// checks what CloudFormation is handed: the one route, which SAM secures
// with IAM and points at the "live" alias; the one invoke permission, on
// the alias, from that route of this API only; the auto-deployed $default
// stage with the API's throttling and access log.
func TestSamTranslation(t *testing.T) {
	t.Parallel()
	res := jsonPath(t, translateTemplate(t, nil), "Resources").(map[string]any)
	for _, ty := range []string{"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration"} {
		if ids := resourcesOfType(t, res, ty); len(ids) != 0 {
			t.Errorf("%s %q: SAM writes the routes in the API's body", ty, ids)
		}
	}
	alias := liveAlias(t, res)

	api := jsonPath(t, res["HttpApi"], "Properties", "Body")
	paths := jsonPath(t, api, "paths").(map[string]any)
	if len(paths) != 1 || len(jsonPath(t, paths, resolvePath).(map[string]any)) != 1 {
		t.Errorf("the API's paths are %s, want only %s %s", mustJSON(t, paths), resolveMethod, resolvePath)
	}
	op := jsonPath(t, paths, resolvePath, resolveMethod)
	if got, want := mustJSON(t, jsonPath(t, op, "security")), `[{"AWS_IAM":[]}]`; got != want {
		t.Errorf("%s %s security %s, want %s", resolveMethod, resolvePath, got, want)
	}
	if got := mustJSON(t, jsonPath(t, api, "components", "securitySchemes", "AWS_IAM")); !strings.Contains(got, `"x-amazon-apigateway-authtype":"awsSigv4"`) {
		t.Errorf("AWS_IAM security scheme %s is not SigV4", got)
	}
	in := jsonPath(t, op, "x-amazon-apigateway-integration")
	for k, want := range map[string]string{"type": "aws_proxy", "httpMethod": "POST", "payloadFormatVersion": "2.0"} {
		if got := jsonPath(t, in, k); got != want {
			t.Errorf("integration %s = %v, want %s", k, got, want)
		}
	}
	// The alias, whatever ProvisionedConcurrency says: there is no
	// condition left on the route's target.
	wantURI := map[string]any{"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${" + alias + "}/invocations"}
	if got, want := mustJSON(t, jsonPath(t, in, "uri")), mustJSON(t, wantURI); got != want {
		t.Errorf("integration uri %s, want %s", got, want)
	}

	perms := resourcesOfType(t, res, "AWS::Lambda::Permission")
	if len(perms) != 1 {
		t.Fatalf("Lambda permissions %q, want the one SAM writes for the route", perms)
	}
	perm := jsonPath(t, res[perms[0]], "Properties").(map[string]any)
	if len(perm) != 4 {
		t.Errorf("permission %s has %d properties, want Action, FunctionName, Principal and SourceArn only", mustJSON(t, perm), len(perm))
	}
	for k, want := range map[string]any{
		"Action":       "lambda:InvokeFunction",
		"Principal":    "apigateway.amazonaws.com",
		"FunctionName": map[string]any{"Ref": alias},
		// Any stage (only $default exists), this API, this route only.
		"SourceArn": map[string]any{"Fn::Sub": []any{
			"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/" + strings.ToUpper(resolveMethod) + resolvePath,
			map[string]any{"__ApiId__": map[string]any{"Ref": "HttpApi"}, "__Stage__": "*"},
		}},
	} {
		if got := mustJSON(t, perm[k]); got != mustJSON(t, want) {
			t.Errorf("permission %s = %s, want %s", k, got, mustJSON(t, want))
		}
	}

	// The one stage: $default, deployed on every change of the API, with
	// the stage-wide throttling and no per-route settings.
	stages := resourcesOfType(t, res, "AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("stages %q, want SAM's $default", stages)
	}
	stage := jsonPath(t, res[stages[0]], "Properties")
	if jsonPath(t, stage, "StageName") != "$default" || jsonPath(t, stage, "AutoDeploy") != true {
		t.Errorf("stage %s is not the auto-deployed $default", stages[0])
	}
	jsonPath(t, stage, "DefaultRouteSettings", "ThrottlingRateLimit")
	jsonPath(t, stage, "AccessLogSettings", "Format")
	if _, ok := stage.(map[string]any)["RouteSettings"]; ok {
		t.Error("the stage has RouteSettings overriding the default throttling")
	}
}

// liveAlias returns the logical id of the one alias, which AutoPublishAlias
// makes and names live.
func liveAlias(t *testing.T, res map[string]any) string {
	t.Helper()
	aliases := resourcesOfType(t, res, "AWS::Lambda::Alias")
	if len(aliases) != 1 {
		t.Fatalf("aliases %q, want the one AutoPublishAlias makes", aliases)
	}
	if jsonPath(t, res[aliases[0]], "Properties", "Name") != "live" {
		t.Errorf("alias %s is not named live", aliases[0])
	}
	return aliases[0]
}
