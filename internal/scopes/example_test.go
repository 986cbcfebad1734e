package scopes_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// A request naming a scope opens it for its caller, makes its credentials
// ready, and reads with them what the function's own role may not. Here
// STS and Secrets Manager are the smfake double.
func ExampleNew() {
	const role = "arn:aws:iam::210987654321:role/tenant-a"
	sm := smfake.New()
	if err := sm.AddRole(role, smfake.RequireExternalID("tenant-a-external-id")); err != nil {
		panic(err)
	}
	arn, err := sm.Put(smfake.Secret{
		ARN:     "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/api-Tn4nt1",
		String:  aws.String("tenant-a-key"),
		Readers: []string{role},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	own := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(srv.URL), // STS's and Secrets Manager's
	}

	ss, err := config.ParseScopes([]byte(`{"tenant-a": {
		"role_arn": "arn:aws:iam::210987654321:role/tenant-a",
		"external_id": "tenant-a-external-id",
		"callers": ["arn:aws:iam::123456789012:role/ci"],
		"secrets": ["arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/*"]}}`), "SCOPES")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	reg, err := scopes.New(ctx, sts.NewFromConfig(own),
		scopes.WithScopes(ss), scopes.WithFunctionName("maskresolver-prod"))
	if err != nil {
		panic(err)
	}

	// Unknown and closed scopes look the same.
	_, unknown := reg.Open(ctx, "tenant-z", "arn:aws:iam::123456789012:role/ci", false)
	_, closed := reg.Open(ctx, "tenant-a", "arn:aws:iam::123456789012:role/other", false)
	fmt.Println("unknown:", unknown, "closed:", closed)

	h, ok := reg.Open(ctx, "tenant-a", "arn:aws:iam::123456789012:role/ci", false)
	if !ok {
		panic("not opened")
	}
	var calls scopes.CallCount
	rctx := scopes.CountCalls(ctx, &calls)
	if !h.Allows(arn) {
		panic("not allowed")
	}
	if err := h.Ready(rctx); err != nil {
		panic(err)
	}
	scoped := own
	scoped.Credentials = h.Credentials()
	out, err := secretsmanager.NewFromConfig(scoped).GetSecretValue(rctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Name(), aws.ToString(out.SecretString))
	fmt.Println("AssumeRole calls:", calls.Load(), "session:", sm.AssumeRoleCalls()[0].RoleSessionName)
	// Output:
	// unknown: false closed: false
	// tenant-a tenant-a-key
	// AssumeRole calls: 1 session: maskresolver-prod@tenant-a
}
