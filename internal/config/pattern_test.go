package config_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/config"
)

const prodDB = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db-FsmeTs"

var matchTests = []struct {
	pattern, s string
	want       bool
}{
	{"", "", true},
	{"", "a", false},
	{"*", "", true},
	{"*", prodDB, true},
	{"?", "", false},
	{"?", "a", true},
	{"?", "ab", false},

	// exact
	{prodDB, prodDB, true},
	{prodDB, prodDB + "x", false},
	{prodDB, prodDB[:len(prodDB)-1], false},
	{"arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db", prodDB, false},

	// '*' runs across colons and slashes
	{"arn:aws:secretsmanager:*", prodDB, true},
	{"arn:*:secret:prod/*", prodDB, true},
	{"arn:aws:secretsmanager:*:137149879143:secret:*", prodDB, true},
	{"arn:aws:secretsmanager:*:999999999999:secret:*", prodDB, false},
	{"arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db-*", prodDB, true},
	{"arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db*", prodDB, true},
	{"arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db-*", "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db", false},
	{"*prod/db-FsmeTs", prodDB, true},
	{"*:secret:*", prodDB, true},
	{"*:secret:staging/*", prodDB, false},

	// '?' is one character, never none
	{"arn:aws:secretsmanager:us-east-?:137149879143:secret:prod/db-??????", prodDB, true},
	{"arn:aws:secretsmanager:us-east-?:137149879143:secret:prod/db-?????", prodDB, false},
	{"arn:aws:secretsmanager:us-east-??:137149879143:secret:prod/db-FsmeTs", prodDB, false},
	{"arn:aws:iam::?:role/x", "arn:aws:iam::1:role/x", true},
	{"arn:aws:iam::?:role/x", "arn:aws:iam:::role/x", false},

	// several stars
	{"a*b*c", "abc", true},
	{"a*b*c", "aXbYc", true},
	{"a*b*c", "aXcYb", false},
	{"a*b*c", "abcabc", true},
	{"a*b*c", "abcab", false},
	{"**", "x", true},
	{"a**b", "ab", true},
	{"*?*", "", false},
	{"*?*", "x", true},
	{"*a*a*", "aa", true},
	{"*a*a*", "a", false},
	{"a*", "a", true},
	{"*a", "ba", true},
	{"*a", "ab", false},

	// case-sensitive
	{"arn:aws:secretsmanager:*:secret:Prod/*", prodDB, false},
	{"ARN:aws:secretsmanager:*", prodDB, false},
	{"arn:aws:secretsmanager:*:secret:prod/db-fsmets", prodDB, false},

	// a literal '*' or '?' in the string is just a character
	{"a?c", "a*c", true},
	{"a*c", "a*c", true},
	{"a*c", "a?c", true},

	// fixed bugs
	// A '*' in the pattern met by a '*' in the string was taken as a
	// literal match and never as a wildcard, so it could not match more.
	{"a*c", "a*bc", true},
	{"*x", "*ax", true},
	{"arn:*:secret:*", "arn:*:secret:*", true},
}

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	for _, tt := range matchTests {
		if got := config.Pattern(tt.pattern).Match(tt.s); got != tt.want {
			t.Errorf("Pattern(%q).Match(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// Patterns come from configuration but strings from callers: a pattern
// whose naive backtracking is exponential must still answer at once. A
// matcher that tried every split of 2^16 characters among eight stars would
// not finish.
func TestPatternMatchPathological(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 1<<16)
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"a*a*a*a*b", long, false},
		{"a*a*a*a*a*a*a*a*b", long, false},
		{"a*a*a*a*a*a*a*a*a", long, true},
		{"*a*a*a*a*a*a*a*a*", long + "b", true},
		{strings.Repeat("*a", 64) + "b", long, false},
		{strings.Repeat("?", 1<<16), long, true},
		{strings.Repeat("?", 1<<16) + "?", long, false},
	}
	for _, tt := range tests {
		if got := config.Pattern(tt.pattern).Match(tt.s); got != tt.want {
			t.Errorf("Pattern(%.20q...).Match(%.20q...) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestPatternsMatch(t *testing.T) {
	t.Parallel()
	ps := config.Patterns{"arn:aws:secretsmanager:eu-west-1:*", "arn:aws:secretsmanager:*:137149879143:secret:prod/*"}
	if !ps.Match(prodDB) {
		t.Error("second pattern did not match")
	}
	if !ps.Match("arn:aws:secretsmanager:eu-west-1:1:secret:x") {
		t.Error("first pattern did not match")
	}
	if ps.Match("arn:aws:secretsmanager:us-east-1:137149879143:secret:staging/db") {
		t.Error("neither pattern should match")
	}
	if (config.Patterns{}).Match(prodDB) || config.Patterns(nil).Match("") {
		t.Error("no patterns matched something")
	}
}

// wildcardRegexp is the reference meaning of a pattern: '*' any run of
// bytes, '?' one byte, anything else itself.
func wildcardRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func FuzzPatternMatch(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.pattern, tt.s)
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// The reference works on runes; keep to ASCII, as ARNs are.
		for _, str := range []string{pattern, s} {
			for i := range len(str) {
				if str[i] >= 0x80 {
					t.Skip()
				}
			}
		}
		if len(pattern) > 200 {
			t.Skip() // keep the regexp small
		}
		want := wildcardRegexp(pattern).MatchString(s)
		if got := config.Pattern(pattern).Match(s); got != want {
			t.Errorf("Pattern(%q).Match(%q) = %v, want %v", pattern, s, got, want)
		}
	})
}

func BenchmarkPatternMatchPathological(b *testing.B) {
	long := strings.Repeat("a", 1<<12)
	p := config.Pattern("a*a*a*a*b")
	b.ReportAllocs()
	for b.Loop() {
		if p.Match(long) {
			b.Fatal("matched")
		}
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	const (
		app    = "arn:aws:iam::137149879143:role/app-reader"
		ops    = "arn:aws:sts::137149879143:assumed-role/ops/alice"
		prod   = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod/db-FsmeTs"
		stage  = "arn:aws:secretsmanager:us-east-1:137149879143:secret:staging/db-AbC123"
		shared = "arn:aws:secretsmanager:us-east-1:137149879143:secret:shared/token-XyZ789"
		other  = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:prod/db-QwErTy"
		dev    = "arn:aws:secretsmanager:us-east-1:137149879143:secret:dev/db-DeV001"
	)
	allowlist := config.Patterns{"arn:aws:secretsmanager:us-east-1:137149879143:secret:*"}
	rules := []config.CallerRule{
		{Callers: config.Patterns{"arn:aws:iam::137149879143:role/app-*"}, Secrets: config.Patterns{"*:secret:staging/*", "*:secret:prod/*"}},
		{Callers: config.Patterns{"arn:aws:sts::137149879143:assumed-role/ops/*"}, Secrets: config.Patterns{"*"}},
		{Callers: config.Patterns{"*"}, Secrets: config.Patterns{"*:secret:shared/*"}},
	}
	noStar := []config.CallerRule{
		{Callers: config.Patterns{"arn:*"}, Secrets: config.Patterns{"*"}},
		{Callers: config.Patterns{"arn:aws:iam::137149879143:role/app-*"}, Secrets: config.Patterns{"*"}},
	}
	tests := []struct {
		name           string
		cfg            config.Config
		caller, secret string
		want           bool
	}{
		{name: "no limits", cfg: config.Config{}, caller: app, secret: other, want: true},
		{name: "no limits, direct", cfg: config.Config{}, caller: "", secret: other, want: true},

		{name: "allowlist in", cfg: config.Config{Allowlist: allowlist}, caller: app, secret: prod, want: true},
		{name: "allowlist out", cfg: config.Config{Allowlist: allowlist}, caller: app, secret: other, want: false},
		{name: "allowlist, direct", cfg: config.Config{Allowlist: allowlist}, caller: "", secret: prod, want: true},
		{name: "empty allowlist allows nothing", cfg: config.Config{Allowlist: config.Patterns{}}, caller: app, secret: prod, want: false},

		{name: "rule: caller and secret match", cfg: config.Config{CallerRules: rules}, caller: app, secret: stage, want: true},
		{name: "rule: caller matches, secret does not", cfg: config.Config{CallerRules: rules}, caller: app, secret: dev, want: false},
		{name: "rule: secret of another rule", cfg: config.Config{CallerRules: rules}, caller: ops, secret: other, want: true},
		{name: "rule: unknown caller gets only the star rule", cfg: config.Config{CallerRules: rules}, caller: "arn:aws:iam::1:role/x", secret: shared, want: true},
		{name: "rule: unknown caller, other secret", cfg: config.Config{CallerRules: rules}, caller: "arn:aws:iam::1:role/x", secret: prod, want: false},
		{name: "rule: caller is case-sensitive", cfg: config.Config{CallerRules: rules}, caller: "arn:aws:iam::137149879143:role/App-reader", secret: prod, want: false},
		{name: "no rules allow nothing", cfg: config.Config{CallerRules: []config.CallerRule{}}, caller: app, secret: prod, want: false},

		{name: "direct matches a star rule", cfg: config.Config{CallerRules: rules}, caller: "", secret: shared, want: true},
		{name: "direct, secret outside the star rule", cfg: config.Config{CallerRules: rules}, caller: "", secret: prod, want: false},
		{name: "direct matches no pattern but a bare star", cfg: config.Config{CallerRules: noStar}, caller: "", secret: prod, want: false},
		{name: "caller of a rule without star", cfg: config.Config{CallerRules: noStar}, caller: app, secret: prod, want: true},

		{name: "both pass", cfg: config.Config{Allowlist: allowlist, CallerRules: rules}, caller: ops, secret: prod, want: true},
		{name: "rule passes, allowlist fails", cfg: config.Config{Allowlist: allowlist, CallerRules: rules}, caller: ops, secret: other, want: false},
		{name: "allowlist passes, rule fails", cfg: config.Config{Allowlist: allowlist, CallerRules: rules}, caller: app, secret: dev, want: false},
		{name: "direct: allowlist passes, rule fails", cfg: config.Config{Allowlist: allowlist, CallerRules: rules}, caller: "", secret: prod, want: false},
		{name: "direct: both pass", cfg: config.Config{Allowlist: allowlist, CallerRules: rules}, caller: "", secret: shared, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cfg.Allowed(tt.caller, tt.secret); got != tt.want {
				t.Errorf("Allowed(%q, %q) = %v, want %v", tt.caller, tt.secret, got, tt.want)
			}
		})
	}
}

// Rules loaded from the environment behave as the ones built by hand.
func TestAllowedFromEnv(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		"SECRET_ARN_ALLOWLIST": "arn:aws:secretsmanager:us-east-1:137149879143:secret:*",
		"CALLER_RULES":         `[{"callers":["*"],"secrets":["arn:*:secret:shared/*"]},{"callers":["arn:aws:iam::137149879143:role/app"],"secrets":["*"]}]`,
	}), testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	const shared = "arn:aws:secretsmanager:us-east-1:137149879143:secret:shared/x"
	for _, tt := range []struct {
		caller, secret string
		want           bool
	}{
		{"", shared, true},
		{"", prodDB, false},
		{"arn:aws:iam::137149879143:role/app", prodDB, true},
		{"arn:aws:iam::137149879143:role/app", "arn:aws:secretsmanager:eu-west-1:137149879143:secret:x", false},
	} {
		if got := c.Allowed(tt.caller, tt.secret); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.caller, tt.secret, got, tt.want)
		}
	}
}
