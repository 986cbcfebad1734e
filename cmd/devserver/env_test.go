package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With SECRETS_MANAGER=aws the devserver says where the function's calls
// go: the endpoint its environment names, as the SDK picks it, or AWS's.
func TestRealSecretsManager(t *testing.T) {
	t.Parallel()
	const moto = "http://127.0.0.1:5000"
	for _, tc := range []struct {
		name       string
		env        []string
		configured string
		want       string
	}{
		{"AWS", []string{"AWS_REGION=eu-west-1"}, "",
			"AWS Secrets Manager in eu-west-1, with your AWS credentials"},
		{"service variable", []string{"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + moto}, moto,
			"the Secrets Manager endpoint http://127.0.0.1:5000 (from AWS_ENDPOINT_URL_SECRETS_MANAGER), in region us-east-1"},
		{"service variable before the global one", []string{"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=http://other:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + moto}, moto,
			"the Secrets Manager endpoint http://127.0.0.1:5000 (from AWS_ENDPOINT_URL_SECRETS_MANAGER), in region us-east-1"},
		{"global variable", []string{"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=" + moto}, moto,
			"the Secrets Manager endpoint http://127.0.0.1:5000 (from AWS_ENDPOINT_URL), in region us-east-1"},
		{"shared config", []string{"AWS_REGION=us-east-1"}, moto,
			"the Secrets Manager endpoint http://127.0.0.1:5000 (from the shared config), in region us-east-1"},
		{"variables ignored", []string{"AWS_REGION=us-east-1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", "AWS_ENDPOINT_URL_SECRETS_MANAGER=" + moto}, "",
			"AWS Secrets Manager in us-east-1, with your AWS credentials"},
	} {
		if got := realSecretsManager(tc.env, tc.configured).String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// awsEnv hands on the endpoint the SDK resolves, the shared config's
// services section included, and the credentials it finds.
func TestAWSEnvEndpoint(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\nregion = eu-west-1\nservices = local\n\n[services local]\nsecrets_manager =\n  endpoint_url = http://127.0.0.1:4566\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "")
	os.Unsetenv("AWS_ENDPOINT_URL_SECRETS_MANAGER")

	env, configured, err := awsEnv(t.Context(), os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if configured != "http://127.0.0.1:4566" {
		t.Errorf("configured = %q, want the shared config's endpoint", configured)
	}
	if got := realSecretsManager(env, configured).String(); !strings.Contains(got, "http://127.0.0.1:4566 (from the shared config), in region eu-west-1") {
		t.Errorf("says %q", got)
	}

	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5000")
	env, configured, err = awsEnv(t.Context(), os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if got := realSecretsManager(env, configured).String(); !strings.Contains(got, "http://127.0.0.1:5000 (from AWS_ENDPOINT_URL_SECRETS_MANAGER)") {
		t.Errorf("with the variable set, says %q", got)
	}
}

// Against the double the usage resolves the seed example; against any
// other Secrets Manager the seed's secret does not exist, so the usage
// shows the mask to fill in and how to list the secrets there.
func TestPrintUsage(t *testing.T) {
	t.Parallel()
	const front = "http://127.0.0.1:3000"
	var fake strings.Builder
	printUsage(&fake, front, "", nil)
	if !strings.Contains(fake.String(), "Resolve the seed example:\n  curl -s -X POST "+front+"/v1/resolve") ||
		!strings.Contains(fake.String(), seedMask) || strings.Contains(fake.String(), "list-secrets") {
		t.Errorf("against the double:\n%s", fake.String())
	}

	for _, tc := range []struct {
		sm   secretsManager
		list string
	}{
		{secretsManager{endpoint: "http://127.0.0.1:5000", source: "AWS_ENDPOINT_URL_SECRETS_MANAGER", region: "us-east-1"},
			"aws secretsmanager list-secrets --endpoint-url http://127.0.0.1:5000 --region us-east-1 --query 'SecretList[].ARN'"},
		{secretsManager{region: "eu-west-1"}, "aws secretsmanager list-secrets --region eu-west-1 --query 'SecretList[].ARN'"},
	} {
		var out strings.Builder
		printUsage(&out, front, "", &tc.sm)
		got := out.String()
		if strings.Contains(got, seedMask) || strings.Contains(got, "seed example") {
			t.Errorf("%s: offers the seed example, which only the double holds:\n%s", tc.sm, got)
		}
		if !strings.Contains(got, `-d '{"connection":{"client_secret":"`+anyMask+`"}}'`) || !strings.Contains(got, tc.list) {
			t.Errorf("%s: no mask to fill in or no %q:\n%s", tc.sm, tc.list, got)
		}
	}
}
