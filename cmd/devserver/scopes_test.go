package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/loadreport"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// The scope of events/secrets.json.
const (
	acmeScope = "tenant-acme"
	acmeRole  = "arn:aws:iam::137149879143:role/tenant-acme"
	acmeARN   = "arn:aws:secretsmanager:us-east-1:137149879143:secret:tenant-acme/jira-credentials-Ac3mE9"
	acmeMask  = "{{workato:sm:api.token:" + acmeARN + "}}"
	acmeValue = "acme-demo-token-5e1d"
)

// seedExternalID reads the external id of the seed's role from the seed
// itself, so that the tests can look for it where it must not be.
func seedExternalID(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f smfake.SeedFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Roles {
		if r.ARN == acmeRole && r.ExternalID != nil && len(*r.ExternalID) >= 8 {
			return *r.ExternalID
		}
	}
	t.Fatalf("%s has no role %s with an external id", path, acmeRole)
	return ""
}

// The seed's role becomes a scope the function's own parser accepts: the
// role and its external id, every caller, and exactly the secret only the
// role may read, in both spellings of its ARN.
func TestSeedScopes(t *testing.T) {
	t.Parallel()
	const seed = "../../events/secrets.json"
	scopes, notes, err := seedScopes(seed)
	if err != nil {
		t.Fatal(err)
	}
	if len(scopes) != 1 || len(notes) != 0 {
		t.Fatalf("scopes %+v, notes %q: want the one scope %s", scopes, notes, acmeScope)
	}
	sc := scopes[0]
	if sc.name != acmeScope || sc.roleARN != acmeRole || sc.example != acmeMask ||
		len(sc.secrets) != 1 || sc.secrets[0] != acmeARN {
		t.Errorf("scope %+v", sc)
	}

	doc, err := scopesDocument(scopes)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := config.ParseScopes([]byte(doc), "SCOPES")
	if err != nil {
		t.Fatalf("the function refuses the document: %v", err)
	}
	got, ok := parsed.Get(acmeScope)
	if !ok || parsed.Len() != 1 {
		t.Fatalf("scopes %v", parsed)
	}
	if got.RoleARN != acmeRole || got.ExternalID() != seedExternalID(t, seed) {
		t.Errorf("role %s, external id as in the seed: %v", got.RoleARN, got.ExternalID() == seedExternalID(t, seed))
	}
	if !got.AllowsCaller(testCaller, false) || !got.AllowsCaller("", true) {
		t.Error("the scope does not admit the front's caller and direct invocations")
	}
	partial := strings.TrimSuffix(acmeARN, "-Ac3mE9")
	for arn, want := range map[string]bool{
		acmeARN: true,
		partial: true,
		"arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs": false,
		partial + "-other":         false,
		partial + "x-Ac3mE9":       false,
		strings.ToUpper(acmeARN):   false,
		partial + "-Ac3mE9-Ac3mE9": false,
	} {
		if got.AllowsSecret(arn) != want {
			t.Errorf("AllowsSecret(%s) = %v, want %v", arn, !want, want)
		}
	}
}

func TestSeedScopesNotes(t *testing.T) {
	t.Parallel()
	seed := filepath.Join(t.TempDir(), "seed.json")
	const doc = `{"secrets": [
	  {"arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:plain", "secret_string": "{\"k\":\"v\"}", "readers": ["arn:aws:iam::123456789012:role/team+a"]},
	  {"arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:old", "secret_string": "{\"k\":\"v\"}", "deleted": true, "readers": ["arn:aws:iam::123456789012:role/path/gone"]},
	  {"arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:bin", "secret_binary": "AAE=", "readers": ["arn:aws:iam::123456789012:role/path/b"]}],
	 "roles": [{"arn": "arn:aws:iam::123456789012:role/team+a"},
	           {"arn": "arn:aws:iam::123456789012:role/path/gone"},
	           {"arn": "arn:aws:iam::123456789012:role/path/b"}]}`
	if err := os.WriteFile(seed, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	scopes, notes, err := seedScopes(seed)
	if err != nil {
		t.Fatal(err)
	}
	// A role under a path is named by its last segment; a binary secret
	// is the scope's all the same, but gives no example.
	if len(scopes) != 1 || scopes[0].name != "b" || scopes[0].externalID != nil || scopes[0].example != "" {
		t.Errorf("scopes %+v", scopes)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "team+a is no scope: its name") ||
		!strings.Contains(notes[1], "gone is no scope: no secret lists it") {
		t.Errorf("notes %q", notes)
	}
	if doc, err := scopesDocument(scopes); err != nil || !strings.Contains(doc, `"b":{"role_arn":"arn:aws:iam::123456789012:role/path/b","callers":["*"]`) {
		t.Errorf("document %s (%v): want no external_id member", doc, err)
	}
}

// Against the double the function gets the seed's scopes and STS's
// endpoint; the external id reaches its environment and nothing the
// devserver writes. Scopes the developer set win, and SECRETS_MANAGER=aws
// adds none.
func TestFunctionEnvScopes(t *testing.T) {
	const seed = "../../events/secrets.json"
	extID := seedExternalID(t, seed)
	const smURL = "http://127.0.0.1:4567"

	var logs strings.Builder
	o := options{secrets: seed, secretsManager: smFake, logs: &logs}
	env, real, scoped, err := o.functionEnv(t.Context(), []string{"PATH=/bin"}, smURL)
	if err != nil {
		t.Fatal(err)
	}
	m := envMap(env)
	if real != nil || scoped == nil || scoped.name != acmeScope {
		t.Fatalf("real %v, scoped %+v", real, scoped)
	}
	if m["AWS_ENDPOINT_URL_STS"] != smURL || m["AWS_ENDPOINT_URL_SECRETS_MANAGER"] != smURL {
		t.Errorf("endpoints: STS %q, Secrets Manager %q; want both %s", m["AWS_ENDPOINT_URL_STS"], m["AWS_ENDPOINT_URL_SECRETS_MANAGER"], smURL)
	}
	if !strings.Contains(m["SCOPES"], `"`+acmeScope+`":`) || !strings.Contains(m["SCOPES"], extID) {
		t.Errorf("SCOPES = %s", m["SCOPES"])
	}
	if !strings.Contains(logs.String(), "devserver: scope tenant-acme: the role "+acmeRole+", assumed with an external id (not shown), reads "+acmeARN+"\n") {
		t.Errorf("logs:\n%s", logs.String())
	}
	var usage strings.Builder
	printUsage(&usage, "http://127.0.0.1:3000", "", nil, scoped)
	want := `-d '{"connection":{"client_secret":"` + acmeMask + `"},"scope":"tenant-acme"}'`
	if !strings.Contains(usage.String(), "Resolve in the scope tenant-acme") || !strings.Contains(usage.String(), want) {
		t.Errorf("usage lacks %s:\n%s", want, usage.String())
	}
	if strings.Contains(logs.String()+usage.String(), extID) {
		t.Errorf("the external id is printed:\n%s\n%s", logs.String(), usage.String())
	}

	// The developer's scopes, from the environment or -env-vars.
	envVars := filepath.Join(t.TempDir(), "env.json")
	if err := os.WriteFile(envVars, []byte(`{"ResolverFunction":{"SCOPES_SECRET_ARN":"arn:aws:secretsmanager:us-east-1:137149879143:secret:scopes"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		parent  []string
		envVars string
		key     string
	}{
		{"SCOPES", []string{"SCOPES={}"}, "", "SCOPES"},
		{"empty SCOPES", []string{"SCOPES="}, "", "SCOPES"},
		{"SCOPES_SECRET_ARN in -env-vars", nil, envVars, "SCOPES_SECRET_ARN"},
	} {
		logs.Reset()
		o := options{secrets: seed, secretsManager: smFake, logs: &logs, envVars: tc.envVars, function: "ResolverFunction"}
		env, _, scoped, err := o.functionEnv(t.Context(), tc.parent, smURL)
		if err != nil {
			t.Fatal(err)
		}
		m := envMap(env)
		if scoped != nil || strings.Contains(m["SCOPES"], extID) || (tc.key == "SCOPES_SECRET_ARN" && m["SCOPES"] != "") {
			t.Errorf("%s: scoped %+v, SCOPES %q", tc.name, scoped, m["SCOPES"])
		}
		if !strings.Contains(logs.String(), "devserver: "+tc.key+" is set: the function gets no scopes from "+seed) {
			t.Errorf("%s: logs %q", tc.name, logs.String())
		}
	}

	// SECRETS_MANAGER=aws: no scopes unless set, STS's endpoint as given.
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_STS", "SCOPES"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	logs.Reset()
	o = options{secrets: seed, secretsManager: smAWS, logs: &logs}
	env, real, scoped, err = o.functionEnv(t.Context(), os.Environ(), "")
	if err != nil {
		t.Fatal(err)
	}
	m = envMap(env)
	if _, ok := m["SCOPES"]; ok || scoped != nil || real == nil || m["AWS_ENDPOINT_URL_STS"] != "" {
		t.Errorf("aws: SCOPES %q, scoped %+v, real %v, STS %q", m["SCOPES"], scoped, real, m["AWS_ENDPOINT_URL_STS"])
	}
	t.Setenv("SCOPES", `{"mine":{}}`)
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000")
	env, _, _, err = o.functionEnv(t.Context(), os.Environ(), "")
	if err != nil {
		t.Fatal(err)
	}
	if m := envMap(env); m["SCOPES"] != `{"mine":{}}` || m["AWS_ENDPOINT_URL_STS"] != "http://127.0.0.1:5000" {
		t.Errorf("aws: SCOPES %q, STS %q: want the developer's", m["SCOPES"], m["AWS_ENDPOINT_URL_STS"])
	}
}

// post sends body to the front and returns the status and the answer.
func post(t *testing.T, client *http.Client, url, body string) (int, []byte) {
	t.Helper()
	resp, err := client.Post(url+"/v1/resolve", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// The seed's scope end to end, through the front, the built function and
// the double's STS: the scoped example the devserver prints resolves with
// one AssumeRole, while the same mask without the scope is AccessDenied,
// and the external id shows nowhere.
func TestRunScope(t *testing.T) {
	bootstrap, rie := buildAll(t)
	const seed = "../../events/secrets.json"
	url, _, stdout, logs := startWithLogs(t, options{
		addr:           "127.0.0.1:0",
		secrets:        seed,
		bootstrap:      bootstrap,
		rie:            rie,
		secretsManager: smFake,
		caller:         testCaller,
		statsAddr:      "127.0.0.1:0",
	})
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	_, line, ok := strings.Cut(stdout.String(), "Resolve in the scope "+acmeScope)
	_, line, _ = strings.Cut(line, "\n  curl -s -X POST "+url+"/v1/resolve -H 'content-type: application/json' -d '")
	body, _, _ := strings.Cut(line, "'\n")
	if !ok || body != `{"connection":{"client_secret":"`+acmeMask+`"},"scope":"`+acmeScope+`"}` {
		t.Fatalf("no scoped curl line in:\n%s", stdout)
	}

	for i := range 2 {
		status, raw := post(t, client, url, body)
		var out struct {
			Connection struct {
				ClientSecret string `json:"client_secret"`
			} `json:"connection"`
		}
		if err := json.Unmarshal(raw, &out); status != http.StatusOK || err != nil || out.Connection.ClientSecret != acmeValue {
			t.Fatalf("scoped request %d: %d %s", i+1, status, raw)
		}
	}
	// The function's own role may not read the scope's secret, even now
	// that the scope's read of it is cached.
	status, raw := post(t, client, url, `{"connection":{"client_secret":"`+acmeMask+`"}}`)
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(raw), `"AccessDenied"`) || strings.Contains(string(raw), acmeValue) {
		t.Errorf("unscoped request: %d %s", status, raw)
	}

	_, statsURL, _ := strings.Cut(stdout.String(), "per environment:\n  curl -s ")
	statsURL, _, _ = strings.Cut(statsURL, "\n")
	resp, err := client.Get(statsURL)
	if err != nil {
		t.Fatal(err)
	}
	var st loadreport.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sm := st.SecretsManager; sm == nil || sm.ByOperation[opAssumeRole] != 1 {
		t.Errorf("stats %+v: want one AssumeRole for two scoped requests", st.SecretsManager)
	}

	extID := seedExternalID(t, seed)
	if strings.Contains(stdout.String(), extID) {
		t.Errorf("stdout shows the external id:\n%s", stdout)
	}
	// The devserver's lines, the emulator's and the function's.
	if !strings.Contains(logs.String(), "devserver: scope "+acmeScope+": ") {
		t.Errorf("no line of the scope in the logs:\n%s", logs)
	}
	if strings.Contains(logs.String(), extID) {
		t.Errorf("the logs show the external id:\n%s", logs)
	}
}
