package main

// What a secret may hold, and how the binary reads it: values, caching,
// batching.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestRIESecrets covers what a secret may hold and how its values are
// rendered, read and cached, through the binary and the SDK. Each way of
// rendering a value is a row of internal/resolve's TestResolveSuccess, and
// each failure code one of its TestResolveFailures.
func TestRIESecrets(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t, "SECRET_ARN_ALLOWLIST=arn:aws:secretsmanager:*:"+account+":secret:*")

	put := func(t *testing.T, s smfake.Secret) string {
		t.Helper()
		arn, err := sm.Put(s)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	resolves := func(t *testing.T, conn string, want string, masks ...answer.MaskEntry) {
		t.Helper()
		wantResolved(t, e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)), want, masks...)
	}
	fails := func(t *testing.T, conn string, status int, masks ...answer.MaskEntry) {
		t.Helper()
		wantMaskFailures(t, e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)), status, masks...)
	}

	t.Run("cache: one read across masks and invocations", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:cache-probe-Ca9hE1"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"user":"cache-user-v","pass":"cache-pass-v"}`)})
		e.noLeak("cache-user-v", "cache-pass-v")
		conn := `{"u":"` + mask("user", arn) + `","p":"` + mask("pass", arn) + `","again":"` + mask("pass", arn) + `"}`
		want := `{"u":"cache-user-v","p":"cache-pass-v","again":"cache-pass-v"}`
		masks := []answer.MaskEntry{
			{Path: "/connection/u", Key: "user", SecretARN: arn, Status: "resolved"},
			{Path: "/connection/p", Key: "pass", SecretARN: arn, Status: "resolved"},
			{Path: "/connection/again", Key: "pass", SecretARN: arn, Status: "resolved"},
		}
		ev := post(t, `{"connection":`+conn+`}`)
		wantResolved(t, e.invokeProxy(t, ev), want, masks...)
		if n := sm.SecretReads(arn); n != 1 {
			t.Errorf("after one request with three masks of one secret: %d reads, want 1", n)
		}
		wantResolved(t, e.invokeProxy(t, ev), want, masks...)
		if n := sm.SecretReads(arn); n != 1 {
			t.Errorf("after the same request twice: %d reads, want 1 (the warm cache)", n)
		}
	})

	t.Run("binary secret", func(t *testing.T) {
		fails(t, `{"cert":"`+mask("pem", binaryARN)+`"}`, http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/cert", Key: "pem", SecretARN: binaryARN, Code: "SecretNotKeyValue"})
	})

	t.Run("cross-region secret", func(t *testing.T) {
		resolves(t, `{"id":"`+mask("client_id", sfARN)+`","secret":"`+mask("client_secret", sfARN)+`"}`,
			`{"id":"sf-demo-client","secret":"sf-demo-secret-9d2e"}`,
			answer.MaskEntry{Path: "/connection/id", Key: "client_id", SecretARN: sfARN, Status: "resolved"},
			answer.MaskEntry{Path: "/connection/secret", Key: "client_secret", SecretARN: sfARN, Status: "resolved"})
		if n := sm.SecretReads(sfARN); n != 1 {
			t.Errorf("eu-west-1 secret read %d times, want 1", n)
		}
	})

	t.Run("literals kept as written", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:literal-probe-Li7eR1"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"z":{"z":1,"a":12345678901234567890},"n":1.50e+3}`)})
		resolves(t, `{"a/b~c":["x",{"v":"`+mask("z", arn)+`"}],"n":"`+mask("n", arn)+`"}`,
			`{"a/b~c":["x",{"v":"{\"z\":1,\"a\":12345678901234567890}"}],"n":"1.50e+3"}`,
			answer.MaskEntry{Path: "/connection/a~1b~0c/1/v", Key: "z", SecretARN: arn, Status: "resolved"},
			answer.MaskEntry{Path: "/connection/n", Key: "n", SecretARN: arn, Status: "resolved"})
	})

	t.Run("payload kept byte for byte", func(t *testing.T) {
		conn := "{ \"big\" : 12345678901234567890, \"f\": 1.50, \"e\": -0.0e-0,\n" +
			` "u": "\u00e9\ud83d\ude00 é", "other": "{{not a mask}} {{workato}}", "t": true, "n": null,` +
			` "esc": "line\nnext \"q\" \/", "arr": [1, "Bearer ` + mask("username", jiraARN) + `"] }`
		want := strings.Replace(conn, mask("username", jiraARN), "svc-jira", 1)
		resolves(t, conn, want,
			answer.MaskEntry{Path: "/connection/arr/1", Key: "username", SecretARN: jiraARN, Status: "resolved"})
	})

	t.Run("a mask inside a secret value is returned literally", func(t *testing.T) {
		inner := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:never-read-Nr8Ab2"
		put(t, smfake.Secret{ARN: inner, String: aws.String(`{"deep":"never-read-value"}`)})
		e.noLeak("never-read-value")
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:holds-mask-Hm4Sk3"
		value := "pre " + mask("deep", inner) + " post"
		vj, _ := json.Marshal(map[string]string{"v": value})
		put(t, smfake.Secret{ARN: arn, String: aws.String(string(vj))})
		resolves(t, `{"v":"`+mask("v", arn)+`"}`, `{"v":"pre `+mask("deep", inner)+` post"}`,
			answer.MaskEntry{Path: "/connection/v", Key: "v", SecretARN: arn, Status: "resolved"})
		if n := sm.SecretReads(inner); n != 0 {
			t.Errorf("the secret named inside a value was read %d times, want 0", n)
		}
	})

	t.Run("deleted secret", func(t *testing.T) {
		arn := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:deleted-probe-De1e7d"
		put(t, smfake.Secret{ARN: arn, String: aws.String(`{"k":"deleted-value"}`), Deleted: true})
		e.noLeak("deleted-value")
		fails(t, `{"k":"`+mask("k", arn)+`"}`, http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/k", Key: "k", SecretARN: arn, Code: "SecretNotFound"})
	})

	t.Run("partial ARN", func(t *testing.T) {
		partial := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:prod-jira-credentials"
		resolves(t, `{"u":"`+mask("username", partial)+`"}`, `{"u":"svc-jira"}`,
			answer.MaskEntry{Path: "/connection/u", Key: "username", SecretARN: partial, Status: "resolved"})
	})

	t.Run("all-or-nothing with every failure listed", func(t *testing.T) {
		fails(t, `{"ok":"`+mask("username", jiraARN)+`","bad":["`+mask("nope", sfARN)+`","x `+mask("y", plainARN)+`"]}`,
			http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/bad/0", Key: "nope", SecretARN: sfARN, Code: "KeyNotFound"},
			answer.MaskEntry{Path: "/connection/bad/1", Key: "y", SecretARN: plainARN, Code: "SecretNotKeyValue"})
	})

	t.Run("allowlist of env.json shape rejects another account", func(t *testing.T) {
		other := "arn:aws:secretsmanager:us-east-1:999999999999:secret:elsewhere-AbCdEf"
		fails(t, `{"x":"`+mask("k", other)+`"}`, http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/x", Key: "k", SecretARN: other, Code: "SecretNotAllowed"})
		if n := sm.SecretReads(other); n != 0 {
			t.Errorf("a secret outside the allowlist was read %d times", n)
		}
	})
}

// TestRIEBatching: the built binary reads a request's cold secrets of one
// region in one BatchGetSecretValue call, one region's single secret with
// GetSecretValue, and falls back to single reads for good once the batch
// action is refused.
func TestRIEBatching(t *testing.T) {
	t.Parallel()
	e, sm := startWithFake(t)
	var arns []string
	for i := range 3 {
		arn := fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:batch-%d-Ba%dCh0", account, i, i)
		if _, err := sm.Put(smfake.Secret{ARN: arn, String: aws.String(fmt.Sprintf(`{"k":"batch-value-%d"}`, i))}); err != nil {
			t.Fatal(err)
		}
		arns = append(arns, arn)
	}
	e.noLeak("batch-value-0", "batch-value-1", "batch-value-2")
	conn := `["` + mask("k", arns[0]) + `","` + mask("k", arns[1]) + `","` + mask("client_id", sfARN) + `"]`
	if p := e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)); p.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", p.StatusCode, p.Body)
	}
	if b, g := sm.Calls("BatchGetSecretValue"), sm.Calls("GetSecretValue"); b != 1 || g != 1 {
		t.Errorf("two us-east-1 secrets and one eu-west-1: %d batch and %d single calls, want 1 and 1", b, g)
	}

	sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: "AccessDeniedException"})
	sm.ResetCalls()
	conn = `["` + mask("k", arns[2]) + `","` + mask("username", jiraARN) + `"]`
	if p := e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)); p.StatusCode != http.StatusOK {
		t.Fatalf("after a refused batch: %d %s", p.StatusCode, p.Body)
	}
	if b, g := sm.Calls("BatchGetSecretValue"), sm.Calls("GetSecretValue"); b != 1 || g != 2 {
		t.Errorf("refused batch: %d batch and %d single calls, want 1 and 2", b, g)
	}
	sm.ClearFaults()
	sm.ResetCalls()
	conn = `["` + mask("k", arns[0]) + `","` + mask("prod.jira.secret.key", "arn:aws:secretsmanager:us-east-1:"+account+":secret:prod-binary-cert-Q1w2E3") + `"]`
	e.invokeProxy(t, post(t, `{"connection":`+conn+`,"dry_run":true}`))
	if b := sm.Calls("BatchGetSecretValue"); b != 0 {
		t.Errorf("the batch was tried again after being refused: %d calls", b)
	}
}
