package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/mask"
)

const jiraARN = "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"

// offlineCLI is maskctl whose AWS configuration and environment fail the
// test when touched: mask and check must work without them.
func offlineCLI(t *testing.T) cli {
	return cli{
		getenv: func(k string) string {
			t.Errorf("read the environment variable %s", k)
			return ""
		},
		loadConfig: func(context.Context, string, string) (aws.Config, error) {
			t.Error("loaded the AWS configuration")
			return aws.Config{}, errors.New("no AWS here")
		},
	}
}

func TestMaskCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		key, arn string
		want     string // stdout
		note     string // part of stderr, for a legal but suspicious key
	}{
		{name: "the spec's example", key: "prod.jira.secret.key", arn: jiraARN, want: seedMask + "\n"},
		{name: "key with colons, spaces, @ and /", key: "db:primary user@host/x", arn: jiraARN,
			want: "{{workato:sm:db:primary user@host/x:" + jiraARN + "}}\n"},
		{name: "key that looks like an ARN", key: "arn:aws:x", arn: jiraARN, want: "{{workato:sm:arn:aws:x:" + jiraARN + "}}\n"},
		{name: "key with { and a quote", key: `{{a"b\`, arn: jiraARN, want: `{{workato:sm:{{a"b\:` + jiraARN + "}}\n"},
		{name: "key holding the prefix", key: mask.Prefix + "k", arn: jiraARN, want: mask.Prefix + mask.Prefix + "k:" + jiraARN + "}}\n"},
		{name: "partial ARN", key: "password", arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db",
			want: "{{workato:sm:password:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db}}\n"},
		{name: "GovCloud", key: "k", arn: "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a+b=c.d@e_f-AbC123",
			want: "{{workato:sm:k:arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a+b=c.d@e_f-AbC123}}\n"},
		{name: "unicode key", key: "clé", arn: jiraARN, want: "{{workato:sm:clé:" + jiraARN + "}}\n"},
		{name: "key after --", key: "-k", arn: jiraARN, want: "{{workato:sm:-k:" + jiraARN + "}}\n"},
		{name: "trailing space noted", key: "password ", arn: jiraARN, want: "{{workato:sm:password :" + jiraARN + "}}\n",
			note: `maskctl mask: note: the key "password " begins or ends with white space`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := offlineCLI(t).runTest(t, "", "mask", "--", tc.key, tc.arn)
			if res.code != exitOK || res.stdout != tc.want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", res.code, res.stdout, res.stderr, tc.want)
			}
			if tc.note == "" && res.stderr != "" || !strings.Contains(res.stderr, tc.note) {
				t.Errorf("stderr %q, want %q", res.stderr, tc.note)
			}
			// What is printed is one mask, found whole in a string, with
			// the key and ARN that were given.
			printed := strings.TrimSuffix(res.stdout, "\n")
			found := mask.Find("x " + printed + " y")
			if len(found) != 1 || found[0].Err != nil || found[0].Mask.Key != tc.key || found[0].Mask.ARN.String() != tc.arn {
				t.Errorf("Find on the printed mask: %+v", found)
			}
		})
	}
}

func TestMaskCommandErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"empty key", []string{"", jiraARN}, "maskctl mask: the key is empty"},
		{"key with }", []string{"a}b", jiraARN}, `maskctl mask: the key "a}b" holds "}" at byte 1: a mask ends at its first "}"`},
		{"key with }}", []string{"a}}", jiraARN}, `holds "}" at byte 1`},
		{"key not UTF-8", []string{"a\xffb", jiraARN}, `the key "a\xffb" is not valid UTF-8`},
		{"empty ARN", []string{"k", ""}, `maskctl mask: the secret ARN "": ARN "" has 1 colon-separated fields, want 7 (at byte 0)`},
		{"short ARN", []string{"a:b", "arn:aws:secretsmanager:us-east-1:137149879143:prod-jira"},
			`the secret ARN "arn:aws:secretsmanager:us-east-1:137149879143:prod-jira": ARN "arn:aws:secretsmanager:us-east-1:137149879143:prod-jira" has 6 colon-separated fields, want 7`},
		{"long ARN", []string{"k", jiraARN + ":x"}, `secret name "prod-jira-credentials-FsmeTs:x" has invalid character ':'`},
		{"bad partition", []string{"k", "arn:azure:secretsmanager:us-east-1:137149879143:secret:x"},
			`the secret ARN "arn:azure:secretsmanager:us-east-1:137149879143:secret:x": partition "azure" is not "aws" or "aws-*" (at byte 4)`},
		{"other service", []string{"k", "arn:aws:ssm:us-east-1:137149879143:parameter:x"}, `service must be "secretsmanager", found "ssm" (at byte 8)`},
		{"bad region", []string{"k", "arn:aws:secretsmanager:useast1:137149879143:secret:x"}, `region "useast1" is not a region`},
		{"short account", []string{"k", "arn:aws:secretsmanager:us-east-1:13714987914:secret:x"}, `account "13714987914" is not 12 digits (at byte 33)`},
		{"bad name", []string{"k", "arn:aws:secretsmanager:us-east-1:137149879143:secret:a b"}, `has invalid character ' '`},
		{"ARN with a space before", []string{"k", " " + jiraARN}, `ARN must start with "arn:", found " arn"`},
		{"swapped", []string{jiraARN, "prod.jira.secret.key"}, "(the key is an ARN: the order is <key> <secret ARN>)"},
		{"no arguments", nil, "maskctl mask: want a key and a secret ARN, got neither\nusage: maskctl mask <key> <secret ARN> (maskctl mask -h says more)\n"},
		{"only a key", []string{"k"}, "maskctl mask: want a key and a secret ARN, got one argument: put the secret's ARN after the key\nusage:"},
		{"only an ARN", []string{jiraARN}, "got only the ARN: put the key, a member of the secret's JSON SecretString, before it"},
		{"three arguments", []string{"my", "key", jiraARN}, "want a key and a secret ARN, got 3 arguments: quote a key that holds spaces ('my key')"},
		{"flag after the key", []string{"k", jiraARN, "-h"}, `got 3 arguments: flags go before the key ("-h" came after it)`},
		{"unknown flag", []string{"-x", jiraARN}, "flag provided but not defined: -x"},
	} {
		res := offlineCLI(t).runTest(t, "", append([]string{"mask"}, tc.args...)...)
		if res.code != exitUsage || res.stdout != "" || !strings.Contains(res.stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.name, res.code, res.stdout, res.stderr, tc.stderr)
		}
	}

	res := offlineCLI(t).runTest(t, "", "mask", "-h")
	if res.code != exitOK || !strings.HasPrefix(res.stderr, "usage: maskctl mask <key> <secret ARN>") {
		t.Errorf("-h: exit %d, stderr %q", res.code, res.stderr)
	}
}

// FuzzBuildMask checks that whatever buildMask accepts, the grammar reads
// back as the same key and ARN, and that whatever it refuses, the grammar
// refuses too.
func FuzzBuildMask(f *testing.F) {
	f.Add("prod.jira.secret.key", jiraARN)
	f.Add("a:b", "arn:aws:secretsmanager:us-east-1:137149879143:prod-jira")
	f.Add("k}", jiraARN)
	f.Add("", jiraARN)
	f.Add(jiraARN, "k")
	f.Add("{{workato:sm:", "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x")
	f.Fuzz(func(t *testing.T, key, arn string) {
		s, err := buildMask(key, arn)
		m, perr := mask.Parse(mask.Prefix + key + ":" + arn + "}}")
		if err != nil {
			// The key checks are stricter than the grammar only in
			// asking for UTF-8; otherwise a refused pair must not parse
			// back as itself.
			if perr == nil && m.Key == key && m.ARN.String() == arn && utf8.ValidString(key) {
				t.Fatalf("buildMask(%q, %q) refused what the grammar accepts: %v", key, arn, err)
			}
			return
		}
		if perr != nil || m.Key != key || m.ARN.String() != arn || s != m.String() {
			t.Fatalf("buildMask(%q, %q) = %q, which parses as %+v, %v", key, arn, s, m, perr)
		}
	})
}
