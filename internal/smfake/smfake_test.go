package smfake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	account = "123456789012"
	region  = "us-east-1"
	dbARN   = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123"
	dbValue = `{"password":"hunter2"}`
)

// start serves a fresh double holding the prod/db secret and returns it
// with a real SDK client for region that makes a single attempt per call.
func start(t *testing.T, opts ...smfake.Option) (*smfake.Server, aws.Config) {
	t.Helper()
	s := smfake.New(opts...)
	if _, err := s.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue)}); err != nil {
		t.Fatal(err)
	}
	_, cfg := smfake.Serve(t, s)
	return s, cfg
}

func client(cfg aws.Config, region string, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	cfg.Region, cfg.RetryMaxAttempts = region, 1
	return secretsmanager.NewFromConfig(cfg, optFns...)
}

func TestGetSecretValue(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	bin := []byte{0, 1, 2, 0xff}
	binARN, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:cert", Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	euARN, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db", String: aws.String("eu")})
	if err != nil {
		t.Fatal(err)
	}
	c := client(ts, region)

	tests := []struct {
		name, id string
		stage    string
		wantARN  string
		wantStr  string
		wantBin  []byte
		wantErr  bool
	}{
		{name: "full ARN", id: dbARN, wantARN: dbARN, wantStr: dbValue},
		{name: "partial ARN", id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", wantARN: dbARN, wantStr: dbValue},
		{name: "name", id: "prod/db", wantARN: dbARN, wantStr: dbValue},
		{name: "AWSCURRENT stage", id: "prod/db", stage: "AWSCURRENT", wantARN: dbARN, wantStr: dbValue},
		{name: "binary", id: "cert", wantARN: binARN, wantBin: bin},
		{name: "ARN of another region", id: euARN, wantARN: euARN, wantStr: "eu"},
		{name: "partial ARN of another region", id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db", wantARN: euARN, wantStr: "eu"},

		// errors
		{name: "wrong suffix", id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-XyZ789", wantErr: true},
		{name: "other account", id: "arn:aws:secretsmanager:us-east-1:999999999999:secret:prod/db", wantErr: true},
		{name: "other partition", id: "arn:aws-cn:secretsmanager:us-east-1:123456789012:secret:prod/db", wantErr: true},
		{name: "missing name", id: "prod/nope", wantErr: true},
		{name: "previous stage", id: "prod/db", stage: "AWSPREVIOUS", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.id)}
			if tt.stage != "" {
				in.VersionStage = aws.String(tt.stage)
			}
			out, err := c.GetSecretValue(t.Context(), in)
			if tt.wantErr {
				var nf *types.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Fatalf("err = %v, want ResourceNotFoundException", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.ARN); got != tt.wantARN {
				t.Errorf("ARN = %s, want %s", got, tt.wantARN)
			}
			if tt.wantBin != nil {
				if !bytes.Equal(out.SecretBinary, tt.wantBin) || out.SecretString != nil {
					t.Errorf("value = %q/%v, want binary %v", aws.ToString(out.SecretString), out.SecretBinary, tt.wantBin)
				}
			} else if got := aws.ToString(out.SecretString); got != tt.wantStr || out.SecretBinary != nil {
				t.Errorf("SecretString = %q, want %q", got, tt.wantStr)
			}
			if aws.ToString(out.VersionId) == "" || !slices.Equal(out.VersionStages, []string{"AWSCURRENT"}) {
				t.Errorf("VersionId = %q, VersionStages = %v", aws.ToString(out.VersionId), out.VersionStages)
			}
			if d := time.Since(aws.ToTime(out.CreatedDate)); d < 0 || d > time.Minute {
				t.Errorf("CreatedDate = %v, want about now", out.CreatedDate)
			}
		})
	}
}

func TestPutReplaceNewVersion(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	c := client(ts, region)
	first, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123", String: aws.String("v2")})
	if err != nil || got != dbARN {
		t.Fatalf("Put = %s, %v; want %s", got, err, dbARN)
	}
	second, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(second.SecretString) != "v2" || aws.ToString(second.VersionId) == aws.ToString(first.VersionId) {
		t.Errorf("after replace: value %q version %s (was %s)", aws.ToString(second.SecretString), aws.ToString(second.VersionId), aws.ToString(first.VersionId))
	}
	_, err = c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db"), VersionId: first.VersionId})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("old VersionId: err = %v, want ResourceNotFoundException", err)
	}
}

func TestPut(t *testing.T) {
	t.Parallel()
	s := smfake.New()
	partial := "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/token"
	a1, err := s.Put(smfake.Secret{ARN: partial, String: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := smfake.New().Put(smfake.Secret{ARN: partial, String: aws.String("y")})
	if err != nil {
		t.Fatal(err)
	}
	if a1 != a2 || !strings.HasPrefix(a1, partial+"-") || len(a1) != len(partial)+7 {
		t.Errorf("Put(partial) = %s and %s, want the same %s-XXXXXX", a1, a2, partial)
	}

	for _, sec := range []smfake.Secret{
		{ARN: "app/token", String: aws.String("x")},
		{ARN: "arn:aws:s3:::bucket", String: aws.String("x")},
		{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:rule:x", String: aws.String("x")},
		{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:", String: aws.String("x")},
		{ARN: partial, String: aws.String("x"), Binary: []byte("y")},
	} {
		if got, err := s.Put(sec); err == nil {
			t.Errorf("Put(%+v) = %s, want an error", sec, got)
		}
	}
}

func TestBatchGetSecretValue(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	for _, sec := range []smfake.Secret{
		{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key", String: aws.String("k")},
		{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:kms-broken", String: aws.String("z")},
		{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", String: aws.String("g"), Deleted: true},
	} {
		if _, err := s.Put(sec); err != nil {
			t.Fatal(err)
		}
	}
	s.Inject(smfake.Fault{Op: "BatchGetSecretValue", SecretID: "kms-broken", Code: "DecryptionFailure"})
	c := client(ts, region)

	ids := []string{dbARN, "api-key", "missing", "kms-broken", "gone"}
	out, err := c.BatchGetSecretValue(t.Context(), &secretsmanager.BatchGetSecretValueInput{SecretIdList: ids})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range out.SecretValues {
		got[aws.ToString(v.Name)] = aws.ToString(v.SecretString)
		if aws.ToString(v.VersionId) == "" || v.CreatedDate == nil {
			t.Errorf("entry %s lacks VersionId or CreatedDate", aws.ToString(v.ARN))
		}
	}
	if want := map[string]string{"prod/db": dbValue, "api-key": "k"}; !maps.Equal(got, want) {
		t.Errorf("SecretValues = %v, want %v", got, want)
	}
	gotErrs := map[string]string{}
	for _, e := range out.Errors {
		gotErrs[aws.ToString(e.SecretId)] = aws.ToString(e.ErrorCode)
		if aws.ToString(e.Message) == "" {
			t.Errorf("error entry %s has no Message", aws.ToString(e.SecretId))
		}
	}
	wantErrs := map[string]string{
		"missing":    "ResourceNotFoundException",
		"kms-broken": "DecryptionFailure",
		"gone":       "InvalidRequestException",
	}
	if !maps.Equal(gotErrs, wantErrs) {
		t.Errorf("Errors = %v, want %v", gotErrs, wantErrs)
	}
	for _, id := range ids {
		if n := s.SecretReads(id); n != 1 {
			t.Errorf("SecretReads(%s) = %d, want 1", id, n)
		}
	}
}

func TestBatchGetSecretValueRejects(t *testing.T) {
	t.Parallel()
	_, ts := start(t)
	c := client(ts, region)
	tooMany := make([]string, 21)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("s%d", i)
	}
	for name, in := range map[string]*secretsmanager.BatchGetSecretValueInput{
		"21 ids":  {SecretIdList: tooMany},
		"filters": {Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"prod"}}}},
		"nothing": {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.BatchGetSecretValue(t.Context(), in)
			var ip *types.InvalidParameterException
			if !errors.As(err, &ip) {
				t.Errorf("err = %v, want InvalidParameterException", err)
			}
		})
	}
}

func TestBatchGetSecretValuePerSecretTransportFault(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	s.Inject(smfake.Fault{SecretID: dbARN, Malformed: true})
	_, err := client(ts, region).BatchGetSecretValue(t.Context(), &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"prod/db"}})
	var de *smithy.DeserializationError
	if !errors.As(err, &de) {
		t.Errorf("err = %v, want a DeserializationError", err)
	}
}

func TestDescribeSecret(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	goneARN, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", String: aws.String("g"), Deleted: true})
	if err != nil {
		t.Fatal(err)
	}
	c := client(ts, region)

	out, err := c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ARN) != dbARN || aws.ToString(out.Name) != "prod/db" || out.DeletedDate != nil || len(out.VersionIdsToStages) != 1 {
		t.Errorf("DescribeSecret(prod/db) = ARN %s Name %s DeletedDate %v versions %v",
			aws.ToString(out.ARN), aws.ToString(out.Name), out.DeletedDate, out.VersionIdsToStages)
	}

	out, err = c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(goneARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ARN) != goneARN || out.DeletedDate == nil {
		t.Errorf("DescribeSecret(gone) = ARN %s DeletedDate %v, want %s with a DeletedDate", aws.ToString(out.ARN), out.DeletedDate, goneARN)
	}

	_, err = c.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeSecret(nope): err = %v, want ResourceNotFoundException", err)
	}
	if n := s.SecretReads("prod/db"); n != 0 {
		t.Errorf("DescribeSecret counted %d reads, want 0", n)
	}
}

func TestDeletedSecret(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	if _, err := s.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", String: aws.String("g"), Deleted: true}); err != nil {
		t.Fatal(err)
	}
	_, err := client(ts, region).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("gone")})
	var ir *types.InvalidRequestException
	if !errors.As(err, &ir) {
		t.Fatalf("err = %v, want InvalidRequestException", err)
	}
	if want := "You can't perform this operation on the secret because it was marked for deletion."; ir.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", ir.ErrorMessage(), want)
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	c := client(ts, region)
	ctx := t.Context()
	for _, id := range []string{dbARN, "prod/db", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", "missing"} {
		_, _ = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	}
	_, _ = c.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{"prod/db", "missing"}})
	_, _ = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/db")})

	for op, want := range map[string]int{"GetSecretValue": 4, "BatchGetSecretValue": 1, "DescribeSecret": 1, "": 6, "ListSecrets": 0} {
		if n := s.Calls(op); n != want {
			t.Errorf("Calls(%q) = %d, want %d", op, n, want)
		}
	}
	for _, id := range []string{dbARN, "prod/db", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"} {
		if n := s.SecretReads(id); n != 4 {
			t.Errorf("SecretReads(%s) = %d, want 4", id, n)
		}
	}
	if n := s.SecretReads("missing"); n != 2 {
		t.Errorf("SecretReads(missing) = %d, want 2", n)
	}
	s.ResetCalls()
	if s.Calls("") != 0 || s.SecretReads(dbARN) != 0 {
		t.Errorf("after ResetCalls: Calls %d, SecretReads %d", s.Calls(""), s.SecretReads(dbARN))
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	s := smfake.New()
	if err := s.LoadFile("../../events/secrets.json"); err != nil {
		t.Fatal(err)
	}
	_, cfg := smfake.Serve(t, s)
	c := client(cfg, region)

	out, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod-jira-credentials")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:secretsmanager:us-east-1:137149879143:secret:prod-jira-credentials-FsmeTs"; aws.ToString(out.ARN) != want {
		t.Errorf("ARN = %s, want %s (the file's account is the default)", aws.ToString(out.ARN), want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || v["username"] != "svc-jira" {
		t.Errorf("SecretString = %s (%v)", aws.ToString(out.SecretString), err)
	}

	bin, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod-binary-cert")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !bytes.Equal(bin.SecretBinary, want) {
		t.Errorf("SecretBinary = %v, want %v", bin.SecretBinary, want)
	}

	// eu-west-1's secret is reachable by ARN from a us-east-1 client and by
	// name from a eu-west-1 one.
	sf := "arn:aws:secretsmanager:eu-west-1:137149879143:secret:prod/salesforce"
	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(sf)}); err != nil {
		t.Errorf("partial ARN %s: %v", sf, err)
	}
	eu := client(cfg, "eu-west-1")
	if _, err := eu.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/salesforce")}); err != nil {
		t.Errorf("name from eu-west-1: %v", err)
	}
	if _, err := c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/salesforce")}); errorCode(err) != "ResourceNotFoundException" {
		t.Errorf("name from us-east-1: err = %v, want ResourceNotFoundException", err)
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	for name, seed := range map[string]string{
		"not json":      `nope`,
		"unknown field": `{"secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:1:secret:a","value":"x"}]}`,
		"bad arn":       `{"secrets":[{"arn":"a","secret_string":"x"}]}`,
		"bad base64":    `{"secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:1:secret:a","secret_binary":"!!"}]}`,
		"trailing":      `{"secrets":[]} {}`,
		"one bad":       `{"account":"1","secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:1:secret:a","secret_string":"x"},{"arn":"b"}]}`,
	} {
		s := smfake.New()
		if err := s.Load(strings.NewReader(seed)); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
	if err := smfake.New().LoadFile("testdata/does-not-exist.json"); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

// TestWire checks what the SDK does not show: status codes, headers and the
// answers to requests the SDK would not send.
func TestWire(t *testing.T) {
	t.Parallel()
	_, cfg := start(t)
	url := aws.ToString(cfg.BaseEndpoint)
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00"
	tests := []struct {
		name, target, auth, body string
		wantStatus               int
		wantType                 string
	}{
		{"unknown operation", "secretsmanager.ListSecrets", auth, `{}`, 400, "UnknownOperationException"},
		{"other service", "kms.Decrypt", auth, `{}`, 400, "UnknownOperationException"},
		{"unsigned", "secretsmanager.GetSecretValue", "", `{"SecretId":"prod/db"}`, 400, "MissingAuthenticationTokenException"},
		{"bad json", "secretsmanager.GetSecretValue", auth, `{`, 400, "SerializationException"},
		{"no id", "secretsmanager.GetSecretValue", auth, `{}`, 400, "InvalidParameterException"},
		{"not found", "secretsmanager.GetSecretValue", auth, `{"SecretId":"nope"}`, 400, "ResourceNotFoundException"},
		{"found", "secretsmanager.GetSecretValue", auth, `{"SecretId":"prod/db"}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
				t.Errorf("Content-Type = %q", ct)
			}
			var e struct {
				Type string `json:"__type"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if e.Type != tt.wantType || resp.Header.Get("X-Amzn-ErrorType") != tt.wantType {
				t.Errorf("__type = %q, X-Amzn-ErrorType = %q, want %q", e.Type, resp.Header.Get("X-Amzn-ErrorType"), tt.wantType)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	s, ts := start(t)
	c := client(ts, region)
	s.Inject(smfake.Fault{SecretID: "prod/db", Code: "ThrottlingException", Times: 5})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, _ = s.Put(smfake.Secret{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:s%d", i), String: aws.String("v")})
			_, _ = c.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
			_ = s.SecretReads("prod/db")
		})
	}
	wg.Wait()
	if n := s.SecretReads("prod/db"); n != 20 {
		t.Errorf("SecretReads = %d, want 20", n)
	}
	if n := s.Calls("GetSecretValue"); n != 20 {
		t.Errorf("Calls = %d, want 20", n)
	}
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
