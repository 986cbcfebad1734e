package resolve_test

import (
	"context"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

const (
	ciCaller    = "arn:aws:iam::123456789012:role/ci"
	otherCaller = "arn:aws:iam::123456789012:role/other"
	roleA       = "arn:aws:iam::210987654321:role/tenant-a"
	roleDenied  = "arn:aws:iam::210987654321:role/denied"
	roleThrottl = "arn:aws:iam::210987654321:role/throttled"
	roleSlow    = "arn:aws:iam::210987654321:role/slow"
	// extCanary is tenant-a's external id: it may reach STS and nothing
	// else.
	extCanary = "ext-CANARY-q9Zr4x"
	// tenantARN is a secret of tenant-a, inside its scope's secrets.
	tenantARN = "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/api-Tn4nt1"
	// scopesARN is SCOPES_SECRET_ARN; scopesPartial its partial ARN.
	scopesARN     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes-Sc0p3s"
	scopesPartial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:maskresolver/scopes"
)

// scopesDoc is the SecretString of SCOPES_SECRET_ARN in these tests.
const scopesDoc = `{
 "tenant-a": {"role_arn": "` + roleA + `", "external_id": "` + extCanary + `",
   "callers": ["` + ciCaller + `"], "secrets": ["arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"]},
 "direct": {"role_arn": "` + roleA + `", "callers": ["*"],
   "secrets": ["arn:aws:secretsmanager:*:210987654321:secret:tenant-a/*"]},
 "wide": {"role_arn": "` + roleA + `", "callers": ["` + ciCaller + `"], "secrets": ["arn:aws:secretsmanager:*"]},
 "denied": {"role_arn": "` + roleDenied + `", "callers": ["` + ciCaller + `"], "secrets": ["arn:aws:secretsmanager:*"]},
 "throttled": {"role_arn": "` + roleThrottl + `", "callers": ["` + ciCaller + `"], "secrets": ["arn:aws:secretsmanager:*"]},
 "slow": {"role_arn": "` + roleSlow + `", "callers": ["` + ciCaller + `"], "secrets": ["arn:aws:secretsmanager:*"]}
}`

// fakeSTS answers AssumeRole: credentials for roleA, AccessDenied for
// roleDenied, Throttling for roleThrottl, and for roleSlow an answer that
// comes too late for a short deadline.
type fakeSTS struct {
	mu    sync.Mutex
	calls []sts.AssumeRoleInput
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, *in)
	f.mu.Unlock()
	switch aws.ToString(in.RoleArn) {
	case roleDenied:
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized; external id " + aws.ToString(in.ExternalId)}
	case roleThrottl:
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	case roleSlow:
		time.Sleep(300 * time.Millisecond)
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "late"}
	}
	return &sts.AssumeRoleOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String("ASIATENANTA"), SecretAccessKey: aws.String("secret"),
		SessionToken: aws.String("token"), Expiration: aws.Time(time.Now().Add(time.Hour)),
	}}, nil
}

func (f *fakeSTS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// docSecret is the Secrets Manager client that reads SCOPES_SECRET_ARN.
type docSecret struct{}

func (docSecret) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{ARN: aws.String(scopesARN), SecretString: aws.String(scopesDoc)}, nil
}

// partitions are the store's partitions: each is a memStore of its own,
// made on first use, with tenant-a's secret in it (the unscoped store
// never has it), and the credentials it was given.
type partitions struct {
	mu    sync.Mutex
	parts map[string]*memStore
	creds map[string]aws.CredentialsProvider
	// extra are secrets every partition has, by the ARN they are asked as.
	extra map[string]*secrets.Secret
}

func (p *partitions) get(key string, creds aws.CredentialsProvider) resolve.Store {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.parts[key]; ok {
		return s
	}
	s := newMemStore()
	s.secrets[tenantARN] = secrets.NewSecret(tenantARN, `{"token":"tenant-a-value"}`)
	maps.Copy(s.secrets, p.extra)
	p.parts[key], p.creds[key] = s, creds
	return s
}

// asked lists every ARN any partition was asked for.
func (p *partitions) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var all []string
	for _, s := range p.parts {
		for _, a := range s.asked {
			all = append(all, a...)
		}
	}
	return all
}

// scopeFixture is a resolver with the scopes of scopesDoc.
type scopeFixture struct {
	sts   *fakeSTS
	reg   *scopes.Registry
	parts *partitions
	own   *memStore // the unscoped partition
	r     *resolve.Resolver
}

func newScopeFixture(t *testing.T, opts ...resolve.Option) *scopeFixture {
	t.Helper()
	f := &scopeFixture{sts: &fakeSTS{}, own: newMemStore(),
		parts: &partitions{parts: map[string]*memStore{}, creds: map[string]aws.CredentialsProvider{}}}
	reg, err := scopes.New(context.Background(), f.sts, scopes.WithScopesSecret(scopesARN, docSecret{}),
		scopes.WithFunctionName("maskresolver-test"))
	if err != nil {
		t.Fatal(err)
	}
	f.reg = reg
	f.r = resolve.New(f.own, append([]resolve.Option{resolve.WithScopes(reg, f.parts.get)}, opts...)...)
	return f
}

// scoped is a request body naming scope.
func scoped(scope, conn string) []byte {
	return []byte(`{"scope":"` + scope + `","connection":` + conn + `}`)
}

// noCanary fails when text holds the external id or a part of it.
func noCanary(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, extCanary) || strings.Contains(text, "q9Zr4x") {
		t.Errorf("%s holds the external id: %s", what, text)
	}
}
