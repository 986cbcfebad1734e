package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// describeStacksXML is a DescribeStacks answer for a deployed
// template.yaml, as CloudFormation writes it; %API_URL% is the ApiUrl.
const describeStacksXML = `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <Outputs>
          <member>
            <Description>ARN of the resolver function (for direct invocation).</Description>
            <OutputKey>ResolverFunctionArn</OutputKey>
            <OutputValue>arn:aws:lambda:us-east-1:137149879143:function:maskresolver-ResolverFunction-Xq3bT9vLw2Zk</OutputValue>
          </member>
          <member>
            <Description>Resolve endpoint (POST, SigV4-signed for service execute-api).</Description>
            <OutputKey>ApiUrl</OutputKey>
            <OutputValue>%API_URL%</OutputValue>
          </member>
          <member>
            <Description>ARN of the function's execution role, to name in secret resource policies and KMS key policies.</Description>
            <OutputKey>ResolverFunctionRoleArn</OutputKey>
            <OutputValue>arn:aws:iam::137149879143:role/maskresolver-ResolverFunctionRole-1A2b3C4d5E6f</OutputValue>
          </member>
        </Outputs>
        <Capabilities>
          <member>CAPABILITY_IAM</member>
          <member>CAPABILITY_AUTO_EXPAND</member>
        </Capabilities>
        <StackId>arn:aws:cloudformation:us-east-1:137149879143:stack/maskresolver/8f2e6a10-1d3c-11f0-9a7b-0e4c5d6f7a81</StackId>
        <ChangeSetId>arn:aws:cloudformation:us-east-1:137149879143:changeSet/samcli-deploy1742000000/5b1c0f7e-2a4d-4e8f-9c3b-7d6e5f4a3b2c</ChangeSetId>
        <Parameters>
          <member>
            <ParameterKey>CacheTtl</ParameterKey>
            <ParameterValue>5m</ParameterValue>
          </member>
          <member>
            <ParameterKey>SecretArnAllowlist</ParameterKey>
            <ParameterValue></ParameterValue>
          </member>
        </Parameters>
        <Tags>
          <member>
            <Value>SAM</Value>
            <Key>created-by</Key>
          </member>
        </Tags>
        <EnableTerminationProtection>false</EnableTerminationProtection>
        <CreationTime>2026-03-01T10:12:44.512Z</CreationTime>
        <LastUpdatedTime>2026-03-10T08:41:03.077Z</LastUpdatedTime>
        <StackName>maskresolver</StackName>
        <NotificationARNs/>
        <StackStatus>UPDATE_COMPLETE</StackStatus>
        <DisableRollback>false</DisableRollback>
        <RollbackConfiguration/>
        <DriftInformation>
          <StackDriftStatus>NOT_CHECKED</StackDriftStatus>
        </DriftInformation>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata>
    <RequestId>b9b4aa3f-1a2b-4c3d-8e9f-0a1b2c3d4e5f</RequestId>
  </ResponseMetadata>
</DescribeStacksResponse>
`

const stackMissingXML = `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <Error>
    <Type>Sender</Type>
    <Code>ValidationError</Code>
    <Message>Stack with id nope does not exist</Message>
  </Error>
  <RequestId>4af3c0b2-9d8e-4f7a-a6b5-c4d3e2f1a0b9</RequestId>
</ErrorResponse>
`

const deployedURL = "https://k3x9q2w7ab.execute-api.us-east-1.amazonaws.com/v1/resolve"

// cloudFormation is a test double of the CloudFormation Query API, which
// the SDK's client speaks (a form-encoded POST, an XML answer): it
// answers DescribeStacks for the stack "maskresolver" with
// describeStacksXML and reports every request it receives.
func cloudFormation(t *testing.T, apiURL string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Clone(context.Background()), b}
		form, _ := url.ParseQuery(string(b))
		w.Header().Set("Content-Type", "text/xml")
		if r.Method != http.MethodPost || form.Get("Action") != "DescribeStacks" || form.Get("Version") != "2010-05-15" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, strings.Replace(stackMissingXML, "Stack with id nope does not exist", "bad request", 1))
			return
		}
		switch form.Get("StackName") {
		case "maskresolver":
			io.WriteString(w, strings.Replace(describeStacksXML, "%API_URL%", apiURL, 1))
		case "no-api":
			io.WriteString(w, strings.Replace(describeStacksXML, "<OutputKey>ApiUrl</OutputKey>", "<OutputKey>Other</OutputKey>", 1))
		default:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, stackMissingXML)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestStackURL(t *testing.T) {
	t.Parallel()
	cfn, got := cloudFormation(t, deployedURL)
	c := &client{
		http: &http.Client{},
		now:  func() time.Time { return signingTime },
		loadConfig: func(context.Context) (aws.Config, error) {
			return aws.Config{Region: "us-east-1", Credentials: sessionCreds, BaseEndpoint: aws.String(cfn.URL), RetryMaxAttempts: 1}, nil
		},
	}
	u, err := c.stackURL(context.Background(), "maskresolver")
	if err != nil {
		t.Fatal(err)
	}
	if u != deployedURL {
		t.Errorf("ApiUrl %q, want %q", u, deployedURL)
	}
	rec := <-got
	sig, err := verifySigV4(rec, retrieve(t, sessionCreds))
	if err != nil {
		t.Fatal(err)
	}
	if sig.service != "cloudformation" || sig.region != "us-east-1" || sig.akid != testAKID {
		t.Errorf("signed for %+v", sig)
	}
	if ct := rec.req.Header.Get("Content-Type"); rec.req.URL.Path != "/" || !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.Errorf("%s %s, Content-Type %q", rec.req.Method, rec.req.URL, ct)
	}
	if form, err := url.ParseQuery(string(rec.body)); err != nil || form.Encode() != "Action=DescribeStacks&StackName=maskresolver&Version=2010-05-15" {
		t.Errorf("body %s, want DescribeStacks of maskresolver (%v)", rec.body, err)
	}

	for stack, want := range map[string]string{
		"nope":   "DescribeStacks nope: 400 ValidationError: Stack with id nope does not exist",
		"no-api": "stack maskresolver (UPDATE_COMPLETE) has no ApiUrl output; its outputs are Other, ResolverFunctionArn, ResolverFunctionRoleArn",
	} {
		if _, err := c.stackURL(context.Background(), stack); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v, want %q", stack, err, want)
		}
	}
}

// TestStackEndpoints proves that DescribeStacks goes where the SDK sends
// it in every partition, not only aws and aws-cn: the regional endpoint,
// over HTTPS, as the Host a test server sees.
func TestStackEndpoints(t *testing.T) {
	t.Parallel()
	got := make(chan string, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Host
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, strings.Replace(describeStacksXML, "%API_URL%", deployedURL, 1))
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.TLSClientConfig.InsecureSkipVerify = true // the certificate is the test server's, not the endpoint's
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	for region, host := range map[string]string{
		"eu-central-1":   "cloudformation.eu-central-1.amazonaws.com",
		"cn-northwest-1": "cloudformation.cn-northwest-1.amazonaws.com.cn",
		"us-gov-west-1":  "cloudformation.us-gov-west-1.amazonaws.com",
		"us-iso-east-1":  "cloudformation.us-iso-east-1.c2s.ic.gov",
		"eu-isoe-west-1": "cloudformation.eu-isoe-west-1.cloud.adc-e.uk",
	} {
		c := &client{
			http: &http.Client{Transport: transport},
			loadConfig: func(context.Context) (aws.Config, error) {
				return aws.Config{Region: region, Credentials: staticCreds, RetryMaxAttempts: 1}, nil
			},
		}
		if u, err := c.stackURL(context.Background(), "maskresolver"); err != nil || u != deployedURL {
			t.Errorf("%s: %q, %v", region, u, err)
			continue
		}
		if h := <-got; h != host {
			t.Errorf("%s: DescribeStacks sent to %s, want %s", region, h, host)
		}
	}
}

// TestStackFromEnvironment runs maskctl --stack as a user would, with the
// real default configuration read from the environment, including
// AWS_ENDPOINT_URL_CLOUDFORMATION. Like every test that calls setAWSEnv,
// it cannot run in parallel.
func TestStackFromEnvironment(t *testing.T) {
	api, gotAPI := apiServer(t, http.StatusOK, `{"connection":{"client_secret":"`+secretValue+`"},"masks":[]}`)
	cfn, gotCFN := cloudFormation(t, api.URL+"/v1/resolve")
	setAWSEnv(t, map[string]string{
		"AWS_ACCESS_KEY_ID":               testAKID,
		"AWS_SECRET_ACCESS_KEY":           testSecret,
		"AWS_SESSION_TOKEN":               testToken,
		"AWS_REGION":                      "us-east-1",
		"AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.URL,
		"AWS_EC2_METADATA_DISABLED":       "true",
	})
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"--stack", "maskresolver"}, strings.NewReader(`{"a":"`+seedMask+`"}`), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}
	if sig, err := verifySigV4(<-gotCFN, creds); err != nil || sig.service != "cloudformation" {
		t.Errorf("DescribeStacks signed for %+v: %v", sig, err)
	}
	// The local ApiUrl is no execute-api host: the configured region.
	if sig, err := verifySigV4(<-gotAPI, creds); err != nil || sig.service != "execute-api" || sig.region != "us-east-1" {
		t.Errorf("resolve signed for %+v: %v", sig, err)
	}
	if !strings.Contains(stdout.String(), secretValue) || stderr.String() != "" {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}

	stdout.Reset()
	code = run(context.Background(), []string{"--stack", "nope"}, strings.NewReader(`{}`), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "ValidationError: Stack with id nope does not exist") || stdout.String() != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	<-gotCFN
	if len(gotAPI) != 0 {
		t.Error("the resolve API was called without a URL")
	}
}

func TestStackNetworkError(t *testing.T) {
	t.Parallel()
	c := testCLI(staticCreds, "us-east-1", nil)
	load := c.loadConfig
	refused := refusedURL(t)
	c.loadConfig = func(ctx context.Context, r, p string) (aws.Config, error) {
		cfg, err := load(ctx, r, p)
		// One attempt: the SDK's retries of a refused connection would
		// only add their backoff to the test.
		cfg.BaseEndpoint, cfg.RetryMaxAttempts = aws.String(refused), 1
		return cfg, err
	}
	res := c.runTest(t, `{}`, "--stack", "maskresolver")
	if res.code != exitNetwork || !strings.Contains(res.stderr, "connection refused") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	// No region: CloudFormation cannot be asked.
	res = testCLI(staticCreds, "", nil).runTest(t, `{}`, "--stack", "maskresolver")
	if res.code != exitUsage || !strings.Contains(res.stderr, "no region") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
}
