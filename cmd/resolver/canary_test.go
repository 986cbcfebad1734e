package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestCanariesNeverLeak pushes canary secret values through every path of
// the built bootstrap — success, dry run, each failure class, stale
// serving, a secret that holds a mask — with debug logging and X-Ray
// tracing on, and asserts that no canary appears in a log line (the EMF
// metrics are part of the summary line), a trace document, or any answer
// except the one successful resolve that asked for it.
func TestCanariesNeverLeak(t *testing.T) {
	t.Parallel()
	f := startTraced(t, "LOG_LEVEL=debug", "AWS_MAX_ATTEMPTS=1", "CACHE_TTL=0s", "CACHE_STALE_IF_ERROR=1h")
	const acct = "137149879143"
	arn := func(name string) string { return "arn:aws:secretsmanager:us-east-1:" + acct + ":secret:" + name }
	canaries := []string{"CANARY-user-1a9f", "CANARY-pass-2b8e", "CANARY-deep-3c7d", "CANARY-text-4d6c", "CANARY-deny-5e5b", "CANARY-kms-6f4a", "CANARY-stale-7a39"}
	put := func(name, value string) string {
		full, err := f.sm.Put(smfake.Secret{ARN: arn(name), String: aws.String(value)})
		if err != nil {
			t.Fatal(err)
		}
		return full
	}
	kv := put("canary-kv-Ca1Kv2", `{"user":"CANARY-user-1a9f","pass":"CANARY-pass-2b8e","nested":{"deep":"CANARY-deep-3c7d"},"mask":"{{workato:sm:pass:`+arn("canary-kv-Ca1Kv2")+`}}"}`)
	text := put("canary-text-Ca1Tx2", "CANARY-text-4d6c")
	denied := put("canary-denied-Ca1De2", `{"k":"CANARY-deny-5e5b"}`)
	kms := put("canary-kms-Ca1Km2", `{"k":"CANARY-kms-6f4a"}`)
	stale := put("canary-stale-Ca1St2", `{"k":"CANARY-stale-7a39"}`)
	f.sm.Inject(smfake.Fault{SecretID: denied, Code: "AccessDeniedException"})
	f.sm.Inject(smfake.Fault{SecretID: kms, Code: "DecryptionFailure"})

	m := func(key, a string) string { return "{{workato:sm:" + key + ":" + a + "}}" }
	body := func(conn string, dry bool) []byte {
		return post(t, fmt.Sprintf(`{"connection":%s,"dry_run":%v}`, conn, dry))
	}
	n := 0
	trace := func() string {
		n++
		return fmt.Sprintf("Root=1-6929d590-%024x;Parent=53995c3f42cd8ad8;Sampled=1", n)
	}
	// mustNotLeak checks an answer that may hold no canary at all.
	mustNotLeak := func(name string, p proxyResponse, status int) {
		t.Helper()
		if p.StatusCode != status {
			t.Errorf("%s: status %d, want %d: %s", name, p.StatusCode, status, p.Body)
		}
		for _, c := range canaries {
			if strings.Contains(p.Body, c) {
				t.Errorf("%s: canary %s in the answer: %s", name, c, p.Body)
			}
		}
	}

	// Success: the asked-for value, and only it, is in the answer.
	p := f.invoke(t, body(`{"u":"`+m("user", kv)+`","d":"`+m("nested.deep", kv)+`","x":"`+m("mask", kv)+`"}`, false), trace())
	if p.StatusCode != 200 || !strings.Contains(p.Body, "CANARY-user-1a9f") || !strings.Contains(p.Body, "CANARY-deep-3c7d") {
		t.Fatalf("resolve: %d %s", p.StatusCode, p.Body)
	}
	if strings.Contains(p.Body, "CANARY-pass-2b8e") {
		t.Errorf("a mask inside a secret value was resolved: %s", p.Body)
	}
	mustNotLeak("dry run", f.invoke(t, body(`{"u":"`+m("user", kv)+`"}`, true), trace()), 200)
	mustNotLeak("key not found", f.invoke(t, body(`{"u":"`+m("nope", kv)+`"}`, false), trace()), 422)
	mustNotLeak("not key/value", f.invoke(t, body(`{"u":"`+m("k", text)+`"}`, false), trace()), 422)
	mustNotLeak("access denied", f.invoke(t, body(`{"u":"`+m("k", denied)+`"}`, false), trace()), 422)
	mustNotLeak("decryption failure", f.invoke(t, body(`{"u":"`+m("k", kms)+`"}`, false), trace()), 502)
	mustNotLeak("all or nothing", f.invoke(t, body(`["`+m("user", kv)+`","`+m("pass", kv)+`","`+m("nope", kv)+`"]`, false), trace()), 422)
	mustNotLeak("invalid mask", f.invoke(t, body(`"{{workato:sm:user:arn:aws:secretsmanager:us-east-1:1:secret:x}} `+m("user", kv)+`"`, false), trace()), 422)
	mustNotLeak("not allowed", f.invoke(t, body(`"`+m("user", strings.Replace(kv, acct, "999999999999", 1))+`"`, false), trace()), 422)

	// Stale serving: a refresh that is throttled serves the cached value
	// and logs the event, with the ARN and the code only.
	if p := f.invoke(t, body(`"`+m("k", stale)+`"`, false), trace()); p.StatusCode != 200 {
		t.Fatalf("stale seed: %d %s", p.StatusCode, p.Body)
	}
	f.sm.Inject(smfake.Fault{SecretID: stale, Code: "ThrottlingException"})
	if p := f.invoke(t, body(`"`+m("k", stale)+`"`, false), trace()); p.StatusCode != 200 || !strings.Contains(p.Body, "CANARY-stale-7a39") {
		t.Errorf("stale serve: %d %s", p.StatusCode, p.Body)
	}
	f.collect(t, fmt.Sprintf("1-6929d590-%024x", n), "resolve")

	logs := f.logs.String()
	if !strings.Contains(logs, "serving stale secret") || !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Errorf("the stale and debug paths were not exercised:\n%s", logs)
	}
	f.mu.Lock()
	docs := append([][]byte(nil), f.docs...)
	f.mu.Unlock()
	if len(docs) == 0 {
		t.Fatal("no trace documents were captured")
	}
	for _, c := range canaries {
		if strings.Contains(logs, c) {
			t.Errorf("canary %s is in the logs", c)
		}
		for _, d := range docs {
			if strings.Contains(string(d), c) {
				t.Errorf("canary %s is in a trace document: %s", c, d)
			}
		}
	}
}

// TestScopeExternalIDsNeverLeak runs scoped requests through every path
// of a scope — success, dry run, a failed mask, a refused role (the wrong
// external id), STS throttling, the deadline while assuming, a closed
// scope — with debug logging, metrics and X-Ray tracing on, and asserts
// that no scope's external id appears in an answer, a log line (the EMF
// metrics are part of the summary line) or a trace document, though each
// was sent to STS.
func TestScopeExternalIDsNeverLeak(t *testing.T) {
	t.Parallel()
	const (
		roleSlow = "arn:aws:iam::" + tenantAccount + ":role/slow"
		extWrong = "CANARY-extid-wrong-2b"
		extThrot = "CANARY-extid-throttled-3c"
		extSlow  = "CANARY-extid-slow-4d"
		extShut  = "CANARY-extid-closed-5e"
	)
	canaries := []string{extIDA, extWrong, extThrot, extSlow, extShut}
	open := []string{"*"}
	doc := scopesDoc(t, map[string]scopeSpec{
		"good":      {RoleARN: roleA, ExternalID: extIDA, Callers: open, Secrets: tenantPatterns},
		"wrong":     {RoleARN: roleA, ExternalID: extWrong, Callers: open, Secrets: tenantPatterns},
		"throttled": {RoleARN: roleB, ExternalID: extThrot, Callers: open, Secrets: []string{"*"}},
		"slow":      {RoleARN: roleSlow, ExternalID: extSlow, Callers: open, Secrets: []string{"*"}},
		"closed":    {RoleARN: roleA, ExternalID: extShut, Callers: []string{"arn:aws:sts::" + account + ":assumed-role/nobody/*"}, Secrets: open},
	})
	f := startScopedTraced(t, "SCOPES="+doc, "LOG_LEVEL=debug", "AWS_MAX_ATTEMPTS=2")
	if err := f.sm.AddRole(roleSlow, smfake.RequireExternalID(extSlow)); err != nil {
		t.Fatal(err)
	}
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", RoleARN: roleB, Code: "Throttling"})
	f.sm.Inject(smfake.Fault{Op: "AssumeRole", RoleARN: roleSlow, Latency: 5 * time.Second})

	n := 0
	trace := func() string {
		n++
		return fmt.Sprintf("Root=1-6929d590-%024x;Parent=53995c3f42cd8ad8;Sampled=1", 0xe0000+n)
	}
	check := func(name string, p proxyResponse, status int) {
		t.Helper()
		if p.StatusCode != status {
			t.Errorf("%s: status %d, want %d: %s", name, p.StatusCode, status, p.Body)
		}
		for _, c := range canaries {
			if strings.Contains(p.Body, c) {
				t.Errorf("%s: external id %s in the answer: %s", name, c, p.Body)
			}
		}
	}
	check("resolve", f.invoke(t, scoped(t, "good", keyOf(tenantASecret)), trace()), 200)
	check("dry run", f.invoke(t, scoped(t, "good", keyOf(tenantASecret), `,"dry_run":true`), trace()), 200)
	check("key not found", f.invoke(t, scoped(t, "good", `{"k":"`+mask("nope", tenantASecret)+`"}`), trace()), 422)
	check("forced", f.invoke(t, scoped(t, "good", keyOf(tenantASecret), `,"max_age":0`), trace()), 200)
	check("wrong external id", f.invoke(t, scoped(t, "wrong", keyOf(tenantASecret)), trace()), 502)
	check("remembered refusal", f.invoke(t, scoped(t, "wrong", keyOf(tenantASecret)), trace()), 502)
	check("throttled", f.invoke(t, scoped(t, "throttled", keyOf(tenantBSecret)), trace()), 503)
	check("closed", f.invoke(t, scoped(t, "closed", keyOf(tenantASecret)), trace()), 403)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := f.api.Invoke(ctx, lambdatest.Invocation{Payload: scoped(t, "slow", keyOf(tenantBSecret)), TraceID: trace(), Timeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var p proxyResponse
	if err := json.Unmarshal(a.Body, &p); err != nil {
		t.Fatalf("%s: %v", a.Body, err)
	}
	check("timeout", p, 503)
	f.collect(t, fmt.Sprintf("1-6929d590-%024x", 0xe0000+n), "resolve")

	sent := map[string]bool{}
	for _, c := range f.sm.AssumeRoleCalls() {
		for _, id := range canaries {
			sent[id] = sent[id] || c.ExternalIDIs(id)
		}
	}
	for _, id := range []string{extIDA, extWrong, extThrot, extSlow} {
		if !sent[id] {
			t.Errorf("external id %s was never sent to STS: the path was not exercised", id)
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Errorf("debug logging was not on:\n%s", logs)
	}
	f.mu.Lock()
	docs := append([][]byte(nil), f.docs...)
	f.mu.Unlock()
	if len(docs) == 0 {
		t.Fatal("no trace documents were captured")
	}
	for _, c := range canaries {
		if strings.Contains(logs, c) {
			t.Errorf("external id %s is in the logs", c)
		}
		for _, d := range docs {
			if strings.Contains(string(d), c) {
				t.Errorf("external id %s is in a trace document: %s", c, d)
			}
		}
	}
	if strings.Contains(logs, tenantAValue) {
		t.Errorf("a secret value is in the logs")
	}
}
