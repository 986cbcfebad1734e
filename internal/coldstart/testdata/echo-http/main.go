// Command echo-http is the baseline of the warm benchmark: it initialises
// the same libraries as the resolver (SDK configuration, a Secrets Manager
// client, X-Ray instrumentation), and for each API Gateway HTTP API event
// decodes the event and its JSON body, then encodes the body back into an
// HTTP API response — the least a function that rewrites a JSON payload
// behind API Gateway does with encoding/json.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/xray"
)

type echo struct{ client *secretsmanager.Client }

func (echo) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	var body any
	if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
		return nil, err
	}
	out, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(out),
	})
}

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
