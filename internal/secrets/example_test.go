package secrets_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

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
