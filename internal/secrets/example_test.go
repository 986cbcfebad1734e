package secrets_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// A Store reads each secret once and serves it from memory until its TTL
// passes; a secret Secrets Manager says does not exist is remembered
// briefly too. Here its clients talk to the smfake double instead of AWS.
func ExampleNew() {
	sm := smfake.New()
	arn, err := sm.Put(smfake.Secret{
		ARN:    "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs",
		String: aws.String(`{"prod.jira.secret.key":"s3cr3t","db":{"port":5432}}`),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()

	store, err := secrets.New(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(srv.URL),
	}, secrets.WithTTL(time.Minute))
	if err != nil {
		panic(err)
	}

	missing := "arn:aws:secretsmanager:us-east-1:137149879143:secret:gone"
	for range 2 {
		results, stats := store.Get(context.Background(), []string{arn, missing}, secrets.Freshness{})
		key, _ := results[0].Secret.Lookup("prod.jira.secret.key")
		port, _ := results[0].Secret.Lookup("db.port")
		fmt.Println(key, port, results[1].Err.Code, results[1].Err.Message())
		fmt.Printf("hits %d, misses %d, calls %d\n", stats.Hits, stats.Misses, stats.Calls)
	}
	fmt.Println("reads of the secret:", sm.SecretReads(arn))
	// Output:
	// s3cr3t 5432 SecretNotFound secret not found (or marked for deletion)
	// hits 0, misses 2, calls 1
	// s3cr3t 5432 SecretNotFound secret not found (or marked for deletion)
	// hits 2, misses 0, calls 0
	// reads of the secret: 1
}

// A partition reads with its own credentials, here a tenant's role assumed
// with STS, and keeps what it reads apart: the function's own partition
// does not get the tenant's value from memory, and Secrets Manager refuses
// it the secret.
func ExampleStore_Partition() {
	const role = "arn:aws:iam::210987654321:role/tenant-a"
	sm := smfake.New()
	if err := sm.AddRole(role); err != nil {
		panic(err)
	}
	arn, err := sm.Put(smfake.Secret{
		ARN:     "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/api-Tn4nt1",
		String:  aws.String(`{"key":"tenant-a-key"}`),
		Readers: []string{role},
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sm)
	defer srv.Close()

	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		BaseEndpoint: aws.String(srv.URL), // STS's and Secrets Manager's
	}
	store, err := secrets.New(cfg)
	if err != nil {
		panic(err)
	}
	tenant := store.Partition("tenant-a#5f1c", aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(
		sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "maskresolver-tenant-a" })))

	ctx := context.Background()
	results, _ := tenant.Get(ctx, []string{arn}, secrets.Freshness{})
	key, _ := results[0].Secret.Lookup("key")
	fmt.Println("tenant:", key)
	results, stats := store.Get(ctx, []string{arn}, secrets.Freshness{})
	fmt.Println("own:", results[0].Err.Code, "calls", stats.Calls)
	// Output:
	// tenant: tenant-a-key
	// own: AccessDenied calls 1
}
