package secrets_test

import (
	"testing"

	"github.com/maskresolver/maskresolver/internal/secrets"
)

func TestSecretLookup(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123"
	type lookup struct {
		key  string
		want string
		ok   bool
	}
	tests := []struct {
		name    string
		str     string
		kind    secrets.Kind
		lookups []lookup
	}{
		{
			name: "exact key with dots wins over dotted path",
			str:  `{"db.primary":"x","db":{"primary":"y"}}`,
			kind: secrets.KeyValue,
			lookups: []lookup{
				{key: "db.primary", want: "x", ok: true},
				{key: "db", want: `{"primary":"y"}`, ok: true},
			},
		},
		{
			name: "dotted path into nested objects",
			str:  `{"db":{"primary":{"password":"p@ss","port":5432}},"list":[{"a":1}],"s":"flat"}`,
			kind: secrets.KeyValue,
			lookups: []lookup{
				{key: "db.primary.password", want: "p@ss", ok: true},
				{key: "db.primary.port", want: "5432", ok: true},
				{key: "db.primary", want: `{"password":"p@ss","port":5432}`, ok: true},
				{key: "db.primary.user", ok: false},
				{key: "db.replica.password", ok: false},
				{key: "s.x", ok: false},      // a string has no members
				{key: "list.0.a", ok: false}, // arrays are not indexed
				{key: "db.primary.password.x", ok: false},
				{key: "db.", ok: false},
				{key: ".db", ok: false},
			},
		},
		{
			name: "missing key",
			str:  `{"user":"admin"}`,
			kind: secrets.KeyValue,
			lookups: []lookup{
				{key: "password", ok: false},
				{key: "User", ok: false}, // keys are case-sensitive
				{key: "", ok: false},
			},
		},
		{
			name: "rendering",
			str: `{"s":"line\nbreak \"q\" \u00e9\u263a \ud83d\ude00 tab\t<&>",` +
				`"big":12345678901234567890,"neg":-0.000000000000000000001e-5,` +
				`"obj":{ "z" : 1 , "a" : 12345678901234567890 },` +
				`"t":true,"f":false,"n":null,"arr":[ 1, "two", {"x":[]} ],` +
				`"empty":"","mask":"{{workato:sm:k:arn:aws:secretsmanager:us-east-1:123456789012:secret:x}}"}`,
			kind: secrets.KeyValue,
			lookups: []lookup{
				{key: "s", want: "line\nbreak \"q\" é☺ 😀 tab\t<&>", ok: true},
				{key: "big", want: "12345678901234567890", ok: true},
				{key: "neg", want: "-0.000000000000000000001e-5", ok: true},
				{key: "obj", want: `{"z":1,"a":12345678901234567890}`, ok: true},
				{key: "obj.a", want: "12345678901234567890", ok: true},
				{key: "t", want: "true", ok: true},
				{key: "f", want: "false", ok: true},
				{key: "n", want: "null", ok: true},
				{key: "arr", want: `[1,"two",{"x":[]}]`, ok: true},
				{key: "empty", want: "", ok: true},
				// A value that looks like a mask is just text here.
				{key: "mask", want: "{{workato:sm:k:arn:aws:secretsmanager:us-east-1:123456789012:secret:x}}", ok: true},
			},
		},
		{
			name: "keys with any characters",
			str:  `{"prod.jira.secret.key":"k","a:b c@d/e":"v","\u00fcber":"u"}`,
			kind: secrets.KeyValue,
			lookups: []lookup{
				{key: "prod.jira.secret.key", want: "k", ok: true},
				{key: "a:b c@d/e", want: "v", ok: true},
				{key: "über", want: "u", ok: true},
			},
		},
		{
			name:    "empty object",
			str:     `{}`,
			kind:    secrets.KeyValue,
			lookups: []lookup{{key: "a", ok: false}},
		},
		{
			name:    "whitespace around object",
			str:     " \n{\"a\" : \"b\"}\n ",
			kind:    secrets.KeyValue,
			lookups: []lookup{{key: "a", want: "b", ok: true}},
		},

		// not objects
		{name: "JSON string", str: `"abc"`, kind: secrets.NotObject, lookups: []lookup{{key: "abc", ok: false}}},
		{name: "JSON array", str: `[1]`, kind: secrets.NotObject, lookups: []lookup{{key: "0", ok: false}}},
		{name: "not JSON", str: `not json`, kind: secrets.NotObject, lookups: []lookup{{key: "not", ok: false}}},
		{name: "JSON null", str: `null`, kind: secrets.NotObject, lookups: []lookup{{key: "null", ok: false}}},
		{name: "number", str: `42`, kind: secrets.NotObject},
		{name: "empty string", str: ``, kind: secrets.NotObject},
		{name: "truncated object", str: `{"a":"b"`, kind: secrets.NotObject, lookups: []lookup{{key: "a", ok: false}}},
		{name: "trailing data", str: `{"a":"b"} x`, kind: secrets.NotObject, lookups: []lookup{{key: "a", ok: false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := secrets.NewSecret(arn, tt.str)
			if s.ARN != arn {
				t.Errorf("ARN = %q, want %q", s.ARN, arn)
			}
			if s.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", s.Kind, tt.kind)
			}
			for _, l := range tt.lookups {
				got, ok := s.Lookup(l.key)
				if got != l.want || ok != l.ok {
					t.Errorf("Lookup(%q) = %q, %v; want %q, %v", l.key, got, ok, l.want, l.ok)
				}
			}
		})
	}
}

func TestSecretLookupBinary(t *testing.T) {
	t.Parallel()
	s := &secrets.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cert", Kind: secrets.Binary}
	for _, key := range []string{"", "a", "a.b"} {
		if got, ok := s.Lookup(key); ok || got != "" {
			t.Errorf("Lookup(%q) on a binary secret = %q, %v; want \"\", false", key, got, ok)
		}
	}
}
