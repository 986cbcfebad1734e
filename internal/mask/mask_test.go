package mask

import (
	"errors"
	"strings"
	"testing"
)

const (
	seedARN  = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"
	seedMask = Prefix + "prod.jira.secret.key:" + seedARN + "}}"
)

var seed = ARN{Partition: "aws", Region: "us-east-1", Account: "137149879143", Name: "prod-jira-credentials-FsmeTs"}

// want is one expected match. For an invalid mask, errAt is the error's
// Offset and errHas a substring of its Reason.
type want struct {
	start, end int
	key        string
	arn        ARN
	errAt      int
	errHas     string
}

// ok is a valid mask spanning all of s starting at start.
func ok(start int, s, key string, arn ARN) want {
	return want{start: start, end: start + len(s), key: key, arn: arn}
}

// bad is an invalid mask.
func bad(start, end, errAt int, errHas string) want {
	return want{start: start, end: end, errAt: errAt, errHas: errHas}
}

// mk builds a mask from its parts.
func mk(key, arn string) string { return Prefix + key + ":" + arn + "}}" }

// arnWith is the seed ARN with one field replaced.
func arnWith(field int, v string) string {
	f := strings.Split(seedARN, ":")
	f[field] = v
	return strings.Join(f, ":")
}

// off is the offset of the field-th ARN field in mk("k", arn).
func off(field int) int {
	f := strings.Split(seedARN, ":")
	return len(Prefix+"k:") + len(strings.Join(f[:field], ":")) + min(field, 1)
}

var findTests = []struct {
	name string
	in   string
	want []want
}{
	// Valid masks.
	{"seed", seedMask, []want{ok(0, seedMask, "prod.jira.secret.key", seed)}},
	{"key with dots", mk("db.primary.password", seedARN), []want{ok(0, mk("db.primary.password", seedARN), "db.primary.password", seed)}},
	{"key with colons", mk("a:b:c", seedARN), []want{ok(0, mk("a:b:c", seedARN), "a:b:c", seed)}},
	{"key with space at slash", mk("my key@x/y", seedARN), []want{ok(0, mk("my key@x/y", seedARN), "my key@x/y", seed)}},
	{"key with brace", mk("a{b", seedARN), []want{ok(0, mk("a{b", seedARN), "a{b", seed)}},
	{"partial ARN", mk("k", arnWith(6, "prod-jira-credentials")),
		[]want{ok(0, mk("k", arnWith(6, "prod-jira-credentials")), "k", ARN{"aws", "us-east-1", "137149879143", "prod-jira-credentials"})}},
	{"aws-cn", mk("k", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s"),
		[]want{ok(0, mk("k", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s"), "k", ARN{"aws-cn", "cn-north-1", "123456789012", "s"})}},
	{"aws-us-gov", mk("k", "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:s"),
		[]want{ok(0, mk("k", "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:s"), "k", ARN{"aws-us-gov", "us-gov-west-1", "123456789012", "s"})}},
	{"aws-iso-b", mk("k", "arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:s"),
		[]want{ok(0, mk("k", "arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:s"), "k", ARN{"aws-iso-b", "us-isob-east-1", "123456789012", "s"})}},
	{"newer region", mk("k", arnWith(3, "ap-southeast-5")), []want{ok(0, mk("k", arnWith(3, "ap-southeast-5")), "k", ARN{"aws", "ap-southeast-5", "137149879143", seed.Name})}},
	{"name charset", mk("k", arnWith(6, "a/b_c+d=e.f@g-h-AbC123")),
		[]want{ok(0, mk("k", arnWith(6, "a/b_c+d=e.f@g-h-AbC123")), "k", ARN{"aws", "us-east-1", "137149879143", "a/b_c+d=e.f@g-h-AbC123"})}},
	{"name of 512", mk("k", arnWith(6, strings.Repeat("n", 512))),
		[]want{ok(0, mk("k", arnWith(6, strings.Repeat("n", 512))), "k", ARN{"aws", "us-east-1", "137149879143", strings.Repeat("n", 512)})}},
	{"surrounding text", "Bearer " + seedMask + " tail", []want{ok(7, seedMask, "prod.jira.secret.key", seed)}},
	{"two masks", seedMask + "&" + mk("k2", seedARN),
		[]want{ok(0, seedMask, "prod.jira.secret.key", seed), ok(len(seedMask)+1, mk("k2", seedARN), "k2", seed)}},
	{"other braces", "{{other}} {{workato:xx:k}} {x}", nil},
	{"other braces then mask", "{{other}}" + seedMask, []want{ok(9, seedMask, "prod.jira.secret.key", seed)}},
	{"prefix inside key", mk(Prefix+"k", seedARN), []want{ok(0, mk(Prefix+"k", seedARN), Prefix+"k", seed)}},
	{"empty", "", nil},
	{"prefix split", "{{workato:s", nil},

	// Errors.
	{"unterminated", Prefix + "k:" + seedARN, []want{bad(0, len(Prefix+"k:"+seedARN), 0, "unterminated")}},
	{"unterminated after text", "x " + Prefix, []want{bad(2, len("x "+Prefix), 2, "unterminated")}},
	{"single brace", Prefix + "k:" + seedARN + "} " + seedMask,
		[]want{bad(0, len(Prefix+"k:"+seedARN)+1, len(Prefix+"k:"+seedARN), `single "}"`),
			ok(len(Prefix+"k:"+seedARN)+2, seedMask, "prod.jira.secret.key", seed)}},
	{"single brace at end", Prefix + "k:" + seedARN + "}", []want{bad(0, len(Prefix+"k:"+seedARN)+1, len(Prefix+"k:"+seedARN), `single "}"`)}},
	{"empty key", Prefix + ":" + seedARN + "}}", []want{bad(0, len(Prefix+":"+seedARN+"}}"), len(Prefix), "missing key")}},
	{"no key", Prefix + seedARN + "}}", []want{bad(0, len(Prefix+seedARN+"}}"), len(Prefix), "missing key")}},
	{"empty body", Prefix + "}}", []want{bad(0, len(Prefix)+2, len(Prefix), "1 colon-separated fields")}},
	{"too few fields", mk("k", "arn:aws:secretsmanager:us-east-1:137149879143:x"), []want{bad(0, len(mk("k", "arn:aws:secretsmanager:us-east-1:137149879143:x")), len(Prefix), "7 colon-separated fields")}},
	{"not arn", mk("k", arnWith(0, "urn")), []want{bad(0, len(mk("k", arnWith(0, "urn"))), off(0), `start with "arn:", found "urn"`)}},
	{"partition azure", mk("k", arnWith(1, "azure")), []want{bad(0, len(mk("k", arnWith(1, "azure"))), off(1), `partition "azure"`)}},
	{"partition aws-", mk("k", arnWith(1, "aws-")), []want{bad(0, len(mk("k", arnWith(1, "aws-"))), off(1), `partition "aws-"`)}},
	{"partition upper", mk("k", arnWith(1, "aws-CN")), []want{bad(0, len(mk("k", arnWith(1, "aws-CN"))), off(1), `partition "aws-CN"`)}},
	{"partition too long", mk("k", arnWith(1, "aws-"+strings.Repeat("x", 40))), []want{bad(0, len(mk("k", arnWith(1, "aws-"+strings.Repeat("x", 40)))), off(1), `partition "aws-xxxx`)}},
	{"service s3", mk("k", arnWith(2, "s3")), []want{bad(0, len(mk("k", arnWith(2, "s3"))), off(2), `service must be "secretsmanager", found "s3"`)}},
	{"region no number", mk("k", arnWith(3, "us-east")), []want{bad(0, len(mk("k", arnWith(3, "us-east"))), off(3), `region "us-east"`)}},
	{"region one word", mk("k", arnWith(3, "us-1")), []want{bad(0, len(mk("k", arnWith(3, "us-1"))), off(3), `region "us-1"`)}},
	{"region upper", mk("k", arnWith(3, "US-east-1")), []want{bad(0, len(mk("k", arnWith(3, "US-east-1"))), off(3), `region "US-east-1"`)}},
	{"region five letters", mk("k", arnWith(3, "useas-east-1")), []want{bad(0, len(mk("k", arnWith(3, "useas-east-1"))), off(3), `region "useas-east-1"`)}},
	{"region empty", mk("k", arnWith(3, "")), []want{bad(0, len(mk("k", arnWith(3, ""))), off(3), `region ""`)}},
	{"region too long", mk("k", arnWith(3, "us-"+strings.Repeat("e", 30)+"-1")), []want{bad(0, len(mk("k", arnWith(3, "us-"+strings.Repeat("e", 30)+"-1"))), off(3), `region "us-eeee`)}},
	{"region four words", mk("k", arnWith(3, "us-a-b-c-d-1")), []want{bad(0, len(mk("k", arnWith(3, "us-a-b-c-d-1"))), off(3), `region "us-a-b-c-d-1"`)}},
	{"region three digits", mk("k", arnWith(3, "us-east-100")), []want{bad(0, len(mk("k", arnWith(3, "us-east-100"))), off(3), `region "us-east-100"`)}},
	{"region of three words", mk("k", arnWith(3, "us-isob-east-1")), []want{ok(0, mk("k", arnWith(3, "us-isob-east-1")), "k", ARN{"aws", "us-isob-east-1", "137149879143", seed.Name})}},
	{"account 11 digits", "Bearer " + mk("k", arnWith(4, "13714987914")), []want{bad(7, 7+len(mk("k", arnWith(4, "13714987914"))), 7+off(4), `account "13714987914" is not 12 digits`)}},
	{"account 13 digits", mk("k", arnWith(4, "1371498791430")), []want{bad(0, len(mk("k", arnWith(4, "1371498791430"))), off(4), `account "1371498791430" is not 12 digits`)}},
	{"account letters", mk("k", arnWith(4, "13714987914x")), []want{bad(0, len(mk("k", arnWith(4, "13714987914x"))), off(4), "not 12 digits")}},
	{"resource parameter", mk("k", arnWith(5, "parameter")), []want{bad(0, len(mk("k", arnWith(5, "parameter"))), off(5), `resource type must be "secret", found "parameter"`)}},
	{"empty name", mk("k", arnWith(6, "")), []want{bad(0, len(mk("k", arnWith(6, ""))), off(6), "missing secret name")}},
	{"name with bang", mk("k", arnWith(6, "ab!c")), []want{bad(0, len(mk("k", arnWith(6, "ab!c"))), off(6)+2, `invalid character '!'`)}},
	{"name with space", mk("k", arnWith(6, "a b")), []want{bad(0, len(mk("k", arnWith(6, "a b"))), off(6)+1, `invalid character ' '`)}},
	{"name with unicode", mk("k", arnWith(6, "aé")), []want{bad(0, len(mk("k", arnWith(6, "aé"))), off(6)+1, `invalid character 'é'`)}},
	{"name over 512", mk("k", arnWith(6, strings.Repeat("n", 513))), []want{bad(0, len(mk("k", arnWith(6, strings.Repeat("n", 513)))), off(6), "513 bytes, longer than 512")}},
	{"long field quoted truncated", mk(strings.Repeat("k", 100), arnWith(1, strings.Repeat("p", 100))),
		[]want{bad(0, len(mk(strings.Repeat("k", 100), arnWith(1, strings.Repeat("p", 100)))), off(1)+99, `"`+strings.Repeat("p", 64)+`"...`)}},
	{"invalid then valid", mk("k", arnWith(2, "s3")) + seedMask,
		[]want{bad(0, len(mk("k", arnWith(2, "s3"))), off(2), "service"), ok(len(mk("k", arnWith(2, "s3"))), seedMask, "prod.jira.secret.key", seed)}},

	// Fixed bugs. (None found by FuzzFind so far; add each one here.)
}

func TestFind(t *testing.T) {
	t.Parallel()
	for _, tt := range findTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Find(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("Find(%.80q) = %d matches %+v, want %d", tt.in, len(got), got, len(tt.want))
			}
			if tt.want == nil && got != nil {
				t.Errorf("Find(%.80q) = %#v, want nil", tt.in, got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Start != w.start || g.End != w.end {
					t.Errorf("match %d: [%d,%d), want [%d,%d)", i, g.Start, g.End, w.start, w.end)
				}
				if w.errHas == "" {
					if g.Err != nil {
						t.Errorf("match %d: unexpected error %v", i, g.Err)
						continue
					}
					if g.Mask.Key != w.key || g.Mask.ARN != w.arn {
						t.Errorf("match %d: mask %+v, want key %q ARN %+v", i, g.Mask, w.key, w.arn)
					}
					continue
				}
				if !errors.Is(g.Err, ErrInvalidMask) {
					t.Fatalf("match %d: error %v does not wrap ErrInvalidMask", i, g.Err)
				}
				var e *Error
				if !errors.As(g.Err, &e) {
					t.Fatalf("match %d: error %T is not *Error", i, g.Err)
				}
				if e.Offset != w.errAt {
					t.Errorf("match %d: error offset %d, want %d (%v)", i, e.Offset, w.errAt, e)
				}
				if !strings.Contains(e.Reason, w.errHas) {
					t.Errorf("match %d: error %q does not contain %q", i, e.Reason, w.errHas)
				}
				if g.Mask != (Mask{}) {
					t.Errorf("match %d: invalid match has mask %+v", i, g.Mask)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range findTests {
		if len(tt.want) != 1 || tt.want[0].start != 0 || tt.want[0].end != len(tt.in) {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse(tt.in)
			w := tt.want[0]
			if w.errHas != "" {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrInvalidMask) || e.Offset != w.errAt {
					t.Fatalf("Parse error %v, want *Error at %d wrapping ErrInvalidMask", err, w.errAt)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Key != w.key || m.ARN != w.arn {
				t.Errorf("Parse = %+v, want key %q ARN %+v", m, w.key, w.arn)
			}
			// Round trip.
			if s := m.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
			if m2, err := Parse(m.String()); err != nil || m2 != m {
				t.Errorf("Parse(String()) = %+v, %v; want %+v", m2, err, m)
			}
		})
	}
}

func TestParseNotOneMask(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in    string
		errAt int
	}{
		{"", 0},
		{"x" + seedMask, 0},
		{seedMask + "x", len(seedMask)},
		{seedMask + seedMask, len(seedMask)},
	} {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalidMask) || e.Offset != tt.errAt {
			t.Errorf("Parse(%.40q) error %v, want *Error at %d", tt.in, err, tt.errAt)
		}
	}
}

func TestParseARN(t *testing.T) {
	t.Parallel()
	a, err := ParseARN(seedARN)
	if err != nil || a != seed || a.String() != seedARN {
		t.Fatalf("ParseARN(seed) = %+v, %v", a, err)
	}
	for _, tt := range []struct {
		in    string
		errAt int
	}{
		{"", 0},
		{"arn:aws:secretsmanager:us-east-1:137149879143:secret", 0},
		{arnWith(4, "1"), len("arn:aws:secretsmanager:us-east-1:")},
		{seedARN + "}", len(seedARN)},
		{seedARN + ":x", len(seedARN)},
	} {
		_, err := ParseARN(tt.in)
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrInvalidMask) || e.Offset != tt.errAt {
			t.Errorf("ParseARN(%q) error %v, want *Error at %d", tt.in, err, tt.errAt)
		}
	}
}

func TestHasSuffix(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"prod-jira-credentials-FsmeTs": true,
		"x-abc123":                     true,
		"-abc123":                      false, // the name before the suffix cannot be empty
		"prod-jira-credentials":        false,
		"prod-FsmeT":                   false,
		"prod_FsmeTs":                  false,
		"prod-Fsme.s":                  false,
		"prod--FsmeTs1":                false,
	} {
		if got := (ARN{Name: name}).HasSuffix(); got != want {
			t.Errorf("HasSuffix(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsSuffix(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"-FsmeTs": true, "-abc123": true,
		"": false, "FsmeTs": false, "-FsmeT": false, "-FsmeTs1": false, "_FsmeTs": false, "-Fsme.s": false, "-Fsmé": false,
	} {
		if got := IsSuffix(s); got != want {
			t.Errorf("IsSuffix(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	_, err := Parse("Bearer " + seedMask)
	if got, want := err.Error(), `invalid mask at offset 0: does not start with "{{workato:sm:"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	m := Find(Prefix + "k:" + seedARN)
	if got, want := m[0].Err.Error(), `invalid mask at offset 0: unterminated mask (no closing "}}")`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestContains(t *testing.T) {
	t.Parallel()
	if !Contains("Bearer "+seedMask) || Contains("{{workato:s}}") {
		t.Error("Contains is wrong")
	}
}

func TestFindNoAlloc(t *testing.T) {
	s := strings.Repeat("{{other}} text ", 70)
	if n := testing.AllocsPerRun(100, func() { _ = Find(s) }); n != 0 {
		t.Errorf("Find without a mask allocates %v times", n)
	}
	buf := make([]Match, 0, 4)
	if n := testing.AllocsPerRun(100, func() { buf = AppendFind(buf[:0], "Bearer "+seedMask) }); n != 0 {
		t.Errorf("AppendFind of a valid mask into a buffer allocates %v times", n)
	}
}

func TestAppendFind(t *testing.T) {
	t.Parallel()
	dst := AppendFind(nil, seedMask)
	dst = AppendFind(dst, "x"+seedMask)
	if len(dst) != 2 || dst[1].Start != 1 {
		t.Fatalf("AppendFind = %+v", dst)
	}
	if got := AppendFind(dst, "none"); len(got) != 2 {
		t.Errorf("AppendFind with no mask changed dst: %+v", got)
	}
}

func FuzzFind(f *testing.F) {
	for _, tt := range findTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Find(s)
		if !Contains(s) {
			if got != nil {
				t.Fatalf("Find without Prefix = %+v, want nil", got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("Find(%q) found nothing though s contains Prefix", s)
		}
		prev := 0
		for i, m := range got {
			if m.Start < prev || m.End <= m.Start || m.End > len(s) {
				t.Fatalf("match %d [%d,%d) out of order or bounds (prev end %d, len %d)", i, m.Start, m.End, prev, len(s))
			}
			prev = m.End
			text := s[m.Start:m.End]
			if !strings.HasPrefix(text, Prefix) {
				t.Fatalf("match %d %q does not start with Prefix", i, text)
			}
			if m.Err != nil {
				var e *Error
				if !errors.As(m.Err, &e) || !errors.Is(m.Err, ErrInvalidMask) {
					t.Fatalf("match %d: error %v is not an *Error wrapping ErrInvalidMask", i, m.Err)
				}
				if e.Offset < m.Start || e.Offset > m.End {
					t.Fatalf("match %d [%d,%d): error offset %d outside it", i, m.Start, m.End, e.Offset)
				}
				if m.Mask != (Mask{}) {
					t.Fatalf("match %d: invalid match has mask %+v", i, m.Mask)
				}
				continue
			}
			p, err := Parse(text)
			if err != nil || p != m.Mask {
				t.Fatalf("match %d: Parse(%q) = %+v, %v; want %+v", i, text, p, err, m.Mask)
			}
			if m.Mask.String() != text {
				t.Fatalf("match %d: String() = %q, want %q", i, m.Mask.String(), text)
			}
		}
		// The text between matches holds no Prefix.
		rest := 0
		for _, m := range got {
			if Contains(s[rest:m.Start]) {
				t.Fatalf("missed a mask in %q", s[rest:m.Start])
			}
			rest = m.End
		}
		if Contains(s[rest:]) {
			t.Fatalf("missed a mask in %q", s[rest:])
		}
	})
}

func BenchmarkFind(b *testing.B) {
	noMask := strings.Repeat(`{"user":"jira-bot","url":"https://x.example/{{id}}"} `, 20)[:1024]
	oneMask := `{"client_secret":"Bearer ` + seedMask + `"}`
	for _, bc := range []struct{ name, in string }{
		{"1KB-no-mask", noMask},
		{"one-mask", oneMask},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				_ = Find(bc.in)
			}
		})
	}
	// Baseline in the same run: the cost Find must stay close to when
	// there is no mask.
	b.Run("baseline-strings.Index", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(noMask)))
		for b.Loop() {
			_ = strings.Index(noMask, Prefix)
		}
	})
}
