package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// warmStore answers every ARN from memory, like a warm cache.
type warmStore map[string]*secrets.Secret

func (w warmStore) Get(_ context.Context, arns []string, _ secrets.Freshness) ([]secrets.Result, secrets.Stats) {
	out := make([]secrets.Result, len(arns))
	for i, a := range arns {
		out[i].Secret = w[a]
	}
	return out, secrets.Stats{Hits: len(arns)}
}

// payload builds a request of about size bytes holding masks masks spread
// over nSecrets secrets, with realistic filler: nested objects, numbers,
// strings without masks.
func payload(size, masks, nSecrets int) ([]byte, warmStore) {
	store := warmStore{}
	for i := range nSecrets {
		arn := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:137149879143:secret:bench/secret-%02d-AbCd%02d", i, i)
		store[arn] = secrets.NewSecret(arn, fmt.Sprintf(`{"password":"p@ss-%d-%s","user":"svc-%d","port":%d}`, i, strings.Repeat("x", 24), i, 5000+i))
	}
	var b bytes.Buffer
	b.WriteString(`{"connection":{"items":[`)
	i := 0
	for b.Len() < size || i < masks {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"connection item %d with some ordinary text","enabled":true,"ratio":0.%03d,"tags":["alpha","beta","gamma"],"url":"https://api.example.com/v2/items/%d?expand=true"`, i, i, i%1000, i)
		if i < masks {
			s := i % nSecrets
			fmt.Fprintf(&b, `,"auth":"Bearer {{workato:sm:password:arn:aws:secretsmanager:us-east-1:137149879143:secret:bench/secret-%02d-AbCd%02d}}"`, s, s)
		}
		b.WriteByte('}')
		i++
	}
	b.WriteString(`]}}`)
	return b.Bytes(), store
}

func benchResolve(b *testing.B, size, masks, nSecrets int) {
	body, store := payload(size, masks, nSecrets)
	r := resolve.New(store, resolve.WithMaxMasks(masks+1))
	b.Run("resolve", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			res, err := r.Resolve(context.Background(), body, resolve.Params{})
			if err != nil || res.Failed > 0 {
				b.Fatal(err, res.Failed)
			}
			_ = res.AppendJSON(make([]byte, 0, res.Cap()))
		}
	})
	// The baseline: what a generic tree costs, decoding into any and
	// encoding back, without even looking for masks.
	b.Run("encoding-json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkResolveWarmSmall: a 1 KB payload with 5 masks, all cached.
func BenchmarkResolveWarmSmall(b *testing.B) { benchResolve(b, 1<<10, 5, 2) }

// BenchmarkResolveWarmLarge: 400 KB, 1,000 masks over 20 secrets, all cached.
func BenchmarkResolveWarmLarge(b *testing.B) { benchResolve(b, 400<<10, 1000, 20) }
