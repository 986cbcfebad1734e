package resolve_test

import (
	"context"
	"fmt"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// memoryStore is a resolve.Store over SecretStrings held in memory, by
// ARN; the function's store (internal/secrets) reads Secrets Manager and
// caches what it read.
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
	return out, secrets.Stats{Misses: len(arns)}
}

// A request names secrets with masks inside the strings of "connection";
// Resolve reads each secret once and the answer is the connection with
// every mask replaced by its value, and the list of masks it resolved. A
// mask that fails fails the whole request: the answer then lists the
// failing masks and holds no value at all.
func Example() {
	const jira = "arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf"
	store := memoryStore{jira: `{"user":"svc-jira","token":"t0k3n"}`}
	r := resolve.New(store, resolve.WithMaxMasks(100))

	body := []byte(`{"connection":{"host":"jira.example.com",` +
		`"auth":"{{workato:sm:user:` + jira + `}}:{{workato:sm:token:` + jira + `}}"}}`)
	res, err := r.Resolve(context.Background(), body, resolve.Params{})
	if err != nil {
		panic(err) // a *resolve.RequestError: the request as a whole was refused
	}
	fmt.Printf("%d masks, %d secret read, %d failed\n", len(res.Masks), res.Unique, res.Failed)
	fmt.Println(string(res.AppendJSON(nil)))

	body = []byte(`{"connection":{"auth":"{{workato:sm:password:` + jira + `}}"}}`)
	res, _ = r.Resolve(context.Background(), body, resolve.Params{})
	fmt.Println(string(res.AppendJSON(nil)))
	// Output:
	// 2 masks, 1 secret read, 0 failed
	// {"connection":{"host":"jira.example.com","auth":"svc-jira:t0k3n"},"masks":[{"path":"/connection/auth","key":"user","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf","status":"resolved"},{"path":"/connection/auth","key":"token","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf","status":"resolved"}]}
	// {"error":{"code":"MaskResolutionFailed","message":"1 of 1 masks failed; no value was returned","masks":[{"path":"/connection/auth","key":"password","secret_arn":"arn:aws:secretsmanager:us-east-1:137149879143:secret:jira-AbCdEf","code":"KeyNotFound","message":"the secret has no key \"password\""}]}}
}
