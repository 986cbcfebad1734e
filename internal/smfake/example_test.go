package smfake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// A test serves the double with httptest and points a real client at it
// through BaseEndpoint (or AWS_ENDPOINT_URL_SECRETS_MANAGER for code that
// builds its own client).
func Example() {
	sm := smfake.New()
	arn, err := sm.Put(smfake.Secret{
		ARN:    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123",
		String: aws.String(`{"password":"hunter2"}`),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()

	client := secretsmanager.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	}, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})

	out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String("prod/db"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(aws.ToString(out.ARN) == arn, aws.ToString(out.SecretString))
	fmt.Println("reads:", sm.SecretReads(arn))
	// Output:
	// true {"password":"hunter2"}
	// reads: 1
}

// Plain names in requests resolve in the default account, here one chosen
// with WithAccount.
func ExampleWithAccount() {
	sm := smfake.New(smfake.WithAccount("137149879143"))
	if _, err := sm.Put(smfake.Secret{
		ARN:    "arn:aws:secretsmanager:us-east-1:137149879143:secret:api-key",
		String: aws.String("k"),
	}); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	out, err := client.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{
		SecretId: aws.String("api-key"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(aws.ToString(out.Name))
	// Output: api-key
}

// In a partition other than "aws", plain names resolve only once
// WithPartition names it. A secret stored from a partial ARN gets a suffix
// derived from its name.
func ExampleWithPartition() {
	sm := smfake.New(smfake.WithPartition("aws-cn"))
	arn, err := sm.Put(smfake.Secret{
		ARN:    "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db",
		String: aws.String("v"),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:      "cn-north-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String("db"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(aws.ToString(out.ARN) == arn, len(arn)-len("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-"))
	// Output: true 6
}

// Quotas meter every client of the server together, as AWS meters an
// account. Here a full bucket holds two reads and refills at one a second,
// so the third read in a row is throttled: GetSecretValue and
// DescribeSecret draw on the same budget.
func ExampleWithQuotas() {
	sm := smfake.New(smfake.WithQuotas(smfake.Quotas{Read: 1, Burst: 2 * time.Second}))
	if _, err := sm.Put(smfake.Secret{
		ARN:    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123",
		String: aws.String("v"),
	}); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1, // show the throttle rather than wait it out
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	ctx := context.Background()
	id := aws.String("prod/db")
	_, err1 := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id})
	_, err2 := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: id})
	_, err3 := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id})
	fmt.Println(err1 == nil, err2 == nil)
	var api smithy.APIError
	if errors.As(err3, &api) {
		fmt.Println(api.ErrorCode()+":", api.ErrorMessage())
	}
	fmt.Println("calls:", sm.Calls(""), "throttled:", sm.Throttled(""))
	// Output:
	// true true
	// ThrottlingException: Rate exceeded
	// calls: 3 throttled: 1
}

// The same server answers STS: a client reads a tenant's secret with the
// credentials of the tenant's role, assumed with its external id through
// the SDK's own provider, while its own credentials are refused.
func ExampleServer_AddRole() {
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
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint:     aws.String(srv.URL), // STS's and Secrets Manager's
		RetryMaxAttempts: 1,
	}
	tenant := own
	tenant.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(own), role,
		func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "maskresolver-tenant-a"
			o.ExternalID = aws.String("tenant-a-external-id")
		}))

	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}
	out, err := secretsmanager.NewFromConfig(tenant).GetSecretValue(context.Background(), in)
	if err != nil {
		panic(err)
	}
	fmt.Println("tenant role:", aws.ToString(out.SecretString))
	_, err = secretsmanager.NewFromConfig(own).GetSecretValue(context.Background(), in)
	var api smithy.APIError
	if errors.As(err, &api) {
		fmt.Println("own role:", api.ErrorCode())
	}
	calls := sm.AssumeRoleCalls()
	fmt.Println("AssumeRole calls:", len(calls), calls[0].RoleSessionName, calls[0].ExternalID)
	fmt.Println("reads by the role:", sm.SecretReadsBy(role, arn), "by the default principal:", sm.SecretReadsBy(smfake.DefaultPrincipal, arn))
	// Output:
	// tenant role: tenant-a-key
	// own role: AccessDeniedException
	// AssumeRole calls: 1 maskresolver-tenant-a true
	// reads by the role: 1 by the default principal: 1
}
