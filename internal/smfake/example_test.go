package smfake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
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
