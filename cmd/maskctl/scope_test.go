package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Tests of --scope, which names one of the function's scopes (the request
// member "scope"): the secrets are then read with that scope's role.

func TestRequestBodyScope(t *testing.T) {
	t.Parallel()
	acme := scopeName{name: "tenant-acme", set: true}
	for _, tc := range []struct {
		name, payload string
		o             sendOptions
		want          string // the body sent
		note          string // the note; "" for none
	}{
		{name: "connection wrapped", payload: `{"a":"b"}`, o: sendOptions{scope: acme}, want: `{"connection":{"a":"b"},"scope":"tenant-acme"}`},
		{name: "added to a request", payload: `{"connection":{"n":1.50}}`, o: sendOptions{scope: acme}, want: `{"connection":{"n":1.50},"scope":"tenant-acme"}`},
		{name: "with the other flags", payload: `[1]`, o: sendOptions{dryRun: true, maxAge: maxAge{seconds: 0, set: true}, scope: acme},
			want: `{"connection":[1],"dry_run":true,"max_age":0,"scope":"tenant-acme"}`},
		{name: "request's members kept", payload: `{"scope":"old","max_age":30,"dry_run":true,"connection":"s"}`, o: sendOptions{scope: acme},
			want: `{"connection":"s","dry_run":true,"max_age":30,"scope":"tenant-acme"}`, note: `--scope replaces the payload's "scope" with "tenant-acme"`},
		{name: "same scope, no note", payload: `{"connection":1,"scope":"tenant-acme"}`, o: sendOptions{scope: acme}, want: `{"connection":1,"scope":"tenant-acme"}`},
		{name: "same scope escaped, no note", payload: `{"connection":1,"scope":"tenant\u002dacme"}`, o: sendOptions{scope: acme}, want: `{"connection":1,"scope":"tenant-acme"}`},
		{name: "flag replaces a bad scope", payload: `{"connection":1,"scope":null}`, o: sendOptions{scope: acme},
			want: `{"connection":1,"scope":"tenant-acme"}`, note: `--scope replaces the payload's "scope" with "tenant-acme"`},
		{name: "both notes", payload: `{"connection":1,"max_age":60,"scope":"b"}`, o: sendOptions{maxAge: maxAge{seconds: 0, set: true}, maxAgeFlag: "--refresh", scope: acme},
			want: `{"connection":1,"max_age":0,"scope":"tenant-acme"}`, note: `--refresh replaces the payload's "max_age" with 0; --scope replaces the payload's "scope" with "tenant-acme"`},

		// Without the flag a request with "scope" is a request, sent as
		// it is: the API, not maskctl, judges the scope.
		{name: "request with scope as is", payload: `{"connection": {}, "scope": "b"}`, want: `{"connection": {}, "scope": "b"}`},
		{name: "bad scope as is", payload: `{"connection":{},"scope":7}`, want: `{"connection":{},"scope":7}`},
		{name: "dry run keeps scope", payload: `{"scope":"b","connection":{}}`, o: sendOptions{dryRun: true}, want: `{"connection":{},"dry_run":true,"scope":"b"}`},
		{name: "scope alone is a connection", payload: `{"scope":"b"}`, o: sendOptions{scope: acme}, want: `{"connection":{"scope":"b"},"scope":"tenant-acme"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, note, err := readRequest(strings.NewReader(tc.payload), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want || note != tc.note {
				t.Errorf("got  %s, note %q\nwant %s, note %q", got, note, tc.want, tc.note)
			}
			if !json.Valid(got) {
				t.Errorf("the body is not JSON: %s", got)
			}
		})
	}
}

func TestScopeFlag(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{"connection":{},"masks":[]}`)
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		sent   string
		stderr string
	}{
		{"--scope", `{"client_secret":"` + seedMask + `"}`, []string{"--scope", "tenant-acme"},
			`{"connection":{"client_secret":"` + seedMask + `"},"scope":"tenant-acme"}`, ""},
		{"--scope=", `{}`, []string{"--scope=a.b_c-9", "--dry-run"}, `{"connection":{},"dry_run":true,"scope":"a.b_c-9"}`, ""},
		{"64 characters", `{}`, []string{"--scope", strings.Repeat("s", 64)}, `{"connection":{},"scope":"` + strings.Repeat("s", 64) + `"}`, ""},
		{"over the request's scope", `{"connection":{},"scope":"other"}`, []string{"--scope", "tenant-acme"},
			`{"connection":{},"scope":"tenant-acme"}`, "maskctl: note: --scope replaces the payload's \"scope\" with \"tenant-acme\"\n"},
		{"no flag", `{"connection":{},"scope":"other"}`, nil, `{"connection":{},"scope":"other"}`, ""},
	} {
		args := append([]string{"--url", srv.URL + "/v1/resolve"}, tc.args...)
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, tc.stdin, args...)
		if res.code != exitOK || res.stderr != tc.stderr {
			t.Errorf("%s: exit %d, stderr %q; want 0, %q", tc.name, res.code, res.stderr, tc.stderr)
			continue
		}
		rec := <-got
		if string(rec.body) != tc.sent {
			t.Errorf("%s: sent %s, want %s", tc.name, rec.body, tc.sent)
		}
		// The signature covers the body with the scope in it.
		if _, err := verifySigV4(rec, retrieve(t, staticCreds)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// A name no scope can have is refused before anything is sent.
	for _, name := range []string{"", "a b", "tenant/acme", `a"b`, strings.Repeat("s", 65), "é"} {
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, `{}`, "--url", srv.URL, "--scope", name)
		if res.code != exitUsage || res.stdout != "" ||
			!strings.Contains(res.stderr, "for flag -scope: want a scope's name: 1 to 64 letters, digits, '.', '_' or '-'") {
			t.Errorf("--scope %q: exit %d, stdout %q, stderr %q", name, res.code, res.stdout, res.stderr)
		}
	}
	if len(got) != 0 {
		t.Errorf("%d requests sent for bad names", len(got))
	}

	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, "", "-h")
	if !strings.Contains(res.stderr, "-scope NAME") || !strings.Contains(res.stderr, `"scope": …`) {
		t.Errorf("-h does not mention --scope:\n%s", res.stderr)
	}
}

// check takes --scope as the main command does, reads a request with
// "scope" as a request, and reports a "scope" the API would refuse.
func TestCheckScope(t *testing.T) {
	t.Parallel()
	line := `{"path":"/connection/client_secret","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n"
	conn := `{"client_secret":"` + seedMask + `"}`
	for _, tc := range []struct {
		name, payload string
		args          []string
		code          int
		stderr        string
	}{
		{"request with scope", `{"connection":` + conn + `,"scope":"tenant-acme"}`, nil, exitOK, ""},
		{"--scope", conn, []string{"--scope", "tenant-acme"}, exitOK, ""},
		{"not a string", `{"scope":{"s":"s3cr3t"},"connection":` + conn + `}`, nil, exitInvalid,
			"maskctl check: the payload's \"scope\" is not a string: the API answers 400 InvalidRequest\n"},
		{"null", `{"connection":` + conn + `,"scope":null}`, nil, exitInvalid,
			"maskctl check: the payload's \"scope\" is not a string: the API answers 400 InvalidRequest\n"},
		{"not a name", `{"connection":` + conn + `,"scope":"s3cr3t value"}`, nil, exitInvalid,
			"maskctl check: the payload's \"scope\" is not a scope's name (1 to 64 letters, digits, '.', '_' or '-'): the API answers 403 ScopeNotAllowed\n"},
		{"empty name", `{"connection":` + conn + `,"scope":""}`, nil, exitInvalid, "is not a scope's name"},
		// --scope replaces the payload's scope, as the main command sends.
		{"--scope over a bad scope", `{"connection":` + conn + `,"scope":7}`, []string{"--scope", "tenant-acme"}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := offlineCLI(t).runTest(t, tc.payload, append([]string{"check"}, tc.args...)...)
			if res.code != tc.code || res.stdout != line || !strings.Contains(res.stderr, tc.stderr) || (tc.stderr == "" && res.stderr != "") {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout, tc.code, tc.stderr, line)
			}
			if strings.Contains(res.stderr, "s3cr3t") {
				t.Errorf("stderr quotes the payload: %q", res.stderr)
			}
		})
	}

	// With invalid masks too, both are said and the exit is 1.
	res := offlineCLI(t).runTest(t, `{"connection":{"a":"{{workato:sm:x"},"scope":1}`, "check")
	if res.code != exitInvalid || !strings.Contains(res.stderr, `"scope" is not a string`) || !strings.Contains(res.stderr, "1 of 1 masks invalid") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	res = offlineCLI(t).runTest(t, conn, "check", "--scope", "a b")
	if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, "for flag -scope: want a scope's name") {
		t.Errorf("check --scope 'a b': exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}

// checkLocalFrontScope resolves the scope of events/secrets.json through
// the local front at url: --scope names it, and its role, assumed by the
// function through the double's STS, reads the secret the function's own
// role may not. TestLocalFront calls it on its devserver: tests of one
// package that run the same built binaries at once could not tell apart
// whose processes outlived them.
func checkLocalFrontScope(t *testing.T, url string) {
	t.Helper()
	const scopedMask = "{{workato:sm:api.token:arn:aws:secretsmanager:us-east-1:137149879143:secret:tenant-acme/jira-credentials-Ac3mE9}}"
	payload := `{"token":"` + scopedMask + `"}`
	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", url, "--scope", "tenant-acme")
	if res.code != exitOK || res.stderr != "" || !strings.Contains(res.stdout, `"token":"acme-demo-token-5e1d"`) {
		t.Errorf("--scope tenant-acme: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", url)
	if res.code != exitStatus || !strings.Contains(res.stdout, `"code":"AccessDenied"`) {
		t.Errorf("without --scope: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, payload, "--url", url, "--scope", "tenant-other")
	if res.code != exitStatus || !strings.HasPrefix(res.stderr, "maskctl: 403 ScopeNotAllowed") {
		t.Errorf("--scope tenant-other: exit %d, stderr %q, stdout %q", res.code, res.stderr, res.stdout)
	}
}
