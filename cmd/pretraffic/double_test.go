package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// The version under test, as SAM's `!Ref ResolverFunction.Version` gives it.
const testTarget = "arn:aws:lambda:us-east-1:111122223333:function:maskresolver-ResolverFunction-AbC123:7"

// invocation is one Lambda Invoke the double received.
type invocation struct {
	functionName   string // from the path, unescaped
	qualifier      string
	invocationType string
	payload        []byte
}

// report is one PutLifecycleEventHookExecutionStatus the double received.
type report struct {
	DeploymentID string `json:"deploymentId"`
	ExecutionID  string `json:"lifecycleEventHookExecutionId"`
	Status       string `json:"status"`
}

// double speaks the wire protocols of the two APIs the hook calls: Lambda's
// Invoke (REST-JSON, POST /2015-03-31/functions/{name}/invocations) and
// CodeDeploy's PutLifecycleEventHookExecutionStatus (JSON 1.1, POST / with
// X-Amz-Target). The real SDK clients talk to it.
type double struct {
	// invoke answers an invocation; it may block on the request's context.
	invoke func(w http.ResponseWriter, r *http.Request, inv invocation)
	// reportStatus is the HTTP status of CodeDeploy's answer (200 if 0).
	reportStatus int

	mu          sync.Mutex
	invocations []invocation
	reports     []report
}

func (d *double) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, prefix) && strings.HasSuffix(r.URL.Path, suffix):
		inv := invocation{
			functionName:   strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix),
			qualifier:      r.URL.Query().Get("Qualifier"),
			invocationType: r.Header.Get("X-Amz-Invocation-Type"),
			payload:        body,
		}
		d.mu.Lock()
		d.invocations = append(d.invocations, inv)
		d.mu.Unlock()
		d.invoke(w, r, inv)
	case r.Header.Get("X-Amz-Target") == "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus":
		var rep report
		if err := json.Unmarshal(body, &rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		d.reports = append(d.reports, rep)
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if d.reportStatus != 0 && d.reportStatus != http.StatusOK {
			w.WriteHeader(d.reportStatus)
			_, _ = io.WriteString(w, `{"__type":"DeploymentDoesNotExistException","message":"no such deployment"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"lifecycleEventHookExecutionId": rep.ExecutionID})
	default:
		http.Error(w, "the double does not serve "+r.Method+" "+r.URL.String(), http.StatusNotFound)
	}
}

func (d *double) recorded() ([]invocation, []report) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]invocation(nil), d.invocations...), append([]report(nil), d.reports...)
}

// answerWith makes the function answer payload, with X-Amz-Function-Error
// set to functionError when that is not empty.
func answerWith(payload, functionError string) func(http.ResponseWriter, *http.Request, invocation) {
	return func(w http.ResponseWriter, _ *http.Request, _ invocation) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Executed-Version", "7")
		if functionError != "" {
			w.Header().Set("X-Amz-Function-Error", functionError)
		}
		_, _ = io.WriteString(w, payload)
	}
}

// lambdaError makes Lambda refuse the invocation as the service does: a
// status, the error type in X-Amzn-ErrorType and a JSON message.
func lambdaError(status int, errorType string) func(http.ResponseWriter, *http.Request, invocation) {
	return func(w http.ResponseWriter, _ *http.Request, _ invocation) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", errorType)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"Type":"User","message":"refused by the double"}`)
	}
}

// start serves d and returns a hook whose real SDK clients point at it,
// configured by env, with its log in the returned buffer.
func start(t *testing.T, d *double, env map[string]string) (*hook, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
		HTTPClient:  srv.Client(),
		// One attempt: the retryer is the SDK's business, not the hook's.
		RetryMaxAttempts: 1,
	}
	lc := awslambda.NewFromConfig(cfg, func(o *awslambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	cc := codedeploy.NewFromConfig(cfg, func(o *codedeploy.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	var log bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return newHook(lc, cc, lookup, slog.New(slog.NewJSONHandler(&log, nil))), &log
}

// validEnv is a well-configured hook's environment.
func validEnv() map[string]string {
	return map[string]string{
		EnvTarget:     testTarget,
		EnvConnection: `{"password":"{{workato:sm:db.password:arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf}}","port":5432}`,
	}
}

var testEvent = event{DeploymentID: "d-EXAMPLE123", LifecycleEventHookExecutionID: "exec-EXAMPLE456"}
