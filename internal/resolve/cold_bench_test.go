package resolve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/maskresolver/maskresolver/internal/mask"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// smLatency is a realistic Secrets Manager round trip from Lambda.
const smLatency = 20 * time.Millisecond

// coldFixture seeds the double with the payload's secrets, with smLatency
// on every call, and returns an SDK config pointed at it.
func coldFixture(b *testing.B, store warmStore) (*smfake.Server, aws.Config) {
	sm := smfake.New(smfake.WithAccount("137149879143"))
	for arn := range store {
		v := fmt.Sprintf(`{"password":"p@ss-%s","user":"svc","port":5000}`, arn[len(arn)-6:])
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: &v}); err != nil {
			b.Fatal(err)
		}
	}
	sm.Inject(smfake.Fault{Latency: smLatency})
	_, cfg := smfake.Serve(b, sm)
	return sm, cfg
}

// naiveResolve is the baseline: decode into a generic tree, call
// GetSecretValue once per mask with no cache and no batching, encode back.
func naiveResolve(ctx context.Context, client *secretsmanager.Client, body []byte) ([]byte, error) {
	var req struct{ Connection any }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var walk func(v any) (any, error)
	walk = func(v any) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				t[k] = r
			}
		case []any:
			for i, e := range t {
				r, err := walk(e)
				if err != nil {
					return nil, err
				}
				t[i] = r
			}
		case string:
			out := t
			for _, m := range mask.Find(t) {
				text := t[m.Start:m.End]
				got, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(m.Mask.ARN.String())})
				if err != nil {
					return nil, err
				}
				var kv map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(got.SecretString)), &kv); err != nil {
					return nil, err
				}
				out = strings.Replace(out, text, fmt.Sprint(kv[m.Mask.Key]), 1)
			}
			return out, nil
		}
		return v, nil
	}
	conn, err := walk(req.Connection)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"connection": conn})
}

func benchCold(b *testing.B, size, masks, nSecrets int) {
	body, store := payload(size, masks, nSecrets)
	sm, cfg := coldFixture(b, store)
	b.Run("maskresolver", func(b *testing.B) {
		b.ReportAllocs()
		// A zero TTL makes every request a cold one, through the real
		// store: batching, in-flight sharing and the SDK client included.
		st, err := secrets.New(cfg, secrets.WithTTL(0), secrets.WithStaleIfError(0))
		if err != nil {
			b.Fatal(err)
		}
		r := resolve.New(st, resolve.WithMaxMasks(masks+1))
		sm.ResetCalls()
		for b.Loop() {
			res, err := r.Resolve(context.Background(), body, resolve.Params{})
			if err != nil || res.Failed > 0 {
				b.Fatal(err, res.AppendJSON(nil))
			}
		}
		b.ReportMetric(float64(sm.Calls(""))/float64(b.N), "sm-calls/op")
	})
	b.Run("naive-per-mask", func(b *testing.B) {
		b.ReportAllocs()
		client := secretsmanager.NewFromConfig(cfg)
		sm.ResetCalls()
		for b.Loop() {
			if _, err := naiveResolve(context.Background(), client, body); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(sm.Calls(""))/float64(b.N), "sm-calls/op")
	})
}

// BenchmarkResolveColdSmall: 1 KB, 5 masks over 2 secrets, nothing cached,
// 20 ms a Secrets Manager call.
func BenchmarkResolveColdSmall(b *testing.B) { benchCold(b, 1<<10, 5, 2) }

// BenchmarkResolveColdMedium: 40 KB, 100 masks over 20 secrets, nothing
// cached, 20 ms a Secrets Manager call.
func BenchmarkResolveColdMedium(b *testing.B) { benchCold(b, 40<<10, 100, 20) }
