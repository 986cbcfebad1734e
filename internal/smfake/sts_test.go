package smfake_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

const (
	roleA = "arn:aws:iam::210987654321:role/tenant-a"
	roleB = "arn:aws:iam::210987654321:role/scopes/tenant-b"
	// extID is a canary: it must appear in nothing the double answers or
	// records.
	extID = "ext-CANARY-9f3Kq"
)

// stsClient is a real STS client for the double that makes one attempt.
func stsClient(cfg aws.Config, optFns ...func(*sts.Options)) *sts.Client {
	cfg.RetryMaxAttempts = 1
	return sts.NewFromConfig(cfg, optFns...)
}

// asRole returns cfg signing with role's credentials, assumed as the SDK
// does it: stscreds' provider in a CredentialsCache.
func asRole(cfg aws.Config, role string, optFns ...func(*stscreds.AssumeRoleOptions)) aws.Config {
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient(cfg), role, optFns...))
	return cfg
}

func withExternalID(id string) func(*stscreds.AssumeRoleOptions) {
	return func(o *stscreds.AssumeRoleOptions) { o.ExternalID = aws.String(id) }
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	if err := s.AddRole(roleA); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRole(roleB, smfake.RequireExternalID(extID)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, role string
		extID      *string
		wantCode   string
	}{
		{"no external id required", roleA, nil, ""},
		{"external id sent though not required", roleA, aws.String("other-id"), ""},
		{"external id required and right", roleB, aws.String(extID), ""},
		{"external id required and wrong", roleB, aws.String(extID + "x"), "AccessDenied"},
		{"external id required and missing", roleB, nil, "AccessDenied"},
		{"unknown role", "arn:aws:iam::210987654321:role/nobody", nil, "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Truncate(time.Second)
			out, err := stsClient(cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{
				RoleArn: aws.String(tt.role), RoleSessionName: aws.String("maskresolver-t"),
				ExternalId: tt.extID, DurationSeconds: aws.Int32(900),
			})
			if tt.wantCode != "" {
				if errorCode(err) != tt.wantCode || httpStatus(err) != http.StatusForbidden {
					t.Fatalf("err = %v (HTTP %d), want %s, 403", err, httpStatus(err), tt.wantCode)
				}
				if !strings.Contains(err.Error(), tt.role) || strings.Contains(err.Error(), extID) {
					t.Errorf("message %q: want the role, never the external id", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := out.Credentials
			if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" {
				t.Errorf("credentials %+v: want ASIA key, secret and token", c)
			}
			if exp := aws.ToTime(c.Expiration); exp.Before(before.Add(900*time.Second)) || exp.After(time.Now().Add(901*time.Second)) {
				t.Errorf("Expiration = %v, want 900 s from now", exp)
			}
			name := tt.role[strings.LastIndex(tt.role, "/")+1:]
			if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::210987654321:assumed-role/"+name+"/maskresolver-t"; got != want {
				t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, want)
			}
		})
	}

	calls := s.AssumeRoleCalls()
	if n := s.Calls("AssumeRole"); n != len(tests) || len(calls) != len(tests) {
		t.Fatalf("Calls = %d, %d recorded; want %d", n, len(calls), len(tests))
	}
	for i, tt := range tests {
		c := calls[i]
		if c.RoleARN != tt.role || c.RoleSessionName != "maskresolver-t" || c.DurationSeconds != 900 ||
			c.Principal != smfake.DefaultPrincipal || c.Error != tt.wantCode || c.Issued != (tt.wantCode == "") {
			t.Errorf("%s: recorded %+v", tt.name, c)
		}
		if c.ExternalID != (tt.extID != nil) || (tt.extID != nil && !c.ExternalIDIs(*tt.extID)) || c.ExternalIDIs("else") {
			t.Errorf("%s: ExternalID = %v, ExternalIDIs(sent) false or ExternalIDIs(else) true", tt.name, c.ExternalID)
		}
	}
	if dump := fmt.Sprintf("%+v %#v %v", calls, calls, s); strings.Contains(dump, extID) {
		t.Error("the external id is in what the double holds or records")
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	if err := s.AddRole(roleB, smfake.RequireExternalID(extID)); err != nil {
		t.Fatal(err)
	}
	badID := extID + " with a space"
	tests := []struct {
		name, session string
		extID         string
		duration      int32
		wantCode      string
	}{
		{"shortest session name", "ab", extID, 900, ""},
		{"longest session name", strings.Repeat("x", 64), extID, 900, ""},
		{"all the allowed characters", "a_Z9+=,.@-", extID, 3600, ""},
		{"session name too short", "a", extID, 900, "ValidationError"},
		{"session name too long", strings.Repeat("x", 65), extID, 900, "ValidationError"},
		{"session name with a space", "a b", extID, 900, "ValidationError"},
		{"session name with a slash", "a/b", extID, 900, "ValidationError"},
		{"external id with a space", "ab", badID, 900, "ValidationError"},
		{"external id too short", "ab", "x", 900, "ValidationError"},
		{"duration under 15 minutes", "ab", extID, 899, "ValidationError"},
		{"duration over the role's hour", "ab", extID, 3601, "ValidationError"},
	}
	for _, tt := range tests {
		_, err := stsClient(cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{
			RoleArn: aws.String(roleB), RoleSessionName: aws.String(tt.session),
			ExternalId: aws.String(tt.extID), DurationSeconds: aws.Int32(tt.duration),
		})
		if errorCode(err) != tt.wantCode || (err != nil && httpStatus(err) != http.StatusBadRequest) {
			t.Errorf("%s: err = %v (HTTP %d), want %q", tt.name, err, httpStatus(err), tt.wantCode)
		}
		if err != nil && (strings.Contains(err.Error(), badID) || strings.Contains(err.Error(), extID)) {
			t.Errorf("%s: %v quotes the external id", tt.name, err)
		}
	}
}

func TestAssumeRoleThrottlingIsSDKThrottle(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	if err := s.AddRole(roleA); err != nil {
		t.Fatal(err)
	}
	inj := s.Inject(smfake.Fault{Op: "AssumeRole", Code: "Throttling"})
	throttles := 0
	c := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			so.Throttles = []retry.IsErrorThrottle{retry.IsErrorThrottleFunc(func(err error) aws.Ternary {
				v := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err)
				if v == aws.TrueTernary {
					throttles++
				}
				return v
			})}
		})
	})
	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c, roleA))
	_, err := provider.Retrieve(t.Context())
	if errorCode(err) != "Throttling" || httpStatus(err) != http.StatusBadRequest {
		t.Fatalf("err = %v (HTTP %d), want Throttling, 400", err, httpStatus(err))
	}
	if got := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err); got != aws.TrueTernary {
		t.Errorf("IsErrorThrottle = %v, want true", got)
	}
	if n, f := s.Calls("AssumeRole"), inj.Calls("AssumeRole"); n != 3 || f != 3 || throttles != 2 {
		t.Errorf("Calls = %d, fault acted %d, retryer saw %d throttles; want 3, 3, 2", n, f, throttles)
	}

	// Once STS stops throttling, the same provider gets credentials.
	s.ClearFaults()
	if _, err := provider.Retrieve(t.Context()); err != nil {
		t.Fatalf("after the throttling: %v", err)
	}
}

func TestAssumeRoleFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      smfake.Fault
		role       string
		wantCode   string
		wantStatus int
		wantErr    bool
	}{
		{"access denied", smfake.Fault{Op: "AssumeRole", Code: "AccessDenied"}, roleA, "AccessDenied", 403, true},
		{"internal failure", smfake.Fault{Op: "AssumeRole", Code: "InternalFailure"}, roleA, "InternalFailure", 500, true},
		{"unavailable", smfake.Fault{Op: "AssumeRole", Code: "ServiceUnavailable"}, roleA, "ServiceUnavailable", 503, true},
		{"on this role", smfake.Fault{RoleARN: roleA, Code: "Throttling"}, roleA, "Throttling", 400, true},
		{"on another role", smfake.Fault{RoleARN: roleB, Code: "Throttling"}, roleA, "", 0, false},
		{"Secrets Manager's faults spare STS", smfake.Fault{Code: "ThrottlingException"}, roleA, "", 0, false},
		{"malformed", smfake.Fault{Op: "AssumeRole", Malformed: true}, roleA, "", 200, true},
		{"reset", smfake.Fault{Op: "AssumeRole", Reset: true}, roleA, "", 0, true},
		{"truncated", smfake.Fault{Op: "AssumeRole", Truncate: true}, roleA, "", 200, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, cfg := start(t)
			for _, r := range []string{roleA, roleB} {
				if err := s.AddRole(r); err != nil {
					t.Fatal(err)
				}
			}
			s.Inject(tt.fault)
			_, err := stsClient(cfg).AssumeRole(t.Context(), &sts.AssumeRoleInput{
				RoleArn: aws.String(tt.role), RoleSessionName: aws.String("s1"),
			})
			if (err != nil) != tt.wantErr || errorCode(err) != tt.wantCode || httpStatus(err) != tt.wantStatus {
				t.Fatalf("err = %v (HTTP %d), want code %q, HTTP %d", err, httpStatus(err), tt.wantCode, tt.wantStatus)
			}
			if calls := s.AssumeRoleCalls(); len(calls) != 1 || calls[0].Issued == tt.wantErr || calls[0].Error != tt.wantCode {
				t.Errorf("recorded %+v", calls)
			}
		})
	}
}

func TestAssumeRoleLatency(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	if err := s.AddRole(roleA); err != nil {
		t.Fatal(err)
	}
	s.Inject(smfake.Fault{Op: "AssumeRole", Latency: 200 * time.Millisecond, Times: 1})
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("s1")}
	start := time.Now()
	if _, err := stsClient(cfg).AssumeRole(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered in %v, want the 200 ms latency", d)
	}
}

// TestSTSWire checks what the SDK does not show: the XML of errors, their
// Type, and requests the SDK would not send.
func TestSTSWire(t *testing.T) {
	t.Parallel()
	s, cfg := start(t)
	if err := s.AddRole(roleA); err != nil {
		t.Fatal(err)
	}
	s.Inject(smfake.Fault{Op: "AssumeRole", RoleARN: roleB, Code: "InternalFailure"})
	url := aws.ToString(cfg.BaseEndpoint)
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"
	const assume = "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1&RoleArn="
	tests := []struct {
		name, auth, body string
		wantStatus       int
		wantType         string // Sender or Receiver
		wantCode         string
	}{
		{"unsigned", "", assume + roleA, 403, "Sender", "MissingAuthenticationToken"},
		{"other action", auth, "Action=GetCallerIdentity&Version=2011-06-15", 400, "Sender", "InvalidAction"},
		{"other version", auth, "Action=AssumeRole&Version=2010-01-01&RoleSessionName=s1&RoleArn=" + roleA, 400, "Sender", "InvalidAction"},
		{"no role", auth, "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s1", 400, "Sender", "ValidationError"},
		{"no session name", auth, "Action=AssumeRole&Version=2011-06-15&RoleArn=" + roleA, 400, "Sender", "ValidationError"},
		{"bad form", auth, "Action=AssumeRole&%zz", 400, "Sender", "MalformedQueryString"},
		{"5xx", auth, assume + roleB, 500, "Receiver", "InternalFailure"},
		{"assumed", auth, assume + roleA, 200, "", ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Type") != "text/xml" {
			t.Errorf("%s: HTTP %d %s, want %d text/xml (%s)", tt.name, resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantStatus, body)
		}
		var e struct {
			XMLName xml.Name
			Error   struct{ Type, Code, Message string }
		}
		if err := xml.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: %s: %v", tt.name, body, err)
		}
		if tt.wantCode == "" {
			if e.XMLName.Local != "AssumeRoleResponse" || e.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" {
				t.Errorf("%s: root %v", tt.name, e.XMLName)
			}
			continue
		}
		if e.XMLName.Local != "ErrorResponse" || e.Error.Type != tt.wantType || e.Error.Code != tt.wantCode || e.Error.Message == "" {
			t.Errorf("%s: %s, want ErrorResponse %s %s with a message", tt.name, body, tt.wantType, tt.wantCode)
		}
	}
	if n := s.Calls("AssumeRole"); n != 7 {
		t.Errorf(`Calls("AssumeRole") = %d, want 7`, n)
	}
}

// TestAssumeRoleExpirationDrivesCache: the SDK's cache reads the
// Expiration the double sends, and assumes the role again only once it is
// within the cache's expiry window.
func TestAssumeRoleExpirationDrivesCache(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		window    time.Duration
		wantCalls int
	}{
		{14 * time.Minute, 1}, // stscreds asks for 15 minutes
		{16 * time.Minute, 2},
	} {
		s, cfg := start(t)
		if err := s.AddRole(roleA); err != nil {
			t.Fatal(err)
		}
		cache := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient(cfg), roleA),
			func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = tt.window })
		for range 2 {
			if _, err := cache.Retrieve(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if n := s.Calls("AssumeRole"); n != tt.wantCalls {
			t.Errorf("expiry window %v: %d AssumeRole calls, want %d", tt.window, n, tt.wantCalls)
		}
	}
}
