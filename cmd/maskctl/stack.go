package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// stackURL returns the ApiUrl output of the named stack, read with
// CloudFormation's DescribeStacks. The SDK's client finds the endpoint as
// every SDK tool does (AWS_ENDPOINT_URL_CLOUDFORMATION, the shared
// config's services section, AWS_ENDPOINT_URL, then the region's endpoint
// in any partition) and retries what its standard retryer retries.
func (c *client) stackURL(ctx context.Context, stack string) (string, error) {
	cfg, err := c.config(ctx)
	if err != nil {
		return "", err
	}
	// Asked first, so that missing credentials or region are said plainly
	// rather than as a failed operation.
	if _, _, err := c.credentials(ctx); err != nil {
		return "", fmt.Errorf("--stack %s: %w", stack, err)
	}
	if cfg.Region == "" {
		return "", fmt.Errorf("--stack %s: no region: pass --region or set AWS_REGION", stack)
	}
	cfn := cloudformation.NewFromConfig(cfg, func(o *cloudformation.Options) { o.HTTPClient = c.http })
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", describeError(stack, err)
	}
	// DescribeStacks of a name answers one stack or ValidationError; an
	// empty list is said the same way should a service ever send one.
	if len(out.Stacks) == 0 {
		return "", fmt.Errorf("DescribeStacks %s: no such stack", stack)
	}
	s := out.Stacks[0]
	var keys []string
	for _, o := range s.Outputs {
		key := aws.ToString(o.OutputKey)
		if key == apiURLOutput {
			if v := aws.ToString(o.OutputValue); v != "" {
				return v, nil
			}
			break
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return "", fmt.Errorf("stack %s (%s) has no %s output%s", aws.ToString(s.StackName), s.StackStatus, apiURLOutput, listed(keys))
}

// describeError words a failed DescribeStacks as maskctl's other errors
// are: an answer from CloudFormation as its status, code and message (a
// stack that does not exist is a 400 ValidationError), and no answer as a
// *networkError, so that it exits as one.
func describeError(stack string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		status := ""
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			status = fmt.Sprintf("%d ", re.HTTPStatusCode())
		}
		return fmt.Errorf("DescribeStacks %s: %s%s: %s", stack, status, apiErr.ErrorCode(), oneLine(apiErr.ErrorMessage()))
	}
	var send *smithyhttp.RequestSendError
	var canceled *aws.RequestCanceledError
	if errors.As(err, &send) || errors.As(err, &canceled) || errors.Is(err, context.DeadlineExceeded) {
		ne := &networkError{method: "DescribeStacks", url: stack, err: err}
		// *url.Error says the method and URL the SDK chose; networkError
		// says them once.
		var ue *url.Error
		if errors.As(err, &ue) {
			ne.method, ne.err = strings.ToUpper(ue.Op), ue.Err
			if u, perr := url.Parse(ue.URL); perr == nil {
				ne.url = u.Redacted()
			}
		}
		return ne
	}
	return fmt.Errorf("DescribeStacks %s: %w", stack, err)
}

func listed(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return "; its outputs are " + strings.Join(keys, ", ")
}
