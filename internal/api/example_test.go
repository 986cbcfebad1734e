package api_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// memoryStore is a resolve.Store over SecretStrings held in memory, by
// ARN; the function reads Secrets Manager through internal/secrets.
type memoryStore map[string]string

func (m memoryStore) Get(_ context.Context, arns []string, _ secrets.Freshness) ([]secrets.Result, secrets.Stats) {
	out := make([]secrets.Result, len(arns))
	for i, arn := range arns {
		if s, ok := m[arn]; ok {
			out[i].Secret = secrets.NewSecret(arn, s)
		} else {
			out[i].Err = &secrets.Error{Code: answer.SecretNotFound, ARN: arn}
		}
	}
	return out, secrets.Stats{}
}

// The handler takes a Lambda event as bytes: here an API Gateway HTTP API
// event (payload 2.0) whose caller signed with IAM. It routes it, checks
// the caller's access to each secret, resolves the body and answers with
// the proxy response object API Gateway turns into the HTTP response. A
// direct invocation's event is the request body itself, and its answer the
// bare body.
func ExampleHandler_Invoke() {
	const jira = "arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf"
	r := resolve.New(memoryStore{jira: `{"token":"t0k3n"}`})
	h := api.New(r, api.WithCallerRules(func(caller, secretARN string) bool {
		return strings.HasSuffix(caller, ":role/workato-connector") && strings.Contains(secretARN, ":secret:jira-")
	}))

	event := `{"version":"2.0","routeKey":"POST /v1/resolve","rawPath":"/v1/resolve",
	  "body":"{\"connection\":{\"token\":\"{{workato:sm:token:` + jira + `}}\"}}",
	  "isBase64Encoded":false,
	  "requestContext":{"http":{"method":"POST","path":"/v1/resolve"},
	    "authorizer":{"iam":{"userArn":"arn:aws:iam::137149879143:role/workato-connector"}}}}`
	out, _ := h.Invoke(context.Background(), []byte(event))
	fmt.Println(string(out))

	// A direct invocation has no caller, and this access rule lets no
	// caller-less request read the secret.
	out, _ = h.Invoke(context.Background(), []byte(`{"connection":{"token":"{{workato:sm:token:`+jira+`}}"}}`))
	fmt.Println(string(out))
	// Output:
	// {"statusCode":200,"headers":{"Content-Type":"application/json","Cache-Control":"no-store"},"body":"{\"connection\":{\"token\":\"t0k3n\"},\"masks\":[{\"path\":\"/connection/token\",\"key\":\"token\",\"secret_arn\":\"arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf\",\"status\":\"resolved\"}]}"}
	// {"error":{"code":"MaskResolutionFailed","message":"1 of 1 masks failed; no value was returned","masks":[{"path":"/connection/token","key":"token","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf","code":"SecretNotAllowed","message":"the secret is outside the secrets this caller may resolve (SECRET_ARN_ALLOWLIST, CALLER_RULES)"}]}}
}
