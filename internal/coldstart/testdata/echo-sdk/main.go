// Command echo-sdk initialises what the resolver needs at init — the SDK
// configuration, a Secrets Manager client and X-Ray instrumentation — and
// only echoes its event. It is the baseline of the cold-start benchmark.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
)

type echo struct{ client *secretsmanager.Client }

func (echo) Invoke(_ context.Context, payload []byte) ([]byte, error) { return payload, nil }

func main() {
	if err := xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	lambda.Start(echo{client: secretsmanager.NewFromConfig(cfg)})
}
