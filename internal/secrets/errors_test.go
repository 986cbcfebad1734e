package secrets

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// Each failure is produced by the double on the wire and classified from
// what the real SDK client makes of it.
func TestClassifyThroughSDK(t *testing.T) {
	t.Parallel()
	// What AWS says on a denied read names the function's role and account;
	// none of it may reach a caller.
	const denied = "User: arn:aws:sts::123456789012:assumed-role/resolver-prod-role/resolver is not authorized " +
		"to perform: secretsmanager:GetSecretValue on resource: prod/db because no identity-based policy allows it"
	tests := []struct {
		name          string
		fault         smfake.Fault
		deleted       bool // the secret is marked for deletion
		short         bool // read under a deadline shorter than the latency
		wantCode      answer.Code
		wantTransient bool
		wantAPICode   string // the SDK error still reachable through Unwrap
	}{
		{name: "not found", fault: smfake.Fault{Code: "ResourceNotFoundException"}, wantCode: answer.SecretNotFound, wantAPICode: "ResourceNotFoundException"},
		{name: "access denied", fault: smfake.Fault{Code: "AccessDeniedException", Message: denied}, wantCode: answer.AccessDenied, wantAPICode: "AccessDeniedException"},
		{name: "decryption failure", fault: smfake.Fault{Code: "DecryptionFailure"}, wantCode: answer.DecryptionFailure, wantAPICode: "DecryptionFailure"},
		{name: "throttled", fault: smfake.Fault{Code: "ThrottlingException"}, wantCode: answer.Throttled, wantTransient: true, wantAPICode: "ThrottlingException"},
		{name: "internal service error", fault: smfake.Fault{Code: "InternalServiceError"}, wantCode: answer.UpstreamError, wantTransient: true, wantAPICode: "InternalServiceError"},
		{name: "latency past the deadline", fault: smfake.Fault{Latency: 5 * time.Second}, short: true, wantCode: answer.Timeout, wantTransient: true},
		{name: "connection reset", fault: smfake.Fault{Reset: true}, wantCode: answer.UpstreamError, wantTransient: true},
		{name: "truncated answer", fault: smfake.Fault{Truncate: true}, wantCode: answer.UpstreamError, wantTransient: true},
		{name: "malformed answer", fault: smfake.Fault{Malformed: true}, wantCode: answer.UpstreamError, wantTransient: true},
		{name: "marked for deletion", deleted: true, wantCode: answer.SecretNotFound, wantAPICode: "InvalidRequestException"},
		{name: "other invalid request", fault: smfake.Fault{Code: "InvalidRequestException", Message: "You can't do that."}, wantCode: answer.UpstreamError, wantAPICode: "InvalidRequestException"},
		{name: "invalid parameter", fault: smfake.Fault{Code: "InvalidParameterException"}, wantCode: answer.UpstreamError, wantAPICode: "InvalidParameterException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if _, err := f.sm.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue), Deleted: tt.deleted}); err != nil {
				t.Fatal(err)
			}
			if tt.fault != (smfake.Fault{}) {
				fault := tt.fault
				fault.Op = "GetSecretValue"
				f.sm.Inject(fault)
			}
			ctx := t.Context()
			if tt.short {
				ctx = shortContext(t)
			}
			res, st := f.store.Get(ctx, []string{dbARN}, Freshness{})
			e := res[0].Err
			if e == nil {
				t.Fatalf("no error; Secret = %+v", res[0].Secret)
			}
			if res[0].Secret != nil {
				t.Error("a failed read also returned a Secret")
			}
			if e.Code != tt.wantCode || e.Transient != tt.wantTransient {
				t.Errorf("Code, Transient = %s, %v; want %s, %v (err: %v)", e.Code, e.Transient, tt.wantCode, tt.wantTransient, e)
			}
			if e.ARN != dbARN || !strings.Contains(e.Error(), dbARN) {
				t.Errorf("Error() = %q, want it to name %s", e.Error(), dbARN)
			}
			if tt.wantAPICode != "" {
				var apiErr smithy.APIError
				if !errors.As(e, &apiErr) || apiErr.ErrorCode() != tt.wantAPICode {
					t.Errorf("errors.As(APIError) = %v, want code %s", apiErr, tt.wantAPICode)
				}
			}
			msg := e.Message()
			for _, leak := range []string{"arn:", "resolver-prod-role", "123456789012", "User:", "Rate exceeded", "operation error", "smfake", dbValue, "hunter2"} {
				if strings.Contains(msg, leak) {
					t.Errorf("Message() = %q contains %q", msg, leak)
				}
			}
			if msg == "" {
				t.Error("Message() is empty")
			}
			if strings.Contains(e.Error(), "hunter2") {
				t.Errorf("Error() = %q contains the secret value", e.Error())
			}
			// A deletion costs one more call to tell it from other invalid
			// requests; nothing else calls DescribeSecret.
			wantDescribe := 0
			if tt.wantAPICode == "InvalidRequestException" {
				wantDescribe = 1
			}
			if n := f.sm.Calls("DescribeSecret"); n != wantDescribe {
				t.Errorf("%d DescribeSecret calls, want %d", n, wantDescribe)
			}
			if want := 1 + wantDescribe; st.Calls != want {
				t.Errorf("Stats.Calls = %d, want %d", st.Calls, want)
			}
		})
	}
}

// A DescribeSecret that itself fails leaves an invalid request what it was.
func TestClassifyDeletedDescribeFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.sm.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue), Deleted: true}); err != nil {
		t.Fatal(err)
	}
	f.sm.Inject(smfake.Fault{Op: "DescribeSecret", Code: "AccessDeniedException"})
	res, _ := f.store.Get(t.Context(), []string{dbARN}, Freshness{})
	if e := res[0].Err; e == nil || e.Code != answer.UpstreamError || e.Transient {
		t.Errorf("err = %+v, want a non-transient %s", e, answer.UpstreamError)
	}
}

// Errors that never reach the wire.
func TestClassify(t *testing.T) {
	t.Parallel()
	const arn = dbARN
	tests := []struct {
		err           error
		wantCode      answer.Code
		wantTransient bool
	}{
		{context.DeadlineExceeded, answer.Timeout, true},
		{fmt.Errorf("send: %w", context.Canceled), answer.Timeout, true},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, answer.AccessDenied, false},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, answer.Throttled, true},
		{&smithy.GenericAPIError{Code: "TooManyRequestsException"}, answer.Throttled, true},
		{&smithy.GenericAPIError{Code: "SomethingNew"}, answer.UpstreamError, false},
		{errors.New("connection reset by peer"), answer.UpstreamError, true},
	}
	for _, tt := range tests {
		e := classify(arn, tt.err)
		if e.Code != tt.wantCode || e.Transient != tt.wantTransient || e.ARN != arn || !errors.Is(e, tt.err) {
			t.Errorf("classify(%v) = %+v; want %s, transient %v", tt.err, e, tt.wantCode, tt.wantTransient)
		}
	}
}

// Any 5xx is transient, not only Secrets Manager's InternalServiceError,
// so a stale value may stand in for it.
func TestAny5xxIsTransient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
	}{{503, "ServiceUnavailable"}, {500, "InternalFailure"}, {502, ""}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.code != "" {
				w.Header().Set("X-Amzn-ErrorType", tc.code)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, `{"__type":%q,"message":"far side trouble"}`, tc.code)
				return
			}
			w.WriteHeader(tc.status) // a proxy's bare answer
		}))
		st, err := New(testConfig(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		res, _ := st.Get(context.Background(), []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:five"}, Freshness{})
		srv.Close()
		if e := res[0].Err; e == nil || !e.Transient || e.Code != answer.UpstreamError {
			t.Errorf("HTTP %d %q: %+v, want a transient UpstreamError", tc.status, tc.code, e)
		}
	}
}
