package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/config"
)

const (
	tenantRole = "arn:aws:iam::210987654321:role/maskresolver-reader"
	tenantSecs = "arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"
	appCaller  = "arn:aws:iam::137149879143:role/app"
)

// scopeDoc is a one-scope document "s" whose scope object is body.
func scopeDoc(body string) string { return `{"s": {` + body + `}}` }

// okBody is a valid scope object's members, without external_id.
const okBody = `"role_arn": "` + tenantRole + `", "callers": ["*"], "secrets": ["` + tenantSecs + `"]`

func TestParseScopes(t *testing.T) {
	t.Parallel()
	doc := `{
		"tenant-a": {
			"role_arn": "` + tenantRole + `",
			"external_id": "ext-Id_1+=,.@:/-",
			"callers": ["` + appCaller + `", " ", "*"],
			"secrets": ["` + tenantSecs + `"]
		},
		"B.2_x": {"secrets": ["*"], "callers": ["arn:aws:sts::137149879143:assumed-role/ops/*"],
			"role_arn": "arn:aws-cn:iam::000000000001:role/team/sub/Reader+=,.@_-"}
	}`
	ss, err := config.ParseScopes([]byte(doc), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	if got := ss.Names(); !reflect.DeepEqual(got, []string{"B.2_x", "tenant-a"}) || ss.Len() != 2 {
		t.Errorf("Names = %q, Len = %d", got, ss.Len())
	}
	a, ok := ss.Get("tenant-a")
	if !ok {
		t.Fatal("no tenant-a")
	}
	if a.Name != "tenant-a" || a.RoleARN != tenantRole || a.ExternalID() != "ext-Id_1+=,.@:/-" ||
		!reflect.DeepEqual(a.Callers, config.Patterns{appCaller, "*"}) ||
		!reflect.DeepEqual(a.Secrets, config.Patterns{tenantSecs}) {
		t.Errorf("tenant-a = %+v (external id %q)", a, a.ExternalID())
	}
	b, _ := ss.Get("B.2_x")
	if b.RoleARN != "arn:aws-cn:iam::000000000001:role/team/sub/Reader+=,.@_-" || b.ExternalID() != "" {
		t.Errorf("B.2_x = %+v", b)
	}
	if _, ok := ss.Get("tenant-b"); ok {
		t.Error("Get found a scope never defined")
	}
	if _, ok := ss.Get("Tenant-a"); ok {
		t.Error("names must match case-sensitively")
	}

	for _, doc := range []string{`{}`, " {\n} \n"} {
		ss, err := config.ParseScopes([]byte(doc), "SCOPES")
		if err != nil || ss.Len() != 0 {
			t.Errorf("%q: %v, %d scopes; want none and no error", doc, err, ss.Len())
		}
	}
	var zero config.Scopes
	if _, ok := zero.Get("s"); ok || zero.Len() != 0 {
		t.Error("the zero Scopes has a scope")
	}

	long := map[string]string{
		"64-character name":     `{"` + strings.Repeat("n", 64) + `": {` + okBody + `}}`,
		"1224-byte external id": scopeDoc(okBody + `, "external_id": "` + strings.Repeat("x", 1224) + `"`),
		"2-byte external id":    scopeDoc(okBody + `, "external_id": "xy"`),
		"64-character role":     scopeDoc(`"role_arn": "arn:aws:iam::210987654321:role/` + strings.Repeat("r", 64) + `", "callers": ["*"], "secrets": ["*"]`),
		"512-byte path":         scopeDoc(`"role_arn": "arn:aws:iam::210987654321:role/` + strings.Repeat("p", 510) + `/r", "callers": ["*"], "secrets": ["*"]`),
	}
	for name, doc := range long {
		if _, err := config.ParseScopes([]byte(doc), "SCOPES"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseScopesErrors(t *testing.T) {
	t.Parallel()
	role := func(arn string) string {
		return scopeDoc(`"role_arn": "` + arn + `", "callers": ["*"], "secrets": ["*"]`)
	}
	tests := []struct {
		name, doc string
		wantIn    []string // besides the variable, which every error starts with
	}{
		{"empty", ``, []string{"not valid JSON"}},
		{"not JSON", `{"s": {`, []string{"not valid JSON"}},
		{"a list", `[]`, []string{"JSON object of scopes"}},
		{"null", `null`, []string{"JSON object of scopes"}},
		{"a string", `"s"`, []string{"JSON object of scopes"}},
		{"trailing data", `{} {}`, []string{"trailing data"}},
		{"trailing garbage", `{}x`, []string{"trailing data"}},
		{"trailing comma", `{"s": {` + okBody + `},}`, []string{"not valid JSON"}},
		{"empty name", `{"": {` + okBody + `}}`, []string{"scope 1 (by position)", "1-64 characters"}},
		{"65-character name", `{"a": {` + okBody + `}, "` + strings.Repeat("n", 65) + `": {}}`, []string{"scope 2 (by position)", "1-64"}},
		{"name with a slash", `{"a/b": {` + okBody + `}}`, []string{"scope 1 (by position)"}},
		{"name with a space", `{"a b": {` + okBody + `}}`, []string{"scope 1 (by position)"}},
		{"name defined twice", `{"s": {` + okBody + `}, "s": {` + okBody + `}}`, []string{`scope "s"`, "defined twice"}},
		{"scope not an object", `{"s": []}`, []string{`scope "s"`, "an object with role_arn"}},
		{"scope null", `{"s": null}`, []string{`scope "s"`, "an object"}},
		{"external-id typo", scopeDoc(okBody + `, "external-id": "abc"`), []string{`scope "s"`, "member 4 is not one of role_arn, external_id, callers, secrets"}},
		{"caller typo", scopeDoc(`"role_arn": "` + tenantRole + `", "caller": ["*"], "secrets": ["*"]`), []string{`scope "s"`, "member 2 is not"}},
		{"role_arn twice", scopeDoc(okBody + `, "role_arn": "` + tenantRole + `"`), []string{`scope "s"`, "role_arn given twice"}},
		{"external_id twice", scopeDoc(okBody + `, "external_id": "ab", "external_id": "ab"`), []string{"external_id given twice"}},
		{"no role_arn", scopeDoc(`"callers": ["*"], "secrets": ["*"]`), []string{`scope "s"`, "role_arn is required"}},
		{"role_arn a number", scopeDoc(`"role_arn": 1, "callers": ["*"], "secrets": ["*"]`), []string{"role_arn must be a string"}},
		{"role_arn empty", role(``), []string{"role_arn is not an IAM role ARN", `does not start with "arn:"`}},
		{"role_arn a name", role(`maskresolver-reader`), []string{`does not start with "arn:"`}},
		{"role_arn partition", role(`arn:amazon:iam::210987654321:role/r`), []string{"the partition"}},
		{"role_arn service", role(`arn:aws:sts::210987654321:role/r`), []string{"the service"}},
		{"role_arn region", role(`arn:aws:iam:us-east-1:210987654321:role/r`), []string{"the service"}},
		{"role_arn account short", role(`arn:aws:iam::21098765432:role/r`), []string{"the account"}},
		{"role_arn account letters", role(`arn:aws:iam::21098765432x:role/r`), []string{"the account"}},
		{"role_arn of a user", role(`arn:aws:iam::210987654321:user/r`), []string{`the resource is not "role/"`}},
		{"role_arn without name", role(`arn:aws:iam::210987654321:role/`), []string{"the role name is not 1-64"}},
		{"role_arn path without name", role(`arn:aws:iam::210987654321:role/team/`), []string{"the role name is not 1-64"}},
		{"role_arn name 65", role(`arn:aws:iam::210987654321:role/` + strings.Repeat("r", 65)), []string{"the role name is not 1-64"}},
		{"role_arn name character", role(`arn:aws:iam::210987654321:role/a*b`), []string{"the role name has a character"}},
		{"role_arn path space", role(`arn:aws:iam::210987654321:role/a b/r`), []string{"the path has a character"}},
		{"role_arn path 513", role(`arn:aws:iam::210987654321:role/` + strings.Repeat("p", 511) + `/r`), []string{"the path is longer than 512"}},
		{"role_arn too long", role(`arn:aws:iam::210987654321:role/` + strings.Repeat("p/", 1100) + `r`), []string{"longer than 2048"}},
		{"external_id short", scopeDoc(okBody + `, "external_id": "a"`), []string{`scope "s"`, "external_id must be 2-1224 characters"}},
		{"external_id empty", scopeDoc(okBody + `, "external_id": ""`), []string{"external_id must be 2-1224", "omit it for none"}},
		{"external_id 1225", scopeDoc(okBody + `, "external_id": "` + strings.Repeat("x", 1225) + `"`), []string{"external_id must be 2-1224"}},
		{"external_id space", scopeDoc(okBody + `, "external_id": "a b"`), []string{"external_id must be 2-1224"}},
		{"external_id null", scopeDoc(okBody + `, "external_id": null`), []string{"external_id must be a string"}},
		{"external_id number", scopeDoc(okBody + `, "external_id": 12345678`), []string{"external_id must be a string"}},
		{"no callers", scopeDoc(`"role_arn": "` + tenantRole + `", "secrets": ["*"]`), []string{`scope "s"`, "callers must hold at least one pattern"}},
		{"callers empty", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": [], "secrets": ["*"]`), []string{"callers must hold at least one"}},
		{"callers blank", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": [" ", ""], "secrets": ["*"]`), []string{"callers must hold at least one"}},
		{"callers a string", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": "*", "secrets": ["*"]`), []string{"callers must be a list"}},
		{"callers null", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": null, "secrets": ["*"]`), []string{"callers must be a list"}},
		{"caller a number", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*", 1], "secrets": ["*"]`), []string{"callers[1] must be a string"}},
		{"caller not an ARN", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*", "my-role"], "secrets": ["*"]`), []string{`callers[1] must be an ARN pattern starting with "arn:" or "*"`}},
		{"no secrets", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*"]`), []string{"secrets must hold at least one pattern"}},
		{"secrets empty", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*"], "secrets": []`), []string{"secrets must hold at least one"}},
		{"secret not an ARN", scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*"], "secrets": ["prod/db"]`), []string{"secrets[0] must be an ARN pattern"}},
		{"syntax error in a scope", `{"s": {"role_arn" "x"}}`, []string{`scope "s"`, "not valid JSON (at byte"}},
		{"second scope bad", `{"a": {` + okBody + `}, "b": {"role_arn": "x"}}`, []string{`scope "b"`, "role_arn is not"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, source := range []string{"SCOPES", "SCOPES_SECRET_ARN"} {
				ss, err := config.ParseScopes([]byte(tt.doc), source)
				if err == nil {
					t.Fatalf("no error; %v", ss)
				}
				if !errors.Is(err, config.ErrInvalidScopes) {
					t.Errorf("%v does not wrap ErrInvalidScopes", err)
				}
				if !strings.HasPrefix(err.Error(), source+": ") {
					t.Errorf("error %q does not start with %s", err, source)
				}
				for _, s := range tt.wantIn {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				if !reflect.DeepEqual(ss, config.Scopes{}) {
					t.Errorf("a failed parse returned %v", ss)
				}
			}
		})
	}
}

func TestScopeAllows(t *testing.T) {
	t.Parallel()
	ss, err := config.ParseScopes([]byte(`{
		"open":   {"role_arn": "`+tenantRole+`", "callers": ["*"], "secrets": ["`+tenantSecs+`"]},
		"app":    {"role_arn": "`+tenantRole+`", "callers": ["`+appCaller+`", "arn:aws:sts::137149879143:assumed-role/ops/*"], "secrets": ["*"]}
	}`), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	open, _ := ss.Get("open")
	app, _ := ss.Get("app")
	const ops = "arn:aws:sts::137149879143:assumed-role/ops/alice"
	for _, tt := range []struct {
		scope     *config.Scope
		principal string
		direct    bool
		want      bool
	}{
		{open, "", true, true},
		{open, appCaller, false, true},
		{app, "", true, false}, // a direct invocation has no caller: only "*" admits it
		{app, appCaller, false, true},
		{app, ops, false, true},
		{app, appCaller + "2", false, false},
		{app, "arn:aws:iam::137149879143:role/other", false, false},
		{app, "", false, false},
	} {
		if got := tt.scope.AllowsCaller(tt.principal, tt.direct); got != tt.want {
			t.Errorf("%s.AllowsCaller(%q, %v) = %v, want %v", tt.scope.Name, tt.principal, tt.direct, got, tt.want)
		}
	}
	for _, tt := range []struct {
		scope *config.Scope
		arn   string
		want  bool
	}{
		{open, "arn:aws:secretsmanager:eu-west-1:210987654321:secret:tenant-a/db-AbCdEf", true},
		{open, "arn:aws:secretsmanager:eu-west-1:210987654321:secret:tenant-b/db-AbCdEf", false},
		{open, "arn:aws:secretsmanager:eu-west-1:137149879143:secret:tenant-a/db-AbCdEf", false},
		{app, "arn:aws:secretsmanager:eu-west-1:137149879143:secret:anything", true},
	} {
		if got := tt.scope.AllowsSecret(tt.arn); got != tt.want {
			t.Errorf("%s.AllowsSecret(%q) = %v, want %v", tt.scope.Name, tt.arn, got, tt.want)
		}
	}
}

func TestScopeFingerprint(t *testing.T) {
	t.Parallel()
	const ext = "FingerprintCanary-7f3a"
	parse := func(doc string) *config.Scope {
		t.Helper()
		ss, err := config.ParseScopes([]byte(doc), "SCOPES")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := ss.Get("s")
		return s
	}
	base := parse(scopeDoc(okBody + `, "external_id": "` + ext + `"`))
	again := parse(scopeDoc(`"external_id": "` + ext + `", ` + okBody))
	otherExt := parse(scopeDoc(okBody + `, "external_id": "` + ext + `x"`))
	noExt := parse(scopeDoc(okBody))
	otherRole := parse(scopeDoc(`"role_arn": "` + tenantRole + `2", "callers": ["*"], "secrets": ["*"], "external_id": "` + ext + `"`))

	if base.Fingerprint() != again.Fingerprint() || base.PartitionKey() != again.PartitionKey() {
		t.Error("the same role and external id, read again, changed the fingerprint")
	}
	for name, s := range map[string]*config.Scope{"external id": otherExt, "no external id": noExt, "role": otherRole} {
		if s.Fingerprint() == base.Fingerprint() || s.PartitionKey() == base.PartitionKey() {
			t.Errorf("a changed %s kept the fingerprint", name)
		}
	}
	for _, s := range []*config.Scope{base, noExt, otherRole} {
		fp, key := s.Fingerprint(), s.PartitionKey()
		if len(fp) != 32 || strings.Contains(fp, ext) || strings.Contains(fp, "maskresolver-reader") {
			t.Errorf("Fingerprint = %q", fp)
		}
		if key != "s/"+fp {
			t.Errorf("PartitionKey = %q, want the name and the fingerprint", key)
		}
	}

	// Two scopes sharing a role and external id read separately.
	ss, err := config.ParseScopes([]byte(`{"a": {`+okBody+`}, "b": {`+okBody+`}}`), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ss.Get("a")
	b, _ := ss.Get("b")
	if a.Fingerprint() != b.Fingerprint() || a.PartitionKey() == b.PartitionKey() || a.PartitionKey() == "" {
		t.Errorf("shared role: fingerprints %q %q, keys %q %q", a.Fingerprint(), b.Fingerprint(), a.PartitionKey(), b.PartitionKey())
	}
	// A Scope built by hand (a test double) gets the same fingerprint.
	hand := config.Scope{Name: "a", RoleARN: tenantRole}
	if hand.Fingerprint() != a.Fingerprint() {
		t.Error("a hand-built scope's fingerprint differs from the parsed one's")
	}
}

func TestLoadScopes(t *testing.T) {
	t.Parallel()
	const (
		secretARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:maskresolver/scopes-AbCdEf"
		partial   = "arn:aws:secretsmanager:us-east-1:137149879143:secret:maskresolver/scopes"
	)
	doc := scopeDoc(okBody + `, "external_id": "` + canaryExt + `"`)
	want, err := config.ParseScopes([]byte(doc), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		vars       map[string]string
		wantScopes config.Scopes
		wantARN    string
	}{
		{"neither", nil, config.Scopes{}, ""},
		{"blank", map[string]string{"SCOPES": " ", "SCOPES_SECRET_ARN": ""}, config.Scopes{}, ""},
		{"inline", map[string]string{"SCOPES": "\n" + doc + "\n"}, want, ""},
		{"inline, none", map[string]string{"SCOPES": "{}"}, config.Scopes{}, ""},
		{"secret", map[string]string{"SCOPES_SECRET_ARN": secretARN}, config.Scopes{}, secretARN},
		{"secret, partial ARN", map[string]string{"SCOPES_SECRET_ARN": " " + partial}, config.Scopes{}, partial},
	} {
		c, err := config.Load(env(tt.vars), testDefaults)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Scopes.Len() != tt.wantScopes.Len() || c.ScopesSecretARN != tt.wantARN {
			t.Errorf("%s: Scopes %v, ScopesSecretARN %q", tt.name, c.Scopes, c.ScopesSecretARN)
		}
		if tt.wantScopes.Len() > 0 && !config.SameScopesForTest(c.Scopes, tt.wantScopes) {
			t.Errorf("%s: Scopes = %#v, want %#v", tt.name, c.Scopes, tt.wantScopes)
		}
	}
	if c, _ := config.Load(env(map[string]string{"SCOPES": doc}), testDefaults); func() bool {
		s, ok := c.Scopes.Get("s")
		return !ok || s.ExternalID() != canaryExt
	}() {
		t.Error("Load lost the external id")
	}

	for _, tt := range []struct {
		name   string
		vars   map[string]string
		wantIn []string
	}{
		{"both", map[string]string{"SCOPES": "{}", "SCOPES_SECRET_ARN": secretARN},
			[]string{"SCOPES and SCOPES_SECRET_ARN are both set"}},
		{"both, each invalid", map[string]string{"SCOPES": "[]", "SCOPES_SECRET_ARN": "scopes"},
			[]string{"SCOPES: must be a JSON object", `SCOPES_SECRET_ARN="scopes": not a secret ARN`, "both set"}},
		{"secret ARN of a role", map[string]string{"SCOPES_SECRET_ARN": tenantRole},
			[]string{"SCOPES_SECRET_ARN=", "not a secret ARN"}},
		{"secret name", map[string]string{"SCOPES_SECRET_ARN": "maskresolver/scopes"},
			[]string{"SCOPES_SECRET_ARN=", "not a secret ARN"}},
		{"invalid scope", map[string]string{"SCOPES": scopeDoc(`"role_arn": "x"`)},
			[]string{`invalid configuration: SCOPES: scope "s": role_arn is not an IAM role ARN`}},
		{"with other errors", map[string]string{"SCOPES": "{", "CACHE_TTL": "banana"},
			[]string{"CACHE_TTL=", "\nSCOPES: not valid JSON"}},
	} {
		c, err := config.Load(env(tt.vars), testDefaults)
		if err == nil {
			t.Errorf("%s: no error; %+v", tt.name, c)
			continue
		}
		for _, s := range tt.wantIn {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, s)
			}
		}
	}
}
