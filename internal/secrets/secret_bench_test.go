package secrets

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// naiveLookup is Lookup as it was before the nested members were indexed:
// it unmarshals the remaining subtree again at every dot of every key. It is
// the baseline the benchmarks compare against, and the oracle of
// FuzzSecretLookup. It renders nested values with encoding/json alone, as
// the secret did then, so that the oracle shares no code with the lexer.
func naiveLookup(s *Secret, key string) (string, bool) {
	if s.Kind != KeyValue {
		return "", false
	}
	if v, ok := s.fields[key]; ok {
		return v, true
	}
	if !strings.Contains(key, ".") {
		return "", false
	}
	parts := strings.Split(key, ".")
	raw, ok := s.members[parts[0]]
	for _, p := range parts[1:] {
		if !ok {
			return "", false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil || obj == nil {
			return "", false
		}
		raw, ok = obj[p]
	}
	if !ok {
		return "", false
	}
	return naiveRender(raw)
}

// naiveRender is render done by encoding/json alone.
func naiveRender(raw json.RawMessage) (string, bool) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "", false
	}
	return b.String(), true
}

// nestedSecret is levels objects inside one another, each with the single
// member "a", around the string "x": `{"a":{"a":"x"}}` for 2. It is 6 bytes a
// level, so 1,001 levels make the 6 KB secret of the adversarial review.
func nestedSecret(levels int) string {
	return strings.Repeat(`{"a":`, levels) + `"x"` + strings.Repeat("}", levels)
}

// path is the key of n segments "a.a.….a".
func path(n int) string {
	return strings.TrimSuffix(strings.Repeat("a.", n), ".")
}

func repeat(key string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key
	}
	return keys
}

// BenchmarkLookup measures one request's lookups against one secret. Each
// case runs three ways in the same run:
//
//	naive  the old algorithm, which keeps no state between lookups
//	cold   a Secret fresh from NewSecret: the first dotted lookup indexes it
//	warm   a Secret served from the cache, indexed and rendered already
//
// The naive baseline runs only where it finishes in reasonable time; on the
// 1,001-level secret one iteration of it took 22 s of CPU.
func BenchmarkLookup(b *testing.B) {
	const flat = `{"username":"svc-app","password":"p@ssw0rd-0123456789abcdef",` +
		`"host":"db.internal.example.com","port":5432,"dbname":"orders"}`
	const nested = `{"db":{"primary":{"host":"db-1.example.com","password":"p1","port":5432},` +
		`"replica":{"host":"db-2.example.com","password":"p2","port":5432}},"api":{"token":"t0k3n"}}`
	cases := []struct {
		name   string
		secret string
		keys   []string
		found  bool
		naive  bool
	}{
		{"flat/5", flat, []string{"username", "password", "host", "port", "dbname"}, true, true},
		{"nested/5", nested, []string{"db.primary.host", "db.primary.password", "db.primary.port", "db.replica.password", "api.token"}, true, true},
		{"deep201/101x31dots", nestedSecret(201), repeat(path(32), 101), true, true},
		{"deep201/101x200dots", nestedSecret(201), repeat(path(201), 101), false, true},
		{"deep1001/501x31dots", nestedSecret(1001), repeat(path(32), 501), true, false},
		{"deep1001/501x1000dots", nestedSecret(1001), repeat(path(1001), 501), false, false},
	}
	for _, c := range cases {
		shared := NewSecret("arn", c.secret)
		if c.naive {
			b.Run(c.name+"/naive", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for _, k := range c.keys {
						naiveLookup(shared, k)
					}
				}
			})
		}
		b.Run(c.name+"/cold", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				// NewSecret's own parse is the same for both algorithms,
				// so it is left out: a fresh Secret shares its fields.
				s := &Secret{ARN: shared.ARN, Kind: shared.Kind, fields: shared.fields, members: shared.members}
				for _, k := range c.keys {
					if _, ok := s.Lookup(k); ok != c.found {
						b.Fatalf("Lookup(%.20q…) found = %v, want %v", k, ok, c.found)
					}
				}
			}
		})
		b.Run(c.name+"/warm", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, k := range c.keys {
					if _, ok := shared.Lookup(k); ok != c.found {
						b.Fatalf("Lookup(%.20q…) found = %v, want %v", k, ok, c.found)
					}
				}
			}
		})
	}
}
