package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Tests of --max-age and --refresh, which ask the API for values read at
// most so long ago (the request member "max_age": a cached value older
// than that is read again).

func TestRequestBodyMaxAge(t *testing.T) {
	t.Parallel()
	set := func(n int64) maxAge { return maxAge{seconds: n, set: true} }
	for _, tc := range []struct {
		name, payload string
		o             sendOptions
		want          string // the body sent
		note          string // the note; "" for none
	}{
		{name: "connection wrapped", payload: `{"a":"b"}`, o: sendOptions{maxAge: set(300)}, want: `{"connection":{"a":"b"},"max_age":300}`},
		{name: "zero is sent, not dropped", payload: `{"a":"b"}`, o: sendOptions{maxAge: set(0)}, want: `{"connection":{"a":"b"},"max_age":0}`},
		{name: "with dry run", payload: `[1]`, o: sendOptions{dryRun: true, maxAge: set(5)}, want: `{"connection":[1],"dry_run":true,"max_age":5}`},
		{name: "added to a request", payload: `{"connection":{"n":1.50}}`, o: sendOptions{maxAge: set(60)}, want: `{"connection":{"n":1.50},"max_age":60}`},
		{name: "request's dry_run kept", payload: `{"dry_run":true,"connection":"s"}`, o: sendOptions{maxAge: set(0)}, want: `{"connection":"s","dry_run":true,"max_age":0}`},
		{name: "same max_age, no note", payload: `{"connection":1,"max_age":0}`, o: sendOptions{maxAge: set(0), maxAgeFlag: "--refresh"}, want: `{"connection":1,"max_age":0}`},
		{name: "flag replaces max_age", payload: `{"connection":1,"max_age":3600}`, o: sendOptions{maxAge: set(0), maxAgeFlag: "--refresh"},
			want: `{"connection":1,"max_age":0}`, note: `--refresh replaces the payload's "max_age" with 0`},
		{name: "flag loosens max_age too", payload: `{"max_age":0,"connection":1}`, o: sendOptions{maxAge: set(300), maxAgeFlag: "--max-age"},
			want: `{"connection":1,"max_age":300}`, note: `--max-age replaces the payload's "max_age" with 300`},
		{name: "flag replaces a bad max_age", payload: `{"connection":1,"max_age":"soon"}`, o: sendOptions{maxAge: set(1), maxAgeFlag: "--max-age"},
			want: `{"connection":1,"max_age":1}`, note: `--max-age replaces the payload's "max_age" with 1`},

		// Without the flags a request with max_age is sent as it is: the
		// API, not maskctl, judges its value.
		{name: "request with max_age as is", payload: `{"connection": {}, "max_age": 30}`, want: `{"connection": {}, "max_age": 30}`},
		{name: "bad max_age as is", payload: `{"connection":{},"max_age":-1.5}`, want: `{"connection":{},"max_age":-1.5}`},
		{name: "dry run keeps max_age", payload: `{"connection":{},"max_age":30}`, o: sendOptions{dryRun: true}, want: `{"connection":{},"dry_run":true,"max_age":30}`},
		{name: "max_age alone is a connection", payload: `{"max_age":30}`, o: sendOptions{maxAge: set(0)}, want: `{"connection":{"max_age":30},"max_age":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, note, err := readRequest(strings.NewReader(tc.payload), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if note != tc.note {
				t.Errorf("note %q, want %q", note, tc.note)
			}
			if !json.Valid(got) {
				t.Errorf("the body is not JSON: %s", got)
			}
		})
	}
}

func TestMaxAgeFlags(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{"connection":{},"masks":[]}`)
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		sent   string
		stderr string
	}{
		{"--max-age", `{"client_secret":"` + seedMask + `"}`, []string{"--max-age", "300"},
			`{"connection":{"client_secret":"` + seedMask + `"},"max_age":300}`, ""},
		{"--max-age=0", `{}`, []string{"--max-age=0"}, `{"connection":{},"max_age":0}`, ""},
		{"--refresh", `{}`, []string{"--refresh"}, `{"connection":{},"max_age":0}`, ""},
		{"--refresh --dry-run", `{}`, []string{"--refresh", "--dry-run"}, `{"connection":{},"dry_run":true,"max_age":0}`, ""},
		{"--refresh over the request's max_age", `{"connection":{},"max_age":600}`, []string{"--refresh"},
			`{"connection":{},"max_age":0}`, "maskctl: note: --refresh replaces the payload's \"max_age\" with 0\n"},
		{"no flag, no max_age", `{}`, nil, `{"connection":{}}`, ""},
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
		// The signature covers the body with max_age in it.
		if _, err := verifySigV4(rec, retrieve(t, staticCreds)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestMaxAgeFlagErrors(t *testing.T) {
	t.Parallel()
	srv, got := apiServer(t, http.StatusOK, `{}`)
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"negative", []string{"--max-age", "-1"}, "maskctl: --max-age -1: must be 0 or more seconds"},
		{"a duration", []string{"--max-age", "5m"}, `invalid value "5m" for flag -max-age: want a whole number of seconds, such as 300`},
		{"a fraction", []string{"--max-age", "1.5"}, "want a whole number of seconds"},
		{"empty", []string{"--max-age="}, "want a whole number of seconds"},
		{"too large", []string{"--max-age", "99999999999999999999"}, "want a whole number of seconds"},
		{"--refresh and --max-age", []string{"--refresh", "--max-age", "60"}, "maskctl: --refresh and --max-age exclude each other (--refresh is --max-age 0)"},
		{"even when they agree", []string{"--max-age", "0", "--refresh"}, "exclude each other"},
	} {
		args := append([]string{"--url", srv.URL}, tc.args...)
		res := testCLI(staticCreds, "us-east-1", nil).runTest(t, `{}`, args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.stderr) || res.stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, res.code, res.stdout, res.stderr, tc.stderr)
		}
	}
	if len(got) != 0 {
		t.Errorf("%d requests sent for bad flags", len(got))
	}
}
