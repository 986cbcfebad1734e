package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/app"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// The secrets live in one region of one account, as the quotas do.
const (
	region  = "us-east-1"
	account = "123456789012" // the double's default account
	// secretKey is the JSON key every secret holds and every mask names.
	secretKey = "password"
	// poolFactor sizes the pool of secrets against one request's share,
	// so that the environments' windows overlap without being identical.
	poolFactor = 4
	// windowStride shifts each environment's window along the pool; prime,
	// so that windows drift rather than repeat every few environments.
	windowStride = 7
)

// pool is the secrets seeded in the double: each one's full ARN, the
// password it holds now, and the two passwords it can hold, known before
// anything runs so that checks need not read what a rotation writes.
type pool struct {
	arns     []string
	current  []string // changed only by rotate
	initial  []string
	rotation []string // what rotate gives a secret
	prefix   string   // of the secrets' names
	readers  []string // the only principals that may read them; nil: any
}

// seedPool puts n secrets into srv. The values carry a per-run nonce, so
// that no answer can be right by accident.
func seedPool(srv *smfake.Server, n int) (*pool, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return seedPoolAs(srv, n, "", nil, nonce)
}

// seedPoolAs puts n secrets into srv, readable only by readers (by anyone
// when nil): fleet/secret-NNNN, or fleet/<scope>/secret-NNNN for a scope's.
func seedPoolAs(srv *smfake.Server, n int, scope string, readers []string, nonce []byte) (*pool, error) {
	p := &pool{arns: make([]string, n), current: make([]string, n), initial: make([]string, n), rotation: make([]string, n),
		prefix: "fleet/secret-", readers: readers}
	tag := ""
	if scope != "" {
		p.prefix = "fleet/" + scope + "/secret-"
		tag = scope + "-"
	}
	for j := range n {
		p.initial[j] = fmt.Sprintf("v1-%s%04d-%x", tag, j, nonce)
		p.rotation[j] = fmt.Sprintf("v2-%s%04d-%x", tag, j, nonce)
		p.current[j] = p.initial[j]
		arn, err := p.put(srv, j, p.initial[j])
		if err != nil {
			return nil, err
		}
		p.arns[j] = arn
	}
	return p, nil
}

// rotate gives secret j its new value under the same ARN, as a rotation's
// new AWSCURRENT version does.
func (p *pool) rotate(srv *smfake.Server, j int) error {
	if _, err := p.put(srv, j, p.rotation[j]); err != nil {
		return err
	}
	p.current[j] = p.rotation[j]
	return nil
}

func (p *pool) put(srv *smfake.Server, j int, password string) (string, error) {
	v, err := json.Marshal(map[string]string{secretKey: password})
	if err != nil {
		return "", err
	}
	s := string(v)
	// A partial ARN: the double derives the same suffix from the name
	// every time, so a rotation keeps the full ARN the masks name.
	return srv.Put(smfake.Secret{
		ARN:     fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s%04d", region, account, p.prefix, j),
		String:  &s,
		Readers: p.readers,
	})
}

// window is the pool indexes of the secrets environment i's requests name.
func window(i, secrets, poolSize int) []int {
	w := make([]int, secrets)
	for k := range w {
		w[k] = (i*windowStride + k) % poolSize
	}
	return w
}

// fieldName is the connection field holding mask k of a request.
func fieldName(k, secrets int) string {
	return fmt.Sprintf("s%0*d", len(strconv.Itoa(secrets-1)), k)
}

// answer is what one request came back with.
type answer struct {
	status int
	codes  []string          // error codes of a failed answer
	values map[string]string // connection field -> resolved value, on 200
	err    error             // the invocation itself failed
}

// invoker is one simulated execution environment.
type invoker interface {
	invoke(ctx context.Context, requestID string) answer
}

// appEnv is one environment of the function: the handler the Lambda
// binary runs and the HTTP API event it is sent.
type appEnv struct {
	h     *api.Handler
	event []byte
}

// newAppEnv builds environment i as Lambda would on a cold start. vars are
// its environment variables; the AWS settings come from the process
// environment, which run sets once. Its request names the secrets of
// window w of p, in scope when scope is not "".
func newAppEnv(ctx context.Context, vars map[string]string, log *logSink, p *pool, w []int, scope string) (*appEnv, error) {
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	h, err := app.New(ctx, lookup, app.WithLogOutput(log))
	if err != nil {
		return nil, err
	}
	ev, err := httpEvent(p, w, scope)
	if err != nil {
		return nil, err
	}
	return &appEnv{h: h, event: ev}, nil
}

// httpEvent is an API Gateway HTTP API request resolving one mask per
// secret of the window, in scope when scope is not "":
//
//	{"connection":{"s00":"{{workato:sm:password:<ARN>}}", ...}[, "scope":"<scope>"]}
func httpEvent(p *pool, w []int, scope string) ([]byte, error) {
	conn := make(map[string]string, len(w))
	for k, j := range w {
		conn[fieldName(k, len(w))] = "{{workato:sm:" + secretKey + ":" + p.arns[j] + "}}"
	}
	req := map[string]any{"connection": conn}
	if scope != "" {
		req["scope"] = scope
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST " + api.Route,
		RawPath:  api.Route,
		Headers:  map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:  account,
			Stage:      "$default",
			RouteKey:   "POST " + api.Route,
			DomainName: "fleet.execute-api." + region + ".amazonaws.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: api.Route, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
		Body: string(body),
	}
	return json.Marshal(ev)
}

func (e *appEnv) invoke(ctx context.Context, requestID string) answer {
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: requestID})
	out, err := e.h.Invoke(ctx, e.event)
	if err != nil {
		return answer{err: err}
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return answer{err: fmt.Errorf("decode proxy response: %w", err)}
	}
	var body struct {
		Connection map[string]string `json:"connection"`
		Error      *struct {
			Code  string `json:"code"`
			Masks []struct {
				Code string `json:"code"`
			} `json:"masks"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		return answer{status: resp.StatusCode, err: fmt.Errorf("decode body of a %d answer: %w", resp.StatusCode, err)}
	}
	a := answer{status: resp.StatusCode, values: body.Connection}
	if e := body.Error; e != nil {
		for _, m := range e.Masks {
			a.codes = appendNew(a.codes, m.Code)
		}
		if len(a.codes) == 0 {
			a.codes = []string{e.Code}
		}
	}
	return a
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// naiveEnv is the baseline: what a resolver without this project's read
// path does. A plain SDK client with its default retryer, no cache, no
// batching, one GetSecretValue per mask in turn, and the first failure
// fails the request. It is given its masks rather than parsing a payload:
// the comparison is about Secrets Manager, not the grammar.
type naiveEnv struct {
	client *secretsmanager.Client
	fields []string
	arns   []string
}

// newNaiveEnv builds a client the way most Lambda code does:
// LoadDefaultConfig and NewFromConfig, so it gets its own HTTP client and
// the retryer AWS_RETRY_MODE names (standard by default: 3 attempts).
func newNaiveEnv(ctx context.Context, p *pool, w []int) (*naiveEnv, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	e := &naiveEnv{client: secretsmanager.NewFromConfig(cfg)}
	for k, j := range w {
		e.fields = append(e.fields, fieldName(k, len(w)))
		e.arns = append(e.arns, p.arns[j])
	}
	return e, nil
}

var throttleCodes = retry.IsErrorThrottles(retry.DefaultThrottles)

func (e *naiveEnv) invoke(ctx context.Context, _ string) answer {
	values := make(map[string]string, len(e.arns))
	for k, arn := range e.arns {
		out, err := e.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			if throttleCodes.IsErrorThrottle(err).Bool() {
				return answer{status: 503, codes: []string{"Throttled"}, err: err}
			}
			if errors.Is(err, context.DeadlineExceeded) {
				return answer{status: 503, codes: []string{"Timeout"}, err: err}
			}
			return answer{status: 502, codes: []string{"Upstream"}, err: err}
		}
		var v map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
			return answer{status: 422, codes: []string{"SecretNotKeyValue"}}
		}
		values[e.fields[k]] = v[secretKey]
	}
	return answer{status: 200, values: values}
}

// transportErr says whether an answer's failure never reached the double
// as a request: the machine's limits, not the quotas.
func transportErr(err error) bool {
	return err != nil && strings.Contains(err.Error(), "too many open files")
}
