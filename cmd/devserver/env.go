package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Where the function's Secrets Manager calls go.
const (
	smFake = "fake" // the in-process double
	smAWS  = "aws"  // AWS's service or a configured endpoint, with the developer's credentials
)

const defaultRegion = "us-east-1"

// defaultTimeout is the function's Timeout in template.yaml, in seconds. The
// emulator's own default is 300, and the function times its Secrets Manager
// reads against the invocation's deadline.
const defaultTimeout = "15"

// lambdaDefaults sets what both modes share.
func lambdaDefaults(env map[string]string) {
	for _, k := range neverInherit {
		delete(env, k)
	}
	if env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "" {
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = defaultTimeout
	}
	if env["AWS_LAMBDA_FUNCTION_NAME"] == "" {
		env["AWS_LAMBDA_FUNCTION_NAME"] = "maskresolver-local"
	}
	env["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"
	env["AWS_EC2_METADATA_DISABLED"] = "true"
}

// Always dropped. The function supports AWS_LAMBDA_MAX_CONCURRENCY
// (aws-lambda-go ≥ 1.55 runs that many invocations at once in one
// environment; cmd/resolver's TestConcurrentInvocationsShareReads drives it
// with a Runtime API of its own), but the emulator's classic mode, which
// the devserver drives, runs one invocation at a time: with the variable
// set, aws-lambda-rie switches to its Lambda Managed Instances mode, which
// the devserver is neither built nor tested for.
var neverInherit = []string{"AWS_LAMBDA_MAX_CONCURRENCY"}

// Dropped when the double serves: anything that could make the SDK look for
// real credentials or another endpoint. A profile that does not exist here
// would even fail the cold start.
var notWithDouble = []string{
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
}

// doubleEnv is the function's environment against the double at smURL: the
// parent's, with dummy credentials (the emulator would otherwise set them to
// empty strings) and the endpoint override.
func doubleEnv(parent []string, smURL string) []string {
	env := envMap(parent)
	lambdaDefaults(env)
	for _, k := range notWithDouble {
		delete(env, k)
	}
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = smURL
	env["AWS_ACCESS_KEY_ID"] = "local"
	env["AWS_SECRET_ACCESS_KEY"] = "local"
	env["AWS_SESSION_TOKEN"] = "local"
	if env["AWS_REGION"] == "" {
		env["AWS_REGION"] = defaultRegion
	}
	return envList(env)
}

// awsEnv is the function's environment against a Secrets Manager other
// than the double: AWS's, or the endpoint the environment or the shared
// config names. The emulator hands the function AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN as empty strings unless they
// are set, and an empty AWS_ACCESS_KEY_ID hides a profile from the SDK: so
// the credentials are resolved here, the way the function would (profile,
// SSO, ~/.aws), and passed as static values.
//
// configured is the endpoint the SDK resolves here for Secrets Manager
// from the environment and the shared config (its services section), or
// "" for AWS's own.
func awsEnv(ctx context.Context, parent []string) (env []string, configured string, err error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("SECRETS_MANAGER=aws needs AWS credentials: %w", err)
	}
	configured = aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint)
	m := envMap(parent)
	lambdaDefaults(m)
	m["AWS_ACCESS_KEY_ID"] = creds.AccessKeyID
	m["AWS_SECRET_ACCESS_KEY"] = creds.SecretAccessKey
	m["AWS_SESSION_TOKEN"] = creds.SessionToken
	region := cfg.Region
	if region == "" {
		region = defaultRegion
	}
	m["AWS_REGION"] = region
	return envList(m), configured, nil
}

// secretsManager says where the function's Secrets Manager calls go when
// the double does not serve.
type secretsManager struct {
	endpoint string // "" for AWS's own endpoint of the region
	source   string // what named the endpoint
	region   string
}

// realSecretsManager is where the function with environment env calls
// Secrets Manager, chosen as the SDK chooses: AWS_ENDPOINT_URL_SECRETS_MANAGER,
// then AWS_ENDPOINT_URL (neither when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// is true), then the endpoint configured in the shared config, then AWS's
// own. env is the function's whole environment, -env-vars included, so
// its variables are read from it; configured is awsEnv's.
func realSecretsManager(env []string, configured string) secretsManager {
	m := envMap(env)
	sm := secretsManager{region: m["AWS_REGION"]}
	if !strings.EqualFold(m["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"], "true") {
		for _, k := range []string{"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"} {
			if v := m[k]; v != "" {
				sm.endpoint, sm.source = v, k
				return sm
			}
		}
	}
	if configured != "" {
		sm.endpoint, sm.source = configured, "the shared config"
	}
	return sm
}

// String is where the calls go, for the devserver's log.
func (sm secretsManager) String() string {
	if sm.endpoint == "" {
		return fmt.Sprintf("AWS Secrets Manager in %s, with your AWS credentials", sm.region)
	}
	return fmt.Sprintf("the Secrets Manager endpoint %s (from %s), in region %s", sm.endpoint, sm.source, sm.region)
}

// withEnvVars overlays a SAM --env-vars file: its "Parameters" section
// applies to every function, the section named function to this one.
func withEnvVars(env []string, path, function string) ([]string, error) {
	if path == "" {
		return env, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env vars: %w", err)
	}
	var f map[string]map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("env vars %s: %w", path, err)
	}
	m := envMap(env)
	for _, section := range []string{"Parameters", function} {
		for k, v := range f[section] {
			switch v := v.(type) {
			case string:
				m[k] = v
			case float64, bool:
				m[k] = fmt.Sprint(v)
			default:
				return nil, fmt.Errorf("env vars %s: %s.%s is not a string, number or boolean", path, section, k)
			}
		}
	}
	return envList(m), nil
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}
