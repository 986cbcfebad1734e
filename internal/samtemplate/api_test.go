package samtemplate_test

import (
	"slices"
	"strings"
	"testing"
)

// The API's one route, as the OpenAPI body names it; the invoke
// permission's source ARN ends with it.
const (
	resolvePath   = "/v1/resolve"
	resolveMethod = "post"
)

// Lambda integration URIs in SAM's own form for a function event, naming
// the alias (ProvisionedConcurrency above 0) or the function ($LATEST).
const (
	aliasIntegrationURI    = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ResolverFunction.Alias}/invocations"
	functionIntegrationURI = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ResolverFunction.Arn}/invocations"
)

// TestHttpApiRoute: POST /v1/resolve is written in the HttpApi's OpenAPI
// body, and its integration invokes the "live" alias only under
// HasProvisionedConcurrency, the function ($LATEST) otherwise. A function
// event would make SAM point it at the alias whatever the condition, and
// separate AWS::ApiGatewayV2::Route resources would be dropped by the next
// reimport of the body (aws/serverless-application-model#1971).
func TestHttpApiRoute(t *testing.T) {
	t.Parallel()
	root := rawTemplate(t)
	if ev := lookup(node(t, root, "Resources", "ResolverFunction", "Properties"), "Events"); ev != nil {
		t.Error("ResolverFunction has Events: SAM would point an HttpApi event at the alias even with ProvisionedConcurrency 0")
	}
	if fn := resolverFunction(t, loadTemplate(t, nil)); len(fn.Events) != 0 {
		t.Errorf("goformation sees %d function events, want none", len(fn.Events))
	}

	body := node(t, root, "Resources", "HttpApi", "Properties", "DefinitionBody")
	// No document-level security, CORS or other extension: SAM adds the
	// AWS_IAM scheme and security from Auth.
	assertKeys(t, body, "DefinitionBody", "openapi", "info", "paths")
	assertScalar(t, node(t, body, "openapi"), "DefinitionBody.openapi", "!!str", "3.0.1")
	assertScalar(t, node(t, body, "info", "title"), "DefinitionBody.info.title", "!Ref", "AWS::StackName")
	paths := node(t, body, "paths")
	assertKeys(t, paths, "DefinitionBody.paths", resolvePath)
	assertKeys(t, node(t, paths, resolvePath), resolvePath, resolveMethod)
	op := node(t, paths, resolvePath, resolveMethod)
	// No security of its own: SAM fills in the DefaultAuthorizer (AWS_IAM,
	// which TestSamTranslation reads in the translated body); a second
	// statement of it here could only disagree.
	assertKeys(t, op, "the resolve operation", "responses", "x-amazon-apigateway-integration")

	in := node(t, op, "x-amazon-apigateway-integration")
	assertKeys(t, in, "the resolve integration", "type", "httpMethod", "payloadFormatVersion", "uri")
	assertScalar(t, node(t, in, "type"), "integration type", "!!str", "aws_proxy")
	// Lambda is always invoked with POST, whatever the route's method.
	assertScalar(t, node(t, in, "httpMethod"), "integration httpMethod", "!!str", "POST")
	assertScalar(t, node(t, in, "payloadFormatVersion"), "integration payloadFormatVersion", "!!str", "2.0")
	alias, function := assertIf(t, node(t, in, "uri"), "integration uri", "HasProvisionedConcurrency")
	assertScalar(t, alias, "integration uri with provisioned concurrency", "!Sub", aliasIntegrationURI)
	assertScalar(t, function, "integration uri without", "!Sub", functionIntegrationURI)
}

// TestApiInvokePermission: API Gateway may invoke the target the route
// names (the alias or the function: a permission on one does not cover the
// other), and only from POST /v1/resolve of this API.
func TestApiInvokePermission(t *testing.T) {
	t.Parallel()
	res := node(t, rawTemplate(t), "Resources")
	var perms []string
	for i := 0; i+1 < len(res.Content); i += 2 {
		if ty := lookup(res.Content[i+1], "Type"); ty != nil && ty.Value == "AWS::Lambda::Permission" {
			perms = append(perms, res.Content[i].Value)
		}
	}
	if !slices.Equal(perms, []string{"ApiInvokePermission"}) {
		t.Fatalf("Lambda permissions %q, want only ApiInvokePermission", perms)
	}
	p := node(t, res, "ApiInvokePermission", "Properties")
	// Nothing but the source ARN says who may invoke (no SourceAccount,
	// PrincipalOrgID or FunctionUrlAuthType to reason about).
	assertKeys(t, p, "ApiInvokePermission", "Action", "FunctionName", "Principal", "SourceArn")
	assertScalar(t, node(t, p, "Action"), "ApiInvokePermission.Action", "!!str", "lambda:InvokeFunction")
	assertScalar(t, node(t, p, "Principal"), "ApiInvokePermission.Principal", "!!str", "apigateway.amazonaws.com")
	alias, function := assertIf(t, node(t, p, "FunctionName"), "ApiInvokePermission.FunctionName", "HasProvisionedConcurrency")
	assertScalar(t, alias, "ApiInvokePermission.FunctionName with provisioned concurrency", "!Ref", "ResolverFunction.Alias")
	assertScalar(t, function, "ApiInvokePermission.FunctionName without", "!Ref", "ResolverFunction")
	// Any stage (only $default exists), this API, this route only.
	route := strings.ToUpper(resolveMethod) + resolvePath
	assertScalar(t, node(t, p, "SourceArn"), "ApiInvokePermission.SourceArn", "!Sub",
		"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/"+route)
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
// checks what CloudFormation is handed: the route that SAM secures with
// IAM, with the target and the invoke permission that ProvisionedConcurrency
// chooses (CloudFormation evaluates the conditions, so both branches are
// read here), and no other route, integration or permission.
func TestSamTranslation(t *testing.T) {
	t.Parallel()
	res := jsonPath(t, translateTemplate(t), "Resources").(map[string]any)
	types := map[string][]string{}
	for name, r := range res {
		ty, _ := jsonPath(t, r, "Type").(string)
		types[ty] = append(types[ty], name)
	}
	for _, ty := range []string{"AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration"} {
		if len(types[ty]) != 0 {
			t.Errorf("%s %q: routes belong in the API's body, which a reimport would enforce", ty, types[ty])
		}
	}
	if perms := types["AWS::Lambda::Permission"]; !slices.Equal(perms, []string{"ApiInvokePermission"}) {
		t.Errorf("Lambda permissions %q, want only ApiInvokePermission", perms)
	}
	aliases := types["AWS::Lambda::Alias"]
	if len(aliases) != 1 {
		t.Fatalf("aliases %q, want the one AutoPublishAlias makes", aliases)
	}
	alias := aliases[0]
	if jsonPath(t, res[alias], "Properties", "Name") != "live" {
		t.Errorf("alias %s is not named live", alias)
	}

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

	perm := jsonPath(t, res["ApiInvokePermission"], "Properties")
	wantURI := func(target string) string {
		return "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${" + target + "}/invocations"
	}
	for _, c := range []struct {
		name              string
		provisioned       bool
		uriTarget, permTo string
	}{
		{"ProvisionedConcurrency 0", false, "ResolverFunction.Arn", "ResolverFunction"},
		{"ProvisionedConcurrency 5", true, alias, alias},
	} {
		uri := choose(t, jsonPath(t, in, "uri"), "HasProvisionedConcurrency", c.provisioned)
		if got, want := mustJSON(t, uri), mustJSON(t, map[string]any{"Fn::Sub": wantURI(c.uriTarget)}); got != want {
			t.Errorf("%s: integration uri %s, want %s", c.name, got, want)
		}
		fn := choose(t, jsonPath(t, perm, "FunctionName"), "HasProvisionedConcurrency", c.provisioned)
		if got, want := mustJSON(t, fn), mustJSON(t, map[string]any{"Ref": c.permTo}); got != want {
			t.Errorf("%s: permission FunctionName %s, want %s", c.name, got, want)
		}
	}
	if got, want := mustJSON(t, jsonPath(t, perm, "SourceArn")), mustJSON(t, map[string]any{
		"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/" + strings.ToUpper(resolveMethod) + resolvePath,
	}); got != want {
		t.Errorf("permission SourceArn %s, want %s", got, want)
	}

	// The one stage: $default, deployed on every change of the API, with
	// the stage-wide throttling and no per-route settings.
	stages := types["AWS::ApiGatewayV2::Stage"]
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
