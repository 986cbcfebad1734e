package resolve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

const (
	jiraARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"
	sfARN   = "arn:aws:secretsmanager:eu-west-1:137149879143:secret:prod/salesforce-a1B2c3"
	binARN  = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-binary-cert-Q1w2E3"
	textARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-plain-text-Z9y8X7"
	goneARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:missing-AbCdEf"
	slowARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:throttled-AbCdEf"
)

// memStore is an in-memory Store that counts what it is asked.
type memStore struct {
	mu      sync.Mutex
	secrets map[string]*secrets.Secret
	errs    map[string]*secrets.Error
	asked   [][]string
	fresh   []secrets.Freshness
}

func newMemStore() *memStore {
	return &memStore{
		secrets: map[string]*secrets.Secret{
			jiraARN: secrets.NewSecret(jiraARN, `{"prod.jira.secret.key":"jira-demo-3f9c2a","username":"svc-jira","api":{"token":"jira-api-demo-71b0"},"port":8443,"big":12345678901234567890,"ssl":{"z":1, "a":12345678901234567890},"quote":"a\"b\\c\n\u2028","mask":"{{workato:sm:username:`+jiraARN+`}}"}`),
			sfARN:   secrets.NewSecret(sfARN, `{"db.primary":"exact-key-wins","db":{"primary":{"password":"sf-demo-db-pass"}}}`),
			binARN:  {ARN: binARN, Kind: secrets.Binary},
			textARN: secrets.NewSecret(textARN, "not json at all"),
		},
		errs: map[string]*secrets.Error{
			goneARN: {Code: answer.SecretNotFound, ARN: goneARN},
			slowARN: {Code: answer.Throttled, ARN: slowARN, Transient: true},
		},
	}
}

func (s *memStore) Get(_ context.Context, arns []string, f secrets.Freshness) ([]secrets.Result, secrets.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, append([]string(nil), arns...))
	s.fresh = append(s.fresh, f)
	out := make([]secrets.Result, len(arns))
	for i, a := range arns {
		if e, ok := s.errs[a]; ok {
			out[i].Err = e
			continue
		}
		if sec, ok := s.secrets[a]; ok {
			out[i].Secret = sec
			continue
		}
		out[i].Err = &secrets.Error{Code: answer.SecretNotFound, ARN: a}
	}
	return out, secrets.Stats{Misses: len(arns), Calls: len(arns)}
}

func m(key, arn string) string { return "{{workato:sm:" + key + ":" + arn + "}}" }

// body builds a request whose connection is the JSON text conn.
func body(conn string) []byte { return []byte(`{"connection":` + conn + `}`) }

func TestResolveSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		conn string // the connection as sent
		want string // the connection as returned, byte for byte
	}{
		{"seed example",
			`{"client_secret": "` + m("prod.jira.secret.key", jiraARN) + `"}`,
			`{"client_secret": "jira-demo-3f9c2a"}`},
		{"surrounding text and two masks",
			`{"h":"Bearer ` + m("api.token", jiraARN) + ` / ` + m("username", jiraARN) + `!"}`,
			`{"h":"Bearer jira-api-demo-71b0 / svc-jira!"}`},
		{"order, numbers, unicode and escapes kept",
			`{"z":1, "n": 12345678901234567890, "f": 1.50e+3, "u":"\u00e9 \ud83d\ude00 é", "a":[true,null,"x\"y"], "s":"` + m("username", jiraARN) + `"}`,
			`{"z":1, "n": 12345678901234567890, "f": 1.50e+3, "u":"\u00e9 \ud83d\ude00 é", "a":[true,null,"x\"y"], "s":"svc-jira"}`},
		{"array elements at depth",
			`[[{"x":["` + m("username", jiraARN) + `"]}]]`,
			`[[{"x":["svc-jira"]}]]`},
		{"member names are never resolved",
			`{"` + m("username", jiraARN) + `":"v"}`,
			`{"` + m("username", jiraARN) + `":"v"}`},
		{"escaped mask is a mask",
			`{"k":"\u007b\u007bworkato:sm:username:` + jiraARN + `}}"}`,
			`{"k":"svc-jira"}`},
		{"number and object values as compact JSON",
			`{"p":"` + m("port", jiraARN) + `","o":"` + m("ssl", jiraARN) + `","b":"` + m("big", jiraARN) + `"}`,
			`{"p":"8443","o":"{\"z\":1,\"a\":12345678901234567890}","b":"12345678901234567890"}`},
		{"value re-encoded with escapes",
			`"` + m("quote", jiraARN) + `"`,
			`"a\"b\\c\n\u2028"`},
		{"inserted mask is not resolved again",
			`"` + m("mask", jiraARN) + `"`,
			`"{{workato:sm:username:` + jiraARN + `}}"`},
		{"exact key before dotted path",
			`["` + m("db.primary", sfARN) + `","` + m("db.primary.password", sfARN) + `"]`,
			`["exact-key-wins","sf-demo-db-pass"]`},
		{"escapes around a mask kept as sent",
			`"\u00e9\t` + m("username", jiraARN) + ` \ud83d\ude00 \/ ` + "\u2028" + `"`,
			`"\u00e9\tsvc-jira \ud83d\ude00 \/ ` + "\u2028" + `"`},
		{"escaped mask between escapes",
			`"\"\u007b\u007bworkato:sm:username:` + jiraARN + `\u007d\u007d\""`,
			`"\"svc-jira\""`},
		{"lone surrogate around a mask kept as sent",
			`"\ud800` + m("username", jiraARN) + `\udc00x"`,
			`"\ud800svc-jira\udc00x"`},
		{"other braces untouched", `"{{not a mask}} {{workato:other}}"`, `"{{not a mask}} {{workato:other}}"`},
		{"scalar connection", `12345678901234567890`, `12345678901234567890`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := resolve.New(newMemStore()).Resolve(context.Background(), body(tt.conn), resolve.Params{})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Connection json.RawMessage `json:"connection"`
			}
			out := res.AppendJSON(nil)
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("answer is not JSON: %v\n%s", err, out)
			}
			if string(got.Connection) != tt.want {
				t.Errorf("connection\n got %s\nwant %s", got.Connection, tt.want)
			}
		})
	}
}

func TestResolveMaskList(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	conn := `{"a/b":{"c~d":["x","` + m("username", jiraARN) + m("username", jiraARN) + `"]},"e":"` + m("api.token", jiraARN) + `"}`
	res, err := resolve.New(store).Resolve(context.Background(), body(conn), resolve.Params{})
	if err != nil {
		t.Fatal(err)
	}
	out := res.AppendJSON(nil)
	want := `"masks":[` +
		`{"path":"/connection/a~1b/c~0d/1","key":"username","secret_arn":"` + jiraARN + `","status":"resolved"},` +
		`{"path":"/connection/a~1b/c~0d/1","key":"username","secret_arn":"` + jiraARN + `","status":"resolved"},` +
		`{"path":"/connection/e","key":"api.token","secret_arn":"` + jiraARN + `","status":"resolved"}]}`
	if !strings.HasSuffix(string(out), want) {
		t.Errorf("answer\n%s\ndoes not end with\n%s", out, want)
	}
	if len(store.asked) != 1 || len(store.asked[0]) != 1 {
		t.Errorf("store asked %v, want one secret once", store.asked)
	}
}

func TestResolveDryRun(t *testing.T) {
	t.Parallel()
	conn := `{"s" : "` + m("username", jiraARN) + `", "n":1.0}`
	res, err := resolve.New(newMemStore()).Resolve(context.Background(), []byte(`{"dry_run":true,"connection":`+conn+`}`), resolve.Params{})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.AppendJSON(nil))
	want := `{"connection":` + conn + `,"masks":[{"path":"/connection/s","key":"username","secret_arn":"` + jiraARN + `","status":"verified"}]}`
	if out != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if strings.Contains(out, "svc-jira") {
		t.Error("dry run leaked a value")
	}
}

func TestResolveFailures(t *testing.T) {
	t.Parallel()
	conn := `{"ok":"` + m("username", jiraARN) + `",` +
		`"nokey":"` + m("nope", jiraARN) + `",` +
		`"gone":"` + m("k", goneARN) + `",` +
		`"bin":"` + m("k", binARN) + `",` +
		`"text":"` + m("k", textARN) + `",` +
		`"slow":"` + m("k", slowARN) + `",` +
		`"bad":"{{workato:sm:k:arn:aws:secretsmanager:us-east-1:13714987914:secret:x}}",` +
		`"denied":"` + m("k", "arn:aws:secretsmanager:us-west-2:137149879143:secret:other") + `"}`
	store := newMemStore()
	allow := func(arn string) bool { return !strings.Contains(arn, "us-west-2") }
	res, err := resolve.New(store).Resolve(context.Background(), body(conn), resolve.Params{Allowlist: allow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 7 {
		t.Errorf("Failed = %d, want 7", res.Failed)
	}
	out := res.AppendJSON(nil)
	var got struct {
		Error struct {
			Code  string
			Masks []struct{ Path, Key, SecretARN, Code, Message string }
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]string{
		"/connection/nokey": "KeyNotFound", "/connection/gone": "SecretNotFound",
		"/connection/bin": "SecretNotKeyValue", "/connection/text": "SecretNotKeyValue",
		"/connection/slow": "Throttled", "/connection/bad": "InvalidMask", "/connection/denied": "SecretNotAllowed",
	}
	if got.Error.Code != "MaskResolutionFailed" || len(got.Error.Masks) != len(want) {
		t.Fatalf("error %+v", got.Error)
	}
	for _, mk := range got.Error.Masks {
		if want[mk.Path] != mk.Code || mk.Message == "" {
			t.Errorf("%s: code %q message %q, want %q", mk.Path, mk.Code, mk.Message, want[mk.Path])
		}
	}
	if bytes.Contains(out, []byte("svc-jira")) {
		t.Error("failure leaked a value")
	}
	for _, asked := range store.asked {
		for _, a := range asked {
			if strings.Contains(a, "us-west-2") || strings.Contains(a, "13714987914:") {
				t.Errorf("store asked for %s, which was not allowed or not valid", a)
			}
		}
	}
	codes := res.Codes()
	if len(codes) != 6 {
		t.Errorf("Codes() = %v, want 6 distinct", codes)
	}
}

func TestResolveRequestErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 65) + strings.Repeat("]", 65)
	tests := []struct {
		name, body string
		code       answer.Code
	}{
		{"empty", ``, answer.InvalidRequest},
		{"not an object", `[1]`, answer.InvalidRequest},
		{"no connection", `{"dry_run":true}`, answer.InvalidRequest},
		{"unknown field", `{"connection":{},"extra":1}`, answer.InvalidRequest},
		{"duplicate connection", `{"connection":{},"connection":{}}`, answer.InvalidRequest},
		{"dry_run not a bool", `{"connection":{},"dry_run":"yes"}`, answer.InvalidRequest},
		{"trailing data", `{"connection":{}} {}`, answer.InvalidRequest},
		{"trailing comma", `{"connection":{"a":1,}}`, answer.InvalidRequest},
		{"bad number", `{"connection":01}`, answer.InvalidRequest},
		{"bad number exp", `{"connection":1e}`, answer.InvalidRequest},
		{"bad literal", `{"connection":tru}`, answer.InvalidRequest},
		{"control char", "{\"connection\":\"a\x01\"}", answer.InvalidRequest},
		{"invalid utf-8", "{\"connection\":\"\xff\"}", answer.InvalidRequest},
		{"bad escape", `{"connection":"\x"}`, answer.InvalidRequest},
		{"bad unicode escape", `{"connection":"\u12"}`, answer.InvalidRequest},
		{"unterminated", `{"connection":"abc`, answer.InvalidRequest},
		{"too deep", `{"connection":` + deep + `}`, answer.InvalidRequest},
		{"too many masks", `{"connection":["` + m("a", jiraARN) + `","` + m("b", jiraARN) + `","` + m("c", jiraARN) + `"]}`, answer.TooManyMasks},
	}
	r := resolve.New(newMemStore(), resolve.WithMaxMasks(2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.Resolve(context.Background(), []byte(tt.body), resolve.Params{})
			re, ok := err.(*resolve.RequestError)
			if !ok || re.Code != tt.code || re.Message == "" {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestMaxDepthBoundary(t *testing.T) {
	t.Parallel()
	r := resolve.New(newMemStore(), resolve.WithMaxDepth(2))
	for conn, ok := range map[string]bool{`1`: true, `[]`: true, `[[]]`: true, `[[[]]]`: false, `{"a":{"b":{}}}`: false, `{"a":{"b":1}}`: true} {
		_, err := r.Resolve(context.Background(), body(conn), resolve.Params{})
		if (err == nil) != ok {
			t.Errorf("depth of %s: err = %v, want ok=%v", conn, err, ok)
		}
	}
}

// FuzzResolve feeds arbitrary bytes as a request: it must never panic, and
// a valid request without masks must come back byte for byte.
func FuzzResolve(f *testing.F) {
	f.Add([]byte(`{"connection":{"a":[1,2.5e3,"x",null,true,{"b":"c"}]}}`))
	f.Add([]byte(`{"connection":"` + m("username", jiraARN) + `","dry_run":false}`))
	f.Add([]byte(`{"connection":"\u007b\u007bworkato:sm:k:` + jiraARN + `}}"}`))
	f.Add([]byte(`{"connection":"{{workato:sm:broken"}`))
	f.Add([]byte(`{"connection":[[[[[]]]]]}`))
	r := resolve.New(newMemStore(), resolve.WithMaxDepth(8))
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := r.Resolve(context.Background(), in, resolve.Params{})
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		out := res.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("answer is not JSON: %q", out)
		}
		if len(res.Masks) > 0 {
			return
		}
		// Without masks the connection comes back byte for byte, so huge
		// numbers and escapes need no decoding to compare.
		var req, ans struct{ Connection json.RawMessage }
		if json.Unmarshal(in, &req) != nil || json.Unmarshal(out, &ans) != nil {
			t.Fatalf("cannot decode %q / %q", in, out)
		}
		if !bytes.Equal(req.Connection, ans.Connection) {
			t.Fatalf("connection changed: %s -> %s", req.Connection, ans.Connection)
		}
	})
}
