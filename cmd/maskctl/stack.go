package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	// cloudFormationService is the SigV4 service name of CloudFormation.
	cloudFormationService = "cloudformation"
	// cloudFormationSDKID names CloudFormation in configured endpoints:
	// AWS_ENDPOINT_URL_CLOUDFORMATION, or endpoint_url in a [services]
	// section's cloudformation block of the shared config.
	cloudFormationSDKID = "CloudFormation"
	// cloudFormationVersion is the Query API version of DescribeStacks.
	cloudFormationVersion = "2010-05-15"
)

// stackURL returns the ApiUrl output of the named stack. It calls
// CloudFormation's Query API directly rather than through the SDK's
// CloudFormation client, which would be one more module for one call.
func (c *client) stackURL(ctx context.Context, stack string) (string, error) {
	cfg, err := c.config(ctx)
	if err != nil {
		return "", err
	}
	creds, region, err := c.credentials(ctx)
	if err != nil {
		return "", fmt.Errorf("--stack %s: %w", stack, err)
	}
	if region == "" {
		return "", fmt.Errorf("--stack %s: no region: pass --region or set AWS_REGION", stack)
	}
	endpoint := cloudFormationEndpoint(ctx, cfg)
	return describeStackOutput(ctx, c, endpoint, creds, region, stack, apiURLOutput)
}

// cloudFormationEndpoint is where CloudFormation requests go, chosen as
// the SDK would: a configured service endpoint
// (AWS_ENDPOINT_URL_CLOUDFORMATION or the shared config's services
// section), then the global AWS_ENDPOINT_URL / endpoint_url, unless
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set; otherwise the regional
// endpoint.
func cloudFormationEndpoint(ctx context.Context, cfg aws.Config) string {
	type serviceEndpoint interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	type ignoreEndpoints interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	ignore := false
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(ignoreEndpoints); ok {
			if v, found, err := p.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				ignore = v
				break
			}
		}
	}
	if !ignore {
		for _, src := range cfg.ConfigSources {
			if p, ok := src.(serviceEndpoint); ok {
				if v, found, err := p.GetServiceBaseEndpoint(ctx, cloudFormationSDKID); err == nil && found {
					return v
				}
			}
		}
	}
	// LoadDefaultConfig leaves BaseEndpoint nil when configured endpoints
	// are ignored.
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://cloudformation." + cfg.Region + "." + suffix + "/"
}

// describeStacksResponse is the part of DescribeStacks' XML answer that
// maskctl reads.
type describeStacksResponse struct {
	Stacks []struct {
		StackName   string `xml:"StackName"`
		StackStatus string `xml:"StackStatus"`
		Outputs     []struct {
			OutputKey   string `xml:"OutputKey"`
			OutputValue string `xml:"OutputValue"`
		} `xml:"Outputs>member"`
	} `xml:"DescribeStacksResult>Stacks>member"`
}

// queryErrorResponse is the Query API's error document.
type queryErrorResponse struct {
	Code    string `xml:"Error>Code"`
	Message string `xml:"Error>Message"`
}

// describeStackOutput calls DescribeStacks for stack at endpoint, signed
// with creds for CloudFormation in region, and returns the value of the
// output named key. An answer that never came is a *networkError.
func describeStackOutput(ctx context.Context, c *client, endpoint string, creds aws.Credentials, region, stack, key string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("CloudFormation endpoint %q: want an http(s) URL", endpoint)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	form := url.Values{
		"Action":    {"DescribeStacks"},
		"StackName": {stack},
		"Version":   {cloudFormationVersion},
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("DescribeStacks: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "maskctl")
	if err := signRequest(ctx, req, body, creds, cloudFormationService, region, c.now()); err != nil {
		return "", err
	}
	status, raw, err := c.do(req, u)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		var qe queryErrorResponse
		if xml.Unmarshal(raw, &qe) == nil && qe.Code != "" {
			return "", fmt.Errorf("DescribeStacks %s: %d %s: %s", stack, status, qe.Code, oneLine(qe.Message))
		}
		return "", fmt.Errorf("DescribeStacks %s: %d %s", stack, status, http.StatusText(status))
	}
	var resp describeStacksResponse
	if err := xml.Unmarshal(raw, &resp); err != nil {
		return "", fmt.Errorf("DescribeStacks %s: read the answer: %w", stack, err)
	}
	if len(resp.Stacks) == 0 {
		return "", fmt.Errorf("DescribeStacks %s: no such stack", stack)
	}
	s := resp.Stacks[0]
	var keys []string
	for _, o := range s.Outputs {
		if o.OutputKey == key {
			if o.OutputValue == "" {
				break
			}
			return o.OutputValue, nil
		}
		keys = append(keys, o.OutputKey)
	}
	sort.Strings(keys)
	return "", fmt.Errorf("stack %s (%s) has no %s output%s", s.StackName, s.StackStatus, key, listed(keys))
}

func listed(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return "; its outputs are " + strings.Join(keys, ", ")
}
