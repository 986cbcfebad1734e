// Command echo-bare is the smallest aws-lambda-go function: it answers with
// its event. It is the floor for the cold-start benchmark.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

type echo struct{}

func (echo) Invoke(_ context.Context, payload []byte) ([]byte, error) { return payload, nil }

func main() { lambda.Start(echo{}) }
