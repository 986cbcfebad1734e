package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"

	"github.com/maskresolver/maskresolver/internal/answer"
)

const (
	// maxPayloadBytes is API Gateway's request size limit; a larger
	// payload could never arrive, so it is refused before sending.
	maxPayloadBytes = 10 << 20
	// maxResponseBytes is above Lambda's 6 MB synchronous response limit.
	maxResponseBytes = 16 << 20
	// executeAPI is the SigV4 service name of API Gateway's invoke URLs.
	executeAPI = "execute-api"
	// maxMessageRunes bounds the error message in the one-line summary.
	maxMessageRunes = 300
)

// client sends requests to the resolve API and to CloudFormation, signed
// with the default AWS configuration, which it loads once and only when a
// request needs it.
type client struct {
	http       *http.Client
	now        func() time.Time
	notes      io.Writer // where notes such as "sending unsigned" go
	noSign     bool
	loadConfig func(context.Context) (aws.Config, error)

	cfg    *aws.Config
	cfgErr error
}

// response is the resolve API's answer.
type response struct {
	status int
	body   []byte
}

// networkError is a request that got no HTTP answer: a refused connection,
// a DNS failure, a timeout, a body cut short.
type networkError struct {
	method, url string
	err         error
}

func (e *networkError) Error() string { return e.method + " " + e.url + ": " + e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// sendOptions are what the flags add to, or change in, the request.
type sendOptions struct {
	dryRun bool
	maxAge maxAge
	// maxAgeFlag names the flag that set maxAge, for the note that says it
	// replaced the payload's own max_age.
	maxAgeFlag string
	scope      scopeName
}

// scopeName is the --scope flag: the name of the scope the request names
// ("scope": NAME), and whether it was given at all.
type scopeName struct {
	name string
	set  bool
}

// maxScopeName is the longest name a scope may have.
const maxScopeName = 64

func (s *scopeName) String() string {
	if s == nil {
		return ""
	}
	return s.name
}

// Set takes a scope's name: 1 to 64 characters of [A-Za-z0-9._-], the
// names the function's scopes may have (docs/configuration.md). Any other
// name could only answer 403 ScopeNotAllowed, so it is refused before
// anything is sent.
func (s *scopeName) Set(v string) error {
	if !validScopeName(v) {
		return fmt.Errorf("want a scope's name: 1 to %d letters, digits, '.', '_' or '-'", maxScopeName)
	}
	s.name, s.set = v, true
	return nil
}

func validScopeName(v string) bool {
	if len(v) < 1 || len(v) > maxScopeName {
		return false
	}
	for _, c := range []byte(v) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// json is the name as a JSON string; a valid name needs no escape.
func (s scopeName) json() string { return `"` + s.name + `"` }

// maxAge is the --max-age flag: a whole number of seconds, and whether it
// was given at all (the zero value sends no max_age, so that a forgotten
// field can never turn into "read every secret again").
type maxAge struct {
	seconds int64
	set     bool
}

func (m *maxAge) String() string {
	if m == nil || !m.set {
		return ""
	}
	return strconv.FormatInt(m.seconds, 10)
}

// Set takes seconds as the API does: an integer, not a Go duration. A
// negative number parses here and is refused by parseFlags, which says why.
func (m *maxAge) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("want a whole number of seconds, such as 300")
	}
	m.seconds, m.set = n, true
	return nil
}

// readRequest reads a payload and returns the request body to send, and a
// note for stderr when a flag replaced a member of the payload's request.
func readRequest(r io.Reader, o sendOptions) (body []byte, note string, err error) {
	b, err := readPayload(r)
	if err != nil {
		return nil, "", err
	}
	body, note = requestBody(b, o)
	return body, note, nil
}

// readPayload reads a payload and checks that it is one JSON value in
// UTF-8, within API Gateway's size limit. It returns it without the
// surrounding whitespace.
func readPayload(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPayloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the payload: %w", err)
	}
	if len(b) > maxPayloadBytes {
		return nil, fmt.Errorf("the payload is larger than %d bytes, API Gateway's limit", maxPayloadBytes)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("the payload is empty: want a JSON value")
	}
	if !utf8.Valid(b) {
		return nil, errors.New("the payload is not valid UTF-8")
	}
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		// Only the offset: the syntax error's text quotes a character of
		// the payload, which may be part of a secret.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("the payload is not valid JSON (syntax error at byte %d)", se.Offset)
		}
		return nil, errors.New("the payload is not valid JSON")
	}
	return b, nil
}

// requestBody returns the request body for payload b, valid JSON.
//
// A JSON object whose members are "connection" and, optionally, "dry_run",
// "max_age" and "scope" is a whole request and is sent as it is, unless a
// flag changes it; any other JSON value is the connection and is wrapped
// as {"connection": <payload>}. Either way the connection's bytes are kept
// exactly, so large numbers and escapes reach the API untouched.
//
// o.dryRun sets "dry_run": true. o.maxAge sets "max_age" and o.scope
// "scope", each replacing the request's own: the flag is what the caller
// asks for now, as --dry-run is, and the note says so when the two differ.
func requestBody(b []byte, o sendOptions) (body []byte, note string) {
	req, isRequest := parseRequest(b)
	if !isRequest {
		return buildRequest(wholeRequest{connection: b}, o), ""
	}
	if !o.dryRun && !o.maxAge.set && !o.scope.set {
		return b, ""
	}
	var notes []string
	if o.maxAge.set && req.maxAge != nil && string(req.maxAge) != o.maxAge.String() {
		notes = append(notes, fmt.Sprintf(`%s replaces the payload's "max_age" with %d`, o.maxAgeFlag, o.maxAge.seconds))
	}
	if o.scope.set && req.scope != nil && !sameJSONString(req.scope, o.scope.name) {
		notes = append(notes, fmt.Sprintf(`--scope replaces the payload's "scope" with %q`, o.scope.name))
	}
	return buildRequest(req, o), strings.Join(notes, "; ")
}

// sameJSONString reports whether raw is the JSON string s, however it is
// escaped.
func sameJSONString(raw json.RawMessage, s string) bool {
	var v any
	return json.Unmarshal(raw, &v) == nil && v == s
}

// wholeRequest is a payload that is a request: each member's bytes as
// written, nil when absent.
type wholeRequest struct {
	connection, dryRun, maxAge, scope json.RawMessage
}

// parseRequest reports whether b, valid JSON, is a whole request: an
// object with a "connection" member and no members but "connection",
// "dry_run", "max_age" and "scope". Of a repeated member it keeps the
// last; the API refuses repeated members anyway.
func parseRequest(b []byte) (wholeRequest, bool) {
	var req wholeRequest
	if b[0] != '{' {
		return req, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return req, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return req, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return req, false
		}
		switch tok {
		case "connection":
			req.connection = v
		case "dry_run":
			req.dryRun = v
		case "max_age":
			req.maxAge = v
		case "scope":
			req.scope = v
		default:
			return req, false
		}
	}
	return req, req.connection != nil
}

// buildRequest writes req with the flags of o applied. A member the flags
// do not set keeps the request's own bytes, whatever they are: the API,
// not maskctl, says what a bad "max_age" is.
func buildRequest(req wholeRequest, o sendOptions) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"connection":`)
	buf.Write(req.connection)
	switch {
	case o.dryRun:
		buf.WriteString(`,"dry_run":true`)
	case req.dryRun != nil:
		buf.WriteString(`,"dry_run":`)
		buf.Write(req.dryRun)
	}
	switch {
	case o.maxAge.set:
		buf.WriteString(`,"max_age":`)
		buf.WriteString(o.maxAge.String())
	case req.maxAge != nil:
		buf.WriteString(`,"max_age":`)
		buf.Write(req.maxAge)
	}
	switch {
	case o.scope.set:
		buf.WriteString(`,"scope":`)
		buf.WriteString(o.scope.json())
	case req.scope != nil:
		buf.WriteString(`,"scope":`)
		buf.Write(req.scope)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// config returns the AWS configuration, loading it on first use.
func (c *client) config(ctx context.Context) (aws.Config, error) {
	if c.cfg == nil && c.cfgErr == nil {
		cfg, err := c.loadConfig(ctx)
		if err != nil {
			c.cfgErr = fmt.Errorf("load the AWS configuration: %w", err)
		} else {
			c.cfg = &cfg
		}
	}
	if c.cfgErr != nil {
		return aws.Config{}, c.cfgErr
	}
	return *c.cfg, nil
}

// credentials returns the credentials of the default chain and the
// configured region.
func (c *client) credentials(ctx context.Context) (aws.Credentials, string, error) {
	cfg, err := c.config(ctx)
	if err != nil {
		return aws.Credentials{}, "", err
	}
	if cfg.Credentials == nil {
		return aws.Credentials{}, "", errors.New("no AWS credentials found")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, "", fmt.Errorf("get AWS credentials: %w", err)
	}
	return creds, cfg.Region, nil
}

// resolve posts body to the resolve URL, signed unless c.noSign, and
// returns the answer whatever its status. A request that cannot be built or
// signed is an error; one that gets no answer is a *networkError.
func (c *client) resolve(ctx context.Context, rawURL string, body []byte) (*response, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("URL %s: %w", u.Redacted(), err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "maskctl")
	if !c.noSign {
		if err := c.signResolve(ctx, req, body); err != nil {
			return nil, err
		}
	}
	status, respBody, err := c.do(req, u)
	if err != nil {
		return nil, err
	}
	return &response{status: status, body: respBody}, nil
}

// signResolve signs req for execute-api. A loopback host is the local
// front, which checks no signature: see signLocal.
func (c *client) signResolve(ctx context.Context, req *http.Request, body []byte) error {
	host := req.URL.Hostname()
	if isLoopback(host) {
		return c.signLocal(ctx, req, body, host)
	}
	creds, region, err := c.credentials(ctx)
	if err != nil {
		return fmt.Errorf("%w (--no-sign sends unsigned)", err)
	}
	if r := executeAPIRegion(host); r != "" {
		region = r
	} else if region == "" {
		return fmt.Errorf("no region to sign for: %s is not an <id>.execute-api.<region>.amazonaws.com host; pass --region or set AWS_REGION (--no-sign sends unsigned)", host)
	}
	return signRequest(ctx, req, body, creds, executeAPI, region, c.now())
}

// signLocal signs req for the local front when credentials and a region
// are configured, and otherwise sends it unsigned with one note on
// stderr.
//
// When the environment and the shared files hold no credentials, the
// default chain's last resort is the instance role, which maskctl does not
// ask for here: off EC2 the SDK would wait for instance metadata and log
// its own warning, all for a signature the front never checks.
func (c *client) signLocal(ctx context.Context, req *http.Request, body []byte, host string) error {
	unsigned := func(why string) error {
		fmt.Fprintf(c.notes, "maskctl: note: %s; sending unsigned to loopback host %s\n", why, host)
		return nil
	}
	cfg, err := c.config(ctx)
	switch {
	case err != nil:
		return unsigned(err.Error())
	case cfg.Credentials == nil || aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)):
		return unsigned("no AWS credentials in the environment or the shared config")
	case cfg.Region == "":
		return unsigned("no AWS region to sign for")
	}
	creds, region, err := c.credentials(ctx)
	if err != nil {
		return unsigned(err.Error())
	}
	return signRequest(ctx, req, body, creds, executeAPI, region, c.now())
}

// signRequest adds the SigV4 Authorization, X-Amz-Date and, with temporary
// credentials, X-Amz-Security-Token headers to req. The signature covers
// the SHA-256 of body.
func signRequest(ctx context.Context, req *http.Request, body []byte, creds aws.Credentials, service, region string, t time.Time) error {
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, region, t); err != nil {
		return fmt.Errorf("sign the request for %s in %s: %w", service, region, err)
	}
	return nil
}

// do sends req and reads the whole answer.
func (c *client) do(req *http.Request, u *url.URL) (int, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the method and URL, which networkError says.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, &networkError{method: req.Method, url: u.Redacted(), err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, &networkError{method: req.Method, url: u.Redacted(), err: fmt.Errorf("read the response: %w", err)}
	}
	if len(b) > maxResponseBytes {
		return 0, nil, &networkError{method: req.Method, url: u.Redacted(), err: fmt.Errorf("the response is larger than %d bytes", maxResponseBytes)}
	}
	return resp.StatusCode, b, nil
}

// parseURL accepts an absolute http or https URL.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("bad URL %q: want https://<host>/v1/resolve", u.Redacted())
	}
	return u, nil
}

// executeAPIRegion returns the region of an API Gateway invoke host,
//
//	<api-id>.execute-api.<region>.amazonaws.com[.cn]
//	<api-id>-<vpce-id>.execute-api.<region>.vpce.amazonaws.com[.cn]
//
// or "" for any other host (a custom domain name, the local front).
func executeAPIRegion(host string) string {
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	for i := 1; i+2 < len(labels); i++ {
		if labels[i] != executeAPI {
			continue
		}
		switch strings.Join(labels[i+2:], ".") {
		case "amazonaws.com", "amazonaws.com.cn", "vpce.amazonaws.com", "vpce.amazonaws.com.cn":
			if isRegion(labels[i+1]) {
				return labels[i+1]
			}
		}
		return ""
	}
	return ""
}

// isRegion reports whether s looks like a region name: us-east-1,
// us-gov-west-1, cn-north-1, ap-southeast-5.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" || strings.IndexFunc(p, func(r rune) bool {
			if last {
				return r < '0' || r > '9'
			}
			return r < 'a' || r > 'z'
		}) >= 0 {
			return false
		}
	}
	return true
}

// isLoopback reports whether host is this machine: localhost or a loopback
// address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeBody writes the response body and a final newline; with pretty a
// JSON body is indented (its values, numbers and escapes untouched).
func writeBody(w io.Writer, body []byte, pretty bool) error {
	out := body
	if pretty {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			out = buf.Bytes()
		}
	}
	if len(out) == 0 || out[len(out)-1] != '\n' {
		out = append(out[:len(out):len(out)], '\n')
	}
	_, err := w.Write(out)
	return err
}

// summary is the one-line account of a non-200 answer for stderr: the
// status and the error's code and message, as the API or the gateway put
// them. It never includes anything else from the body.
func summary(status int, body []byte) string {
	var e struct {
		answer.Body
		// API Gateway's own errors: {"message": "Forbidden"}.
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	code, msg := "", e.Message
	if e.Error != nil {
		code, msg = e.Error.Code, e.Error.Message
	}
	if code == "" {
		code = http.StatusText(status)
	}
	msg = oneLine(msg)
	line := fmt.Sprint(status)
	if code != "" {
		line += " " + code
	}
	if msg != "" && msg != code {
		line += ": " + msg
	}
	return line
}

// oneLine folds s to one line of at most maxMessageRunes runes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxMessageRunes {
		s = string([]rune(s)[:maxMessageRunes]) + "…"
	}
	return s
}
