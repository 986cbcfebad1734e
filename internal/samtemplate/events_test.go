package samtemplate_test

import (
	"encoding/base64"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestEvents decodes every sample event with aws-lambda-go's types, refusing
// unknown fields, so a misspelt field fails here rather than in sam local.
func TestEvents(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, want := range []string{
		"http-resolve.json", "http-dry-run.json", "http-base64.json", "http-failing.json",
		"http-not-found.json", "rest-resolve.json", "direct.json", "env.json",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("events/%s missing", want)
		}
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join(eventsDir, name))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(name, "http-"):
				var ev events.APIGatewayV2HTTPRequest
				strictDecode(t, b, &ev)
				checkHTTPEvent(t, name, ev)
			case strings.HasPrefix(name, "rest-"):
				var ev events.APIGatewayProxyRequest
				strictDecode(t, b, &ev)
				if ev.HTTPMethod != "POST" || ev.Path != "/v1/resolve" || ev.Resource != "/v1/resolve" {
					t.Errorf("REST event %s %s (resource %s), want POST /v1/resolve", ev.HTTPMethod, ev.Path, ev.Resource)
				}
				if ev.RequestContext.Identity.UserArn == "" {
					t.Error("REST event has no requestContext.identity.userArn")
				}
				checkRequest(t, []byte(ev.Body), 2)
			case name == "direct.json":
				checkRequest(t, b, 1)
			case name == "env.json":
				checkEnvFile(t, b)
			case name == "secrets.json":
				var v map[string]any
				strictDecode(t, b, &v)
			default:
				t.Errorf("unknown kind of event %s: name it http-*, rest-*, direct.json or env.json", name)
			}
		})
	}
}

func checkHTTPEvent(t *testing.T, name string, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	rc := ev.RequestContext
	if ev.Version != "2.0" {
		t.Errorf("version %q, want 2.0", ev.Version)
	}
	if rc.HTTP.Path != ev.RawPath || rc.RouteKey != ev.RouteKey || ev.RouteKey != rc.HTTP.Method+" "+ev.RawPath {
		t.Errorf("routeKey %q / %q disagrees with %s %s", ev.RouteKey, rc.RouteKey, rc.HTTP.Method, ev.RawPath)
	}
	if rc.Stage != "$default" {
		t.Errorf("stage %q, want $default", rc.Stage)
	}
	if rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN != "arn:aws:sts::137149879143:assumed-role/workato-connector/workato-backend" {
		t.Error("requestContext.authorizer.iam.userArn is not the workato-connector role")
	}
	if name == "http-not-found.json" {
		if ev.RouteKey != "GET /v1/other" || ev.Body != "" {
			t.Errorf("not-found event is %q with body %q, want GET /v1/other without a body", ev.RouteKey, ev.Body)
		}
		return
	}
	if ev.RouteKey != "POST /v1/resolve" {
		t.Errorf("routeKey %q, want POST /v1/resolve", ev.RouteKey)
	}
	if ev.Headers["content-type"] != "application/json" {
		t.Errorf("content-type %q", ev.Headers["content-type"])
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatalf("isBase64Encoded but body is not base64: %v", err)
		}
	} else if name == "http-base64.json" {
		t.Error("http-base64.json is not isBase64Encoded")
	}
	if cl := ev.Headers["content-length"]; cl != "" && cl != strconv.Itoa(len(body)) {
		t.Errorf("content-length %s, body is %d bytes", cl, len(body))
	}
	want := map[string]int{"http-resolve.json": 2, "http-dry-run.json": 2, "http-base64.json": 2, "http-failing.json": 3, "http-refresh.json": 2}
	req := checkRequest(t, body, want[name])
	if dry := req["dry_run"] == true; dry != (name == "http-dry-run.json") {
		t.Errorf("dry_run = %v", req["dry_run"])
	}
}

// checkRequest checks a request body: a JSON object with connection, only
// known fields, and the given number of masks.
func checkRequest(t *testing.T, body []byte, masks int) map[string]any {
	t.Helper()
	var req map[string]any
	strictDecode(t, body, &req)
	if _, ok := req["connection"]; !ok {
		t.Error("request has no connection")
	}
	for k, v := range req {
		switch k {
		case "connection", "dry_run":
		case "max_age": // seconds, a non-negative integer (docs/api.md)
			if n, ok := v.(float64); !ok || n < 0 || n != math.Trunc(n) {
				t.Errorf("max_age = %v, want a non-negative integer", v)
			}
		default:
			t.Errorf("request has unknown field %q", k)
		}
	}
	if n := strings.Count(string(body), "{{workato:sm:"); masks != 0 && n != masks {
		t.Errorf("request has %d masks, want %d", n, masks)
	}
	return req
}

// checkEnvFile checks the --env-vars file: sam local only overrides
// variables the template declares, so any other name would be silently lost.
func checkEnvFile(t *testing.T, b []byte) {
	t.Helper()
	var env map[string]map[string]string
	strictDecode(t, b, &env)
	vars, ok := env["ResolverFunction"]
	if !ok {
		t.Fatal("env.json has no ResolverFunction")
	}
	for k := range env {
		if k != "ResolverFunction" && k != "Parameters" {
			t.Errorf("env.json names %q, not a function of the template", k)
		}
	}
	for k := range vars {
		if !slices.Contains(wantEnv, k) {
			t.Errorf("env.json sets %s, which the template does not declare (sam local would drop it)", k)
		}
	}
	if len(vars) == 0 {
		t.Error("env.json sets nothing")
	}
}
