package main

// The function against moto, a third-party Secrets Manager emulator: a
// second opinion on the wire protocol besides smfake. moto answers
// ResourceNotFoundException with HTTP 404 (AWS: 400), so this also proves
// that failures are classified by error type, not by status.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/lambdatest"
)

// startMoto runs moto_server on a free loopback port and returns its URL.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("moto_server not on PATH; CI must provide it (pip install 'moto[server]')")
		}
		t.Skip("moto_server not on PATH; install it with pip install 'moto[server]' to run this test")
	}
	addr := lambdatest.FreeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	logs := &lambdatest.Buffer{}
	cmd := exec.Command(bin, "-H", host, "-p", port)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("moto_server output:\n%s", logs.String())
		}
	})
	waitPort(t, addr, exited, logs.String)
	url := "http://" + addr
	// The port opens a moment before the app answers; wait for an answer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server does not answer: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

func motoClient(url, region string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDMOTO", "moto-secret", ""),
		RetryMaxAttempts: 1,
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
}

func TestMoto(t *testing.T) {
	t.Parallel()
	url := startMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	create := func(t *testing.T, region string, in *secretsmanager.CreateSecretInput) string {
		t.Helper()
		out, err := motoClient(url, region).CreateSecret(ctx, in)
		if err != nil {
			t.Fatalf("CreateSecret %s in %s: %v", aws.ToString(in.Name), region, err)
		}
		return aws.ToString(out.ARN)
	}
	jira := create(t, "us-east-1", &secretsmanager.CreateSecretInput{
		Name:         aws.String("e2e/jira"),
		SecretString: aws.String(`{"user":"moto-user-v","db":{"pw":"moto-nested-pw"},"port":8443}`),
	})
	sf := create(t, "eu-west-1", &secretsmanager.CreateSecretInput{
		Name:         aws.String("e2e/salesforce"),
		SecretString: aws.String(`{"client_secret":"moto-eu-secret"}`),
	})
	cert := create(t, "us-east-1", &secretsmanager.CreateSecretInput{
		Name:         aws.String("e2e/cert"),
		SecretBinary: []byte{0, 1, 2, 3, 0xff},
	})
	gone := create(t, "us-east-1", &secretsmanager.CreateSecretInput{
		Name:         aws.String("e2e/gone"),
		SecretString: aws.String(`{"k":"moto-gone-v"}`),
	})
	if _, err := motoClient(url, "us-east-1").DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId: aws.String(gone), RecoveryWindowInDays: aws.Int64(7),
	}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	for _, arn := range []string{jira, sf, cert} {
		// A full ARN: the name, "-" and the six-character suffix.
		if i := strings.LastIndexByte(arn, '-'); i < 0 || len(arn)-i-1 != 6 {
			t.Fatalf("moto returned %q, not a full secret ARN", arn)
		}
	}
	partial := jira[:len(jira)-7]
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:e2e/missing-AbCdEf"

	e := startEmulator(t, url, "AWS_MAX_ATTEMPTS=2", "LOG_LEVEL=debug", "REFRESH_MIN_INTERVAL=0s")
	e.noLeak("moto-user-v", "moto-nested-pw", "moto-eu-secret", "moto-gone-v")

	resolve := func(t *testing.T, conn string) proxyResponse {
		t.Helper()
		return e.invokeProxy(t, post(t, `{"connection":`+conn+`}`))
	}

	t.Run("JSON secret", func(t *testing.T) {
		wantResolved(t, resolve(t, `{"u":"`+mask("user", jira)+`","pw":"`+mask("db.pw", jira)+`","port":"`+mask("port", jira)+`"}`),
			`{"u":"moto-user-v","pw":"moto-nested-pw","port":"8443"}`,
			answer.MaskEntry{Path: "/connection/u", Key: "user", SecretARN: jira, Status: "resolved"},
			answer.MaskEntry{Path: "/connection/pw", Key: "db.pw", SecretARN: jira, Status: "resolved"},
			answer.MaskEntry{Path: "/connection/port", Key: "port", SecretARN: jira, Status: "resolved"})
	})

	t.Run("cross-region", func(t *testing.T) {
		wantResolved(t, resolve(t, `{"s":"`+mask("client_secret", sf)+`"}`), `{"s":"moto-eu-secret"}`,
			answer.MaskEntry{Path: "/connection/s", Key: "client_secret", SecretARN: sf, Status: "resolved"})
	})

	t.Run("partial ARN", func(t *testing.T) {
		wantResolved(t, resolve(t, `{"u":"`+mask("user", partial)+`"}`), `{"u":"moto-user-v"}`,
			answer.MaskEntry{Path: "/connection/u", Key: "user", SecretARN: partial, Status: "resolved"})
	})

	t.Run("dry run", func(t *testing.T) {
		conn := `{"u":"` + mask("user", jira) + `"}`
		p := e.invokeProxy(t, post(t, `{"connection":`+conn+`,"dry_run":true}`))
		wantResolved(t, p, conn, answer.MaskEntry{Path: "/connection/u", Key: "user", SecretARN: jira, Status: "verified"})
		if strings.Contains(string(p.raw), "moto-user-v") {
			t.Errorf("the dry run returned a secret value: %s", p.raw)
		}
	})

	t.Run("binary secret", func(t *testing.T) {
		wantMaskFailures(t, resolve(t, `{"c":"`+mask("pem", cert)+`"}`), http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/c", Key: "pem", SecretARN: cert, Code: "SecretNotKeyValue"})
	})

	t.Run("missing secret", func(t *testing.T) {
		wantMaskFailures(t, resolve(t, `{"m":"`+mask("k", missing)+`"}`), http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/m", Key: "k", SecretARN: missing, Code: "SecretNotFound"})
	})

	t.Run("secret marked for deletion", func(t *testing.T) {
		wantMaskFailures(t, resolve(t, `{"g":"`+mask("k", gone)+`"}`), http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/g", Key: "k", SecretARN: gone, Code: "SecretNotFound"})
	})

	t.Run("every failure listed", func(t *testing.T) {
		wantMaskFailures(t, resolve(t, `{"a":"`+mask("user", jira)+`","b":"`+mask("nope", jira)+`","c":"`+mask("k", missing)+`","d":"`+mask("x", cert)+`"}`),
			http.StatusUnprocessableEntity,
			answer.MaskEntry{Path: "/connection/b", Key: "nope", SecretARN: jira, Code: "KeyNotFound"},
			answer.MaskEntry{Path: "/connection/c", Key: "k", SecretARN: missing, Code: "SecretNotFound"},
			answer.MaskEntry{Path: "/connection/d", Key: "x", SecretARN: cert, Code: "SecretNotKeyValue"})
	})

	// After put-secret-value (a new AWSCURRENT version), the cached value
	// is still served; max_age 0 reads the new one and names its
	// VersionId.
	t.Run("rotation and max_age 0", func(t *testing.T) {
		conn := `{"u":"` + mask("user", jira) + `"}`
		first := versionIDs(t, e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)))
		put, err := motoClient(url, "us-east-1").PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(jira), SecretString: aws.String(`{"user":"moto-user-rotated"}`),
		})
		if err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		e.noLeak("moto-user-rotated")
		if p := e.invokeProxy(t, post(t, `{"connection":`+conn+`}`)); !strings.Contains(p.Body, "moto-user-v") {
			t.Errorf("within the TTL: %s, want the cached value", p.Body)
		}
		p := e.invokeProxy(t, post(t, `{"connection":`+conn+`,"max_age":0}`))
		got := versionIDs(t, p)
		if !strings.Contains(p.Body, "moto-user-rotated") || len(got) != 1 || got[0] != aws.ToString(put.VersionId) || got[0] == first[0] {
			t.Errorf("max_age 0: %s; want the new value and VersionId %s (was %v)", p.Body, aws.ToString(put.VersionId), first)
		}
	})
}

// TestMotoScope: a scoped request resolves through moto's STS (AssumeRole,
// answered on the same port as Secrets Manager) and its Secrets Manager,
// and the summary line shows the role was assumed once.
func TestMotoScope(t *testing.T) {
	t.Parallel()
	url := startMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := motoClient(url, "us-east-1").CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("tenant/api"),
		SecretString: aws.String(`{"token":"moto-tenant-token"}`),
	})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	arn := aws.ToString(out.ARN)
	const extID = "moto-external-id-canary"
	doc := `{"tenant":{"role_arn":"arn:aws:iam::123456789012:role/tenant-reader","external_id":"` + extID + `",` +
		`"callers":["*"],"secrets":["arn:aws:secretsmanager:us-east-1:123456789012:secret:tenant/*"]}}`
	e := startEmulator(t, url, "AWS_ENDPOINT_URL_STS="+url, "SCOPES="+doc, "AWS_MAX_ATTEMPTS=2")
	e.noLeak("moto-tenant-token", extID)

	conn := `{"t":"` + mask("token", arn) + `"}`
	p := e.invokeProxy(t, post(t, `{"connection":`+conn+`,"scope":"tenant"}`))
	wantResolved(t, p, `{"t":"moto-tenant-token"}`, answer.MaskEntry{Path: "/connection/t", Key: "token", SecretARN: arn, Status: "resolved"})
	if strings.Contains(string(p.raw), extID) {
		t.Errorf("the answer holds the external id")
	}

	// The summary line names the scope and counts one AssumeRole.
	var line map[string]any
	for deadline := time.Now().Add(3 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, l := range strings.Split(e.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "request" && m["scope"] == "tenant" {
				line = m
			}
		}
	}
	if line == nil {
		t.Fatalf("no summary line of the scoped request:\n%s", e.logs.String())
	}
	if _, n := assumeRoleMetric(t, line); n != 1 {
		t.Errorf("summary line %v: want 1 AssumeRole call", line)
	}
}
