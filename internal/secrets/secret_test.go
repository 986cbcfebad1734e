package secrets

import (
	"strings"
	"sync"
	"testing"
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
		kind    Kind
		lookups []lookup
	}{
		{
			name: "exact key with dots wins over dotted path",
			str:  `{"db.primary":"x","db":{"primary":"y"}}`,
			kind: KeyValue,
			lookups: []lookup{
				{key: "db.primary", want: "x", ok: true},
				{key: "db", want: `{"primary":"y"}`, ok: true},
			},
		},
		{
			name: "dotted path into nested objects",
			str:  `{"db":{"primary":{"password":"p@ss","port":5432}},"list":[{"a":1}],"s":"flat"}`,
			kind: KeyValue,
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
			kind: KeyValue,
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
			kind: KeyValue,
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
			kind: KeyValue,
			lookups: []lookup{
				{key: "prod.jira.secret.key", want: "k", ok: true},
				{key: "a:b c@d/e", want: "v", ok: true},
				{key: "über", want: "u", ok: true},
			},
		},
		{
			name:    "empty object",
			str:     `{}`,
			kind:    KeyValue,
			lookups: []lookup{{key: "a", ok: false}},
		},
		{
			name:    "whitespace around object",
			str:     " \n{\"a\" : \"b\"}\n ",
			kind:    KeyValue,
			lookups: []lookup{{key: "a", want: "b", ok: true}},
		},
		{
			name: "exact member beats path, however many segments",
			str:  `{"a":{"b":"path","c":{"d":"path"}},"a.b":"exact","a.c.d":"exact3","` + path(40) + `":"exact40"}`,
			kind: KeyValue,
			lookups: []lookup{
				{key: "a.b", want: "exact", ok: true},
				{key: "a.c.d", want: "exact3", ok: true},
				{key: path(40), want: "exact40", ok: true},
				{key: "a.c", want: `{"d":"path"}`, ok: true},
			},
		},
		{
			name: "MaxKeySegments bounds the dotted path",
			str:  nestedSecret(40),
			kind: KeyValue,
			lookups: []lookup{
				{key: path(MaxKeySegments - 1), want: nestedSecret(40 - MaxKeySegments + 1), ok: true},
				{key: path(MaxKeySegments), want: nestedSecret(40 - MaxKeySegments), ok: true},
				{key: path(MaxKeySegments + 1), ok: false}, // present, but too deep
				{key: path(40), ok: false},
			},
		},
		{
			name: "nested duplicates: the last wins",
			str:  `{"a":{"b":1,"b":2},"c":{"d":{"e":1},"d":"s"},"f":{"g":"s","g":{"h":"y"}}}`,
			kind: KeyValue,
			lookups: []lookup{
				{key: "a.b", want: "2", ok: true},
				{key: "c.d", want: "s", ok: true},
				{key: "c.d.e", ok: false},
				{key: "f.g", want: `{"h":"y"}`, ok: true},
				{key: "f.g.h", want: "y", ok: true},
			},
		},
		{
			name: "nested member names are decoded",
			str:  `{"a":{"\u0062":"x","c\"d":"q","\u00e9":"e","\ud800":"lone","\\":"bs"}}`,
			kind: KeyValue,
			lookups: []lookup{
				{key: "a.b", want: "x", ok: true},
				{key: `a.c"d`, want: "q", ok: true},
				{key: "a.é", want: "e", ok: true},
				{key: "a.\uFFFD", want: "lone", ok: true}, // as json.Unmarshal decodes it
				{key: `a.\`, want: "bs", ok: true},
				{key: `a.\u0062`, ok: false},
			},
		},
		{
			name: "whitespace and brackets inside nested values",
			str: " {\t\"a\" : { \"b\" : [ 1 , \"}\" , { \"x\" : 1 } ] ,\n\"c\" : { } , \"d\" : null ," +
				` "e" : "x\"}]" , "f" : -1.5e+3 , "g" : true } } `,
			kind: KeyValue,
			lookups: []lookup{
				{key: "a.b", want: `[1,"}",{"x":1}]`, ok: true},
				{key: "a.b.x", ok: false},
				{key: "a.c", want: `{}`, ok: true},
				{key: "a.c.x", ok: false},
				{key: "a.d", want: "null", ok: true},
				{key: "a.d.x", ok: false},
				{key: "a.e", want: `x"}]`, ok: true},
				{key: "a.f", want: "-1.5e+3", ok: true},
				{key: "a.g", want: "true", ok: true},
			},
		},

		// not objects
		{name: "JSON string", str: `"abc"`, kind: NotObject, lookups: []lookup{{key: "abc", ok: false}}},
		{name: "JSON array", str: `[1]`, kind: NotObject, lookups: []lookup{{key: "0", ok: false}}},
		{name: "not JSON", str: `not json`, kind: NotObject, lookups: []lookup{{key: "not", ok: false}}},
		{name: "JSON null", str: `null`, kind: NotObject, lookups: []lookup{{key: "null", ok: false}}},
		{name: "number", str: `42`, kind: NotObject},
		{name: "empty string", str: ``, kind: NotObject},
		{name: "truncated object", str: `{"a":"b"`, kind: NotObject, lookups: []lookup{{key: "a", ok: false}}},
		{name: "trailing data", str: `{"a":"b"} x`, kind: NotObject, lookups: []lookup{{key: "a", ok: false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewSecret(arn, tt.str)
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
	s := &Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cert", Kind: Binary}
	for _, key := range []string{"", "a", "a.b"} {
		if got, ok := s.Lookup(key); ok || got != "" {
			t.Errorf("Lookup(%q) on a binary secret = %q, %v; want \"\", false", key, got, ok)
		}
	}
}

// indexed counts the objects whose members the tree holds.
func indexed(kids map[string]*node) int {
	n := 0
	for _, k := range kids {
		if k.kids != nil {
			n += 1 + indexed(k.kids)
		}
	}
	return n
}

// The adversarial review's case: before the index, 500 lookups of a
// 1,000-dot key into a secret nested 5,001 deep took minutes of CPU. The
// work is bounded here by counting it, not by timing it.
func TestSecretLookupDeepNesting(t *testing.T) {
	t.Parallel()
	const levels = 5001
	s := NewSecret("arn", nestedSecret(levels))
	if s.Kind != KeyValue {
		t.Fatalf("Kind = %v, want KeyValue", s.Kind)
	}
	tests := []struct {
		name string
		key  string
		want string
		ok   bool
	}{
		{name: "1,000 dots: past MaxKeySegments", key: path(1001)},
		{name: "the whole path: past MaxKeySegments", key: path(levels)},
		{name: "31 dots", key: path(MaxKeySegments), want: nestedSecret(levels - MaxKeySegments), ok: true},
		{name: "missing at depth 3", key: "a.a.b"},
	}
	for _, tt := range tests {
		for range 500 {
			got, ok := s.Lookup(tt.key)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("%s: Lookup = %.40q…, %v; want %.40q…, %v", tt.name, got, ok, tt.want, tt.ok)
			}
		}
	}
	tr := s.nested()
	objects := indexed(tr.root)
	// Each indexed object was parsed exactly once, and only the objects a
	// key of MaxKeySegments segments can pass through were indexed.
	if tr.parsed != objects || objects != MaxKeySegments-1 {
		t.Errorf("parsed %d objects, %d indexed; want each of %d once", tr.parsed, objects, MaxKeySegments-1)
	}
	// 500 lookups of one value rendered it once.
	if n := tr.rendered.Load(); n != 1 {
		t.Errorf("rendered %d values, want 1", n)
	}
}

// A Secret is shared by the requests the cache serves at once; the index
// and the rendered values are built once between them. Run with -race.
func TestSecretLookupConcurrent(t *testing.T) {
	t.Parallel()
	s := NewSecret("arn", `{"user":"admin","db":{"primary":{"password":"p1","port":5432},`+
		`"replica":{"password":"p2"}},"deep":`+nestedSecret(100)+`,"list":[{"a":1}]}`)
	lookups := []struct {
		key  string
		want string
		ok   bool
	}{
		{key: "user", want: "admin", ok: true},
		{key: "db.primary.password", want: "p1", ok: true},
		{key: "db.primary.port", want: "5432", ok: true},
		{key: "db.replica", want: `{"password":"p2"}`, ok: true},
		{key: "db.replica.user"},
		{key: "deep." + path(MaxKeySegments-1), want: nestedSecret(100 - MaxKeySegments + 1), ok: true},
		{key: "deep." + path(MaxKeySegments)},
		{key: "list.0.a"},
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				l := lookups[(g+i)%len(lookups)]
				if got, ok := s.Lookup(l.key); got != l.want || ok != l.ok {
					t.Errorf("Lookup(%.40q) = %.40q, %v; want %.40q, %v", l.key, got, ok, l.want, l.ok)
					return
				}
			}
		})
	}
	wg.Wait()
	tr := s.nested()
	// db, db.primary, db.replica, and deep down to MaxKeySegments-1 levels.
	if objects := indexed(tr.root); tr.parsed != objects || objects != 3+MaxKeySegments-1 {
		t.Errorf("parsed %d objects, %d indexed; want each of %d once", tr.parsed, objects, 3+MaxKeySegments-1)
	}
	// The four dotted keys that are found, each rendered once.
	if n := tr.rendered.Load(); n != 4 {
		t.Errorf("rendered %d values, want 4", n)
	}
}

// FuzzSecretLookup checks the index against the algorithm it replaced,
// which unmarshalled the subtree again at every dot: for any secret and any
// key within MaxKeySegments they agree, and beyond it only exact members
// are found.
func FuzzSecretLookup(f *testing.F) {
	for _, seed := range []struct{ secret, key string }{
		{`{"db":{"primary":{"password":"p@ss","port":5432}}}`, "db.primary.password"},
		{`{"db.primary":"x","db":{"primary":"y"}}`, "db.primary"},
		{`{"a":{"b":1,"b":{"c":[1,{"d":2}]}}}`, "a.b.c"},
		{`{"a":{"\u0062":"x","\ud800":"y"," c ":{}}}`, "a.b"},
		{" {\"a\" : { \"b\" : [ 1 , \"}\" ] , \"c\" : null } } ", "a.b"},
		{`{"a":{"":{"":"e"}}}`, "a.."},
		{nestedSecret(40), path(32)},
		{`{"a":{"b":"\xff"},"\xfe":{"\xfd":1}}`, "\ufffd.\ufffd"},
		// Bytes that are not UTF-8 (not escapes) in names and values.
		{"{\"a\":{\"b\":\"\xff\"},\"\xfe\":{\"\xfd\":1}}", "\ufffd.\ufffd"},
		{"{\"a\":{\"b\":\"x\xffy\"}}", "a.b"},
		{"{\"a\":\"x\xffy\"}", "a"},
	} {
		f.Add(seed.secret, seed.key)
	}
	f.Fuzz(func(t *testing.T, secret, key string) {
		s := NewSecret("arn", secret)
		want, wantOK := naiveLookup(s, key)
		if strings.Count(key, ".") >= MaxKeySegments {
			want, wantOK = s.fields[key]
		}
		if raw, ok := s.members[key]; ok {
			// A top-level member, rendered by encoding/json alone.
			want, wantOK = naiveRender(raw)
		}
		for range 2 { // the second lookup is served from the memo
			if got, ok := s.Lookup(key); got != want || ok != wantOK {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", key, got, ok, want, wantOK)
			}
		}
	})
}
