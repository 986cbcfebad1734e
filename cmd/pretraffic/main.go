// Command pretraffic is the pre-traffic hook of maskresolver's deploys
// (template.yaml's PreTrafficHookFunction, present when the
// PreTrafficConnection parameter is set). CodeDeploy invokes it after a new
// version of the resolver is published and before any traffic shifts to
// it; it sends that version a dry run of the connection and reports
// Succeeded or Failed for the deploy. Built as `bootstrap` for
// provided.al2023, like the resolver. docs/deploying.md describes its use.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

func main() {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pretraffic: load AWS configuration:", err)
		os.Exit(1)
	}
	h := newHook(awslambda.NewFromConfig(cfg), codedeploy.NewFromConfig(cfg), os.LookupEnv,
		slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	lambda.Start(h.handle)
}
