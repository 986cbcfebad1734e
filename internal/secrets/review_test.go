package secrets

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// One request may name a secret by its full and by its partial ARN: both
// resolve, from one batch call.
func TestBatchFullAndPartialARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	full := f.put(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:twice", aws.String(`{"k":"v"}`))
	partial := full[:len(full)-7]
	res, st := f.store.Get(t.Context(), []string{full, partial}, Freshness{})
	for i, r := range res {
		if r.Err != nil || r.Secret.ARN != full {
			t.Errorf("id %d: %+v", i, r)
		}
	}
	if st.Calls != 1 {
		t.Errorf("%d calls, want 1", st.Calls)
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
		if e := res[0].Err; e == nil || !e.Transient || e.Code != CodeUpstream {
			t.Errorf("HTTP %d %q: %+v, want a transient UpstreamError", tc.status, tc.code, e)
		}
	}
}

// A panic inside a read fails that read's requests at once instead of
// leaving them waiting, and the store keeps working.
func TestReadPanicIsContained(t *testing.T) {
	t.Parallel()
	boom := &panicAPI{}
	st, err := New(aws.Config{}, WithClients(func(string) API { return boom }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	arns := []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:a", "arn:aws:secretsmanager:us-east-1:123456789012:secret:b"}
	for _, ids := range [][]string{arns, arns[:1]} {
		res, _ := st.Get(ctx, ids, Freshness{})
		for _, r := range res {
			if r.Err == nil || r.Err.Code != CodeUpstream {
				t.Errorf("%+v, want UpstreamError", r)
			}
		}
	}
	if time.Since(start) > time.Second {
		t.Errorf("the requests waited %v for reads that had panicked", time.Since(start))
	}
}

type panicAPI struct{ API }

func (*panicAPI) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	panic("boom")
}

func (*panicAPI) BatchGetSecretValue(context.Context, *secretsmanager.BatchGetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error) {
	panic("boom")
}
