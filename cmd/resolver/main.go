// Command resolver is the maskresolver Lambda function. Built as
// `bootstrap` for the provided.al2023 runtime, it reads its configuration,
// builds the handler once per execution environment and serves invocations.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/maskresolver/maskresolver/internal/app"
)

func main() {
	h, err := app.New(context.Background(), os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "maskresolver: cold start failed:", err)
		os.Exit(1)
	}
	lambda.Start(h)
}
