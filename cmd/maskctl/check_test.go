package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkPayload has masks at every kind of place the API looks, and in
// places it does not. Its members are out of alphabetical order ("z"
// before "a"), so a walk through a map would show.
const checkPayload = `{
  "host": "jira.example.com",
  "port": 12345678901234567890,
  "big": 1e999,
  "client_secret": "{{workato:sm:prod.jira.secret.key:` + jiraARN + `}}",
  "{{workato:sm:name.not.scanned:` + jiraARN + `}}": "a member name is never a mask",
  "auth": {"header": "Bearer {{workato:sm:api.token:` + jiraARN + `}} and {{workato:sm:k:arn:aws:secretsmanager:us-east-1:13714987914:secret:x}}"},
  "list": [
    "plain",
    "\u007b\u007bworkato:sm:user&pass:` + jiraARN + `}}",
    {"a/b~c": "{{workato:sm:unterminated"},
    [true, null, "{{other}} text"]
  ],
  "z": "{{workato:sm:z:` + jiraARN + `}}",
  "a": "{{workato:sm:a:` + jiraARN + `}}"
}`

// checkOutput is what check prints for checkPayload.
const checkOutput = `{"path":"/connection/client_secret","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}
{"path":"/connection/auth/header","key":"api.token","secret_arn":"` + jiraARN + `","status":"valid"}
{"path":"/connection/auth/header","code":"InvalidMask","message":"invalid mask at offset 166: account \"13714987914\" is not 12 digits"}
{"path":"/connection/list/1","key":"user&pass","secret_arn":"` + jiraARN + `","status":"valid"}
{"path":"/connection/list/2/a~1b~0c","code":"InvalidMask","message":"invalid mask at offset 0: unterminated mask (no closing \"}}\")"}
{"path":"/connection/z","key":"z","secret_arn":"` + jiraARN + `","status":"valid"}
{"path":"/connection/a","key":"a","secret_arn":"` + jiraARN + `","status":"valid"}
`

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, payload  string
		code           int
		stdout, stderr string
	}{
		{"connection", checkPayload, exitInvalid, checkOutput, "maskctl check: 2 of 7 masks invalid\n"},
		{"whole request", `{"max_age": 0, "connection": ` + checkPayload + `, "dry_run": true}`, exitInvalid, checkOutput, "maskctl check: 2 of 7 masks invalid\n"},
		{"all valid", `{"client_secret":"` + seedMask + `"}`, exitOK,
			`{"path":"/connection/client_secret","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n", ""},
		{"a string connection", `{"connection":"` + seedMask + `"}`, exitOK,
			`{"path":"/connection","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n", ""},
		// An unknown member makes it a connection, as for the main command.
		{"request-like connection", `{"connection":{"x":"` + seedMask + `"},"other":1}`, exitOK,
			`{"path":"/connection/connection/x","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n", ""},
		{"empty member name", `{"":["` + seedMask + `"]}`, exitOK,
			`{"path":"/connection//0","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n", ""},
		{"single closing brace", `["{{workato:sm:k:` + jiraARN + `} tail"]`, exitInvalid,
			`{"path":"/connection/0","code":"InvalidMask","message":"invalid mask at offset 96: mask closed by a single \"}\" (want \"}}\")"}` + "\n",
			"maskctl check: 1 of 1 masks invalid\n"},
		{"no mask", `{"a":"{{not a mask}}","n":[1,2]}`, exitOK, "", "maskctl check: note: the payload holds no mask\n"},
		{"scalar", `42`, exitOK, "", "maskctl check: note: the payload holds no mask\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := offlineCLI(t).runTest(t, tc.payload, "check")
			if res.code != tc.code || res.stdout != tc.stdout || res.stderr != tc.stderr {
				t.Errorf("exit %d, stderr %q, stdout:\n%s\nwant exit %d, stderr %q, stdout:\n%s", res.code, res.stderr, res.stdout, tc.code, tc.stderr, tc.stdout)
			}
		})
	}
}

func TestCheckArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "payload.json")
	if err := os.WriteFile(file, []byte(`{"client_secret":"`+seedMask+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want := `{"path":"/connection/client_secret","key":"prod.jira.secret.key","secret_arn":"` + jiraARN + `","status":"valid"}` + "\n"
	for _, args := range [][]string{{file}, {"-"}, {"--", file}} {
		stdin := ""
		if args[0] == "-" {
			stdin = `{"client_secret":"` + seedMask + `"}`
		}
		res := offlineCLI(t).runTest(t, stdin, append([]string{"check"}, args...)...)
		if res.code != exitOK || res.stdout != want || res.stderr != "" {
			t.Errorf("check %v: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
	}

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		stderr string
	}{
		{"empty", "", nil, "maskctl check: stdin: the payload is empty"},
		{"not JSON", `{"client_secret": s3cr3t}`, nil, "maskctl check: stdin: the payload is not valid JSON (syntax error at byte 19)"},
		{"two values", `{} {}`, nil, "not valid JSON"},
		{"bad UTF-8", "\"\xff\"", nil, "not valid UTF-8"},
		{"missing file", "", []string{filepath.Join(dir, "nope.json")}, "no such file"},
		{"two files", "", []string{file, file}, "maskctl check: one payload file at most, got 2: " + strconv.Quote(file) + " " + strconv.Quote(file) + "\n"},
		{"flag after the file", "", []string{file, "-h"}, `one payload file at most, got 2: ` + strconv.Quote(file) + ` "-h": flags go before the payload file ("-h" came after it)`},
		{"unknown flag", "", []string{"--url", "x"}, "flag provided but not defined: -url"},
	} {
		res := offlineCLI(t).runTest(t, tc.stdin, append([]string{"check"}, tc.args...)...)
		if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, res.code, res.stdout, res.stderr, tc.stderr)
		}
		if strings.Contains(res.stderr, "s3cr3t") {
			t.Errorf("%s: stderr quotes the payload: %q", tc.name, res.stderr)
		}
	}

	res := offlineCLI(t).runTest(t, "", "check", "-h")
	if res.code != exitOK || !strings.HasPrefix(res.stderr, "usage: maskctl check [payload.json|-]") {
		t.Errorf("-h: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestSubcommandsOnlyFirst: "mask" and "check" anywhere but first are a
// payload file, as before the subcommands existed.
func TestSubcommandsOnlyFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := testCLI(staticCreds, "us-east-1", nil).runTest(t, "", "--url", "http://127.0.0.1:1/v1/resolve", filepath.Join(dir, "check"))
	if res.code != exitUsage || !strings.Contains(res.stderr, "check: no such file") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	res = testCLI(staticCreds, "us-east-1", nil).runTest(t, "", "-h")
	for _, want := range []string{"maskctl mask <key> <secret ARN>", "maskctl check [payload.json|-]", "-max-age", "-refresh"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("-h does not mention %q:\n%s", want, res.stderr)
		}
	}
}
