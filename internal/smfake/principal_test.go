package smfake_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// Secrets of the principal tests: one only roleA may read, one only the
// default principal may read, and prod/db (from start) that anyone may.
const (
	tenantARN = "arn:aws:secretsmanager:us-east-1:210987654321:secret:tenant-a/api-Tn4nt1"
	ownARN    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:own/key-0wnK3y"
)

// startScoped serves the double with the three secrets, roleA assumable
// with extID, and returns clients signing as the default principal and as
// roleA (through stscreds).
func startScoped(t *testing.T) (s *smfake.Server, def, role *secretsmanager.Client) {
	t.Helper()
	s, cfg := start(t)
	if err := s.AddRole(roleA, smfake.RequireExternalID(extID)); err != nil {
		t.Fatal(err)
	}
	for arn, readers := range map[string][]string{tenantARN: {roleA}, ownARN: {smfake.DefaultPrincipal}} {
		if _, err := s.Put(smfake.Secret{ARN: arn, String: aws.String("v:" + arn), Readers: readers}); err != nil {
			t.Fatal(err)
		}
	}
	return s, client(cfg, region), client(asRole(cfg, roleA, withExternalID(extID)), region)
}

func get1(t *testing.T, c *secretsmanager.Client, id string) (string, error) {
	t.Helper()
	out, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

func TestReadPermissions(t *testing.T) {
	t.Parallel()
	s, def, role := startScoped(t)
	tests := []struct {
		name   string
		c      *secretsmanager.Client
		id     string
		denied bool
	}{
		{"role reads its secret", role, tenantARN, false},
		{"default may not read the role's", def, tenantARN, true},
		{"default reads its own", def, ownARN, false},
		{"role may not read the default's", role, ownARN, true},
		{"role reads an open secret", role, dbARN, false},
		{"default reads an open secret", def, "prod/db", false},
	}
	for _, tt := range tests {
		v, err := get1(t, tt.c, tt.id)
		if tt.denied {
			if errorCode(err) != "AccessDeniedException" || httpStatus(err) != 400 || v != "" {
				t.Errorf("%s: GetSecretValue = %q, %v; want AccessDeniedException", tt.name, v, err)
			}
		} else if err != nil || v == "" {
			t.Errorf("%s: GetSecretValue = %q, %v", tt.name, v, err)
		}
		_, err = tt.c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(tt.id)})
		if denied := errorCode(err) == "AccessDeniedException"; denied != tt.denied || (!denied && err != nil) {
			t.Errorf("%s: DescribeSecret: %v, want denied %v", tt.name, err, tt.denied)
		}
	}

	// Reads are counted per principal, denied ones included; the role was
	// assumed once for all of its reads.
	for _, c := range []struct {
		principal, id string
		want          int
	}{
		{roleA, tenantARN, 1}, {roleA, ownARN, 1}, {roleA, dbARN, 1}, {roleA, "", 3},
		{smfake.DefaultPrincipal, tenantARN, 1}, {smfake.DefaultPrincipal, "prod/db", 1}, {smfake.DefaultPrincipal, "", 3},
		{roleB, "", 0},
	} {
		if got := s.SecretReadsBy(c.principal, c.id); got != c.want {
			t.Errorf("SecretReadsBy(%s, %q) = %d, want %d", c.principal, c.id, got, c.want)
		}
	}
	if n := s.Calls("AssumeRole"); n != 1 {
		t.Errorf(`Calls("AssumeRole") = %d, want 1`, n)
	}
	s.ResetCalls()
	if n := s.SecretReadsBy(roleA, ""); n != 0 || len(s.AssumeRoleCalls()) != 0 {
		t.Errorf("after ResetCalls: %d reads, %d AssumeRole calls", n, len(s.AssumeRoleCalls()))
	}
}

func TestBatchReadPermissions(t *testing.T) {
	t.Parallel()
	_, def, role := startScoped(t)
	ids := []string{tenantARN, ownARN, dbARN}
	for _, tt := range []struct {
		name             string
		c                *secretsmanager.Client
		wantRead, denied []string
	}{
		{"role", role, []string{tenantARN, dbARN}, []string{ownARN}},
		{"default", def, []string{ownARN, dbARN}, []string{tenantARN}},
	} {
		out, err := tt.c.BatchGetSecretValue(t.Context(), &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var read, denied []string
		for _, v := range out.SecretValues {
			read = append(read, aws.ToString(v.ARN))
		}
		for _, e := range out.Errors {
			if aws.ToString(e.ErrorCode) != "AccessDeniedException" || !strings.Contains(aws.ToString(e.Message), "not authorized") {
				t.Errorf("%s: Errors entry %s %s", tt.name, aws.ToString(e.ErrorCode), aws.ToString(e.Message))
			}
			denied = append(denied, aws.ToString(e.SecretId))
		}
		if !slices.Equal(read, tt.wantRead) || !slices.Equal(denied, tt.denied) {
			t.Errorf("%s: read %v, denied %v; want %v, %v", tt.name, read, denied, tt.wantRead, tt.denied)
		}
	}
}

func TestGrant(t *testing.T) {
	t.Parallel()
	s, def, role := startScoped(t)
	// A first grant shuts out everyone else: prod/db was open.
	if err := s.Grant("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", roleA); err != nil {
		t.Fatal(err)
	}
	if _, err := get1(t, def, "prod/db"); errorCode(err) != "AccessDeniedException" {
		t.Errorf("default after the grant to the role: %v, want AccessDeniedException", err)
	}
	if _, err := get1(t, role, dbARN); err != nil {
		t.Errorf("role after its grant: %v", err)
	}
	if err := s.Grant(dbARN, smfake.DefaultPrincipal); err != nil {
		t.Fatal(err)
	}
	if _, err := get1(t, def, "prod/db"); err != nil {
		t.Errorf("default after its grant: %v", err)
	}

	// A new value keeps the readers; Readers set replaces them, and an
	// empty list opens the secret to anyone.
	if _, err := s.Put(smfake.Secret{ARN: tenantARN, String: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := get1(t, def, tenantARN); errorCode(err) != "AccessDeniedException" {
		t.Errorf("default after a new value: %v, want AccessDeniedException", err)
	}
	if _, err := s.Put(smfake.Secret{ARN: tenantARN, String: aws.String("v3"), Readers: []string{}}); err != nil {
		t.Fatal(err)
	}
	if v, err := get1(t, def, tenantARN); err != nil || v != "v3" {
		t.Errorf("default after Readers emptied: %q, %v", v, err)
	}

	for _, bad := range [][2]string{{"prod/db", roleA}, {"arn:aws:secretsmanager:us-east-1:123456789012:secret:none", roleA}, {dbARN, ""}} {
		if err := s.Grant(bad[0], bad[1]); err == nil {
			t.Errorf("Grant(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

// TestSessionCredentials: Secrets Manager takes an issued key only with
// its token, and only until it expires.
func TestSessionCredentials(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	s.SetClock(clock.Now)
	if err := s.AddRole(roleA, smfake.CredentialLifetime(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	out, err := stsClient(cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String(roleA), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(3600),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if got, want := aws.ToTime(c.Expiration), clock.Now().Add(10*time.Second); !got.Equal(want) {
		t.Errorf("Expiration = %v, want %v (the role's lifetime)", got, want)
	}
	with := func(token string) *secretsmanager.Client {
		cfg := cfg
		cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), token)
		return client(cfg, region)
	}
	if _, err := get1(t, with(aws.ToString(c.SessionToken)), "prod/db"); err != nil {
		t.Fatal(err)
	}
	if _, err := get1(t, with("forged"), "prod/db"); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("wrong token: %v, want UnrecognizedClientException", err)
	}
	clock.Advance(10 * time.Second)
	if _, err := get1(t, with(aws.ToString(c.SessionToken)), "prod/db"); errorCode(err) != "ExpiredTokenException" {
		t.Errorf("expired: %v, want ExpiredTokenException", err)
	}
	if n := s.SecretReadsBy(roleA, "prod/db"); n != 1 {
		t.Errorf("SecretReadsBy = %d, want 1: rejected keys read nothing", n)
	}
}

func TestLoadRolesAndReaders(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	seed := `{"secrets": [{"arn": "` + tenantARN + `", "secret_string": "t", "readers": ["` + roleA + `"]}],
	          "roles": [{"arn": "` + roleA + `", "external_id": "` + extID + `"}, {"arn": "` + roleB + `"}]}`
	if err := s.Load(strings.NewReader(seed)); err != nil {
		t.Fatal(err)
	}
	if _, err := get1(t, client(cfg, region), tenantARN); errorCode(err) != "AccessDeniedException" {
		t.Errorf("default: %v, want AccessDeniedException", err)
	}
	if v, err := get1(t, client(asRole(cfg, roleA, withExternalID(extID)), region), tenantARN); err != nil || v != "t" {
		t.Errorf("role A: %q, %v", v, err)
	}
	if _, err := get1(t, client(asRole(cfg, roleA), region), tenantARN); errorCode(err) != "AccessDenied" {
		t.Errorf("role A without its external id: %v, want AccessDenied", err)
	}
	if _, err := asRole(cfg, roleB).Credentials.Retrieve(t.Context()); err != nil {
		t.Errorf("role B: %v", err)
	}
	if err := s.AddRole("arn:aws:iam::210987654321:user/tenant-a"); err == nil {
		t.Error("AddRole of a user ARN succeeded")
	}
	for name, seed := range map[string]string{
		"bad role ARN":  `{"roles": [{"arn": "arn:aws:iam::1:user/x"}]}`,
		"unknown field": `{"roles": [{"arn": "` + roleA + `", "external-id": "x"}]}`,
	} {
		if err := smfake.New().Load(strings.NewReader(seed)); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
}
