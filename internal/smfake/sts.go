package smfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS's query protocol: a form-encoded POST naming Action and Version,
// answered in XML.
const (
	opAssumeRole   = "AssumeRole"
	stsVersion     = "2011-06-15"
	stsNamespace   = "https://sts.amazonaws.com/doc/2011-06-15/"
	formType       = "application/x-www-form-urlencoded"
	xmlContentType = "text/xml"

	// AssumeRole's DurationSeconds: the default, STS's floor, and the
	// MaxSessionDuration of a role that does not raise it.
	defaultSessionDuration = time.Hour
	minSessionDuration     = 15 * time.Minute
	maxSessionDuration     = time.Hour
)

// STS's constraints on AssumeRole's parameters.
var (
	roleSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRE      = regexp.MustCompile(`^[\w+=,.@:/-]*$`) // and 2 to 1224 long: RE2 repeats at most 1000
	roleARNRE         = regexp.MustCompile(`^arn:([a-z0-9-]+):iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
)

// role is a role AssumeRole may assume. The external id is kept only as a
// hash, so that nothing the double holds can print it.
type role struct {
	partition, account, name string
	externalID               *[sha256.Size]byte // nil: none required
	lifetime                 time.Duration      // 0: as the request asks
}

// RoleOption configures a role added by AddRole.
type RoleOption func(*role)

// RequireExternalID makes AssumeRole of the role succeed only with
// ExternalId id, as a trust policy with an sts:ExternalId condition does.
// Without it any ExternalId, or none, is accepted.
func RequireExternalID(id string) RoleOption {
	return func(r *role) {
		h := hashExternalID(id)
		r.externalID = &h
	}
}

// CredentialLifetime makes the credentials issued for the role expire d
// after AssumeRole, whatever DurationSeconds asked for; d may be shorter
// than STS's 15 minutes, so that a test can watch credentials expire and be
// refreshed. Secrets Manager answers a request signed with expired
// credentials ExpiredTokenException.
func CredentialLifetime(d time.Duration) RoleOption {
	return func(r *role) { r.lifetime = d }
}

// AddRole lets AssumeRole assume the role roleARN
// ("arn:<partition>:iam::<12 digits>:role/<path/name>"), replacing any role
// of that ARN (credentials already issued stay good). Reads signed with the
// credentials it issues are the principal roleARN (see Grant). Without
// AddRole, AssumeRole of a role is AccessDenied.
func (s *Server) AddRole(roleARN string, opts ...RoleOption) error {
	r, err := newRole(roleARN, opts...)
	if err != nil {
		return fmt.Errorf("smfake: add role: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[roleARN] = r
	return nil
}

func newRole(roleARN string, opts ...RoleOption) (*role, error) {
	m := roleARNRE.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, fmt.Errorf("%q is not an IAM role ARN", roleARN)
	}
	r := &role{partition: m[1], account: m[2], name: m[3]}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// RemoveRole makes AssumeRole of roleARN AccessDenied again; credentials
// already issued stay good until they expire, as in IAM.
func (s *Server) RemoveRole(roleARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.roles, roleARN)
}

// AssumeRoleCall is what one AssumeRole request asked for and how it was
// answered. It holds no external id: only whether one was sent, and a hash
// that ExternalIDIs compares against.
type AssumeRoleCall struct {
	RoleARN         string
	RoleSessionName string
	// ExternalID reports whether the request carried an ExternalId.
	ExternalID bool
	// DurationSeconds is the duration asked for; 0 when absent.
	DurationSeconds int
	// Principal signed the request: DefaultPrincipal, or a role's ARN
	// when a role's session assumes another role.
	Principal string
	// Error is the error code answered ("AccessDenied", "Throttling",
	// "ValidationError", ...); "" when credentials were issued or an
	// injected fault answered no code (Reset, Truncate, Malformed, or the
	// client left during its Latency).
	Error string
	// Issued reports whether credentials were issued and sent.
	Issued bool

	externalID [sha256.Size]byte
}

// ExternalIDIs reports whether the call's ExternalId was id.
func (c AssumeRoleCall) ExternalIDIs(id string) bool {
	h := hashExternalID(id)
	return c.ExternalID && subtle.ConstantTimeCompare(c.externalID[:], h[:]) == 1
}

func hashExternalID(id string) [sha256.Size]byte {
	return sha256.Sum256([]byte("smfake external id\x00" + id))
}

// AssumeRoleCalls returns the AssumeRole requests answered so far, oldest
// first, including refused and faulted ones. Each is recorded before its
// answer is sent. Calls("AssumeRole") counts them too, along with requests
// rejected before their parameters were read.
func (s *Server) AssumeRoleCalls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.assumed...)
}

// isQuery reports whether r is a query-protocol (STS) request rather than
// a Secrets Manager one, which always names its operation in X-Amz-Target.
func isQuery(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return r.Header.Get("X-Amz-Target") == "" && strings.EqualFold(strings.TrimSpace(ct), formType)
}

// serveQuery answers one STS request. It is counted under its Action before
// anything else can fail.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	action := form.Get("Action")
	s.mu.Lock()
	s.calls[action]++
	s.mu.Unlock()
	if err != nil {
		s.writeSTSError(w, "MalformedQueryString", "smfake: "+err.Error())
		return
	}
	akid, region, ok := sigv4Scope(r.Header.Get("Authorization"))
	if !ok {
		s.writeSTSError(w, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	c, bad, expired := s.callerOf(akid, r.Header.Get("X-Amz-Security-Token"))
	switch {
	case bad:
		s.writeSTSError(w, "InvalidClientTokenId", msgBadToken)
		return
	case expired:
		s.writeSTSError(w, "ExpiredToken", msgExpiredToken)
		return
	}
	if action != opAssumeRole || form.Get("Version") != stsVersion {
		s.writeSTSError(w, "InvalidAction", "Could not find operation "+action+" for version "+form.Get("Version"))
		return
	}
	s.assumeRole(w, r, region, c, form)
}

// assumeRole answers AssumeRole: faults first, then STS's checks of the
// parameters, then the role's trust (a known role, the right external id).
func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, region string, c caller, form url.Values) {
	call := AssumeRoleCall{
		RoleARN:         form.Get("RoleArn"),
		RoleSessionName: form.Get("RoleSessionName"),
		Principal:       c.principal,
	}
	if v, ok := form["ExternalId"]; ok && len(v) > 0 {
		call.ExternalID, call.externalID = true, hashExternalID(v[0])
	}
	call.DurationSeconds, _ = strconv.Atoi(form.Get("DurationSeconds"))

	s.mu.Lock()
	f, faulted := s.takeFaultLocked(opAssumeRole, region, call.RoleARN, nil)
	s.mu.Unlock()
	if faulted {
		if !sleep(r.Context(), f.Latency) {
			s.record(call)
			return
		}
		f.Latency = 0
		if f.Reset || f.Truncate || f.Malformed || f.Code != "" {
			call.Error = f.Code
			s.record(call)
			s.applyAs(w, r, f, queryProtocol)
			return
		}
	}

	out, code, msg := s.issue(c, form)
	call.Error, call.Issued = code, code == ""
	s.record(call)
	if code != "" {
		s.writeSTSError(w, code, msg)
		return
	}
	s.writeXML(w, out)
}

func (s *Server) record(call AssumeRoleCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assumed = append(s.assumed, call)
}

// validationError words a parameter's failed constraint as STS does.
func validationError(field, value, constraint string) string {
	return "1 validation error detected: Value " + value + " at '" + field + "' failed to satisfy constraint: " + constraint
}

// issue checks an AssumeRole request and, if it may, issues credentials.
// No message quotes the external id.
func (s *Server) issue(c caller, form url.Values) (assumeRoleResponse, string, string) {
	var out assumeRoleResponse
	roleARN, name := form.Get("RoleArn"), form.Get("RoleSessionName")
	switch {
	case !form.Has("RoleArn"):
		return out, "ValidationError", validationError("roleArn", "null", "Member must not be null")
	case len(roleARN) < 20 || len(roleARN) > 2048:
		return out, "ValidationError", validationError("roleArn", "'"+roleARN+"'", "Member must have length between 20 and 2048")
	case !form.Has("RoleSessionName"):
		return out, "ValidationError", validationError("roleSessionName", "null", "Member must not be null")
	case !roleSessionNameRE.MatchString(name):
		return out, "ValidationError", validationError("roleSessionName", "'"+name+"'",
			`Member must have length between 2 and 64 and satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	var extID *string
	if v, ok := form["ExternalId"]; ok && len(v) > 0 {
		extID = &v[0]
		if len(v[0]) < 2 || len(v[0]) > 1224 || !externalIDRE.MatchString(v[0]) {
			return out, "ValidationError", validationError("externalId", "(not shown)",
				`Member must have length between 2 and 1224 and satisfy regular expression pattern: [\w+=,.@:/-]*`)
		}
	}
	d := defaultSessionDuration
	if form.Has("DurationSeconds") {
		n, err := strconv.Atoi(form.Get("DurationSeconds"))
		switch {
		case err != nil || n < int(minSessionDuration/time.Second) || n > 43200:
			return out, "ValidationError", validationError("durationSeconds", "'"+form.Get("DurationSeconds")+"'",
				"Member must have value between 900 and 43200")
		case time.Duration(n)*time.Second > maxSessionDuration:
			return out, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
		}
		d = time.Duration(n) * time.Second
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ro := s.roles[roleARN]
	trusted := ro != nil
	if trusted && ro.externalID != nil {
		var got [sha256.Size]byte
		if extID != nil {
			got = hashExternalID(*extID)
		}
		trusted = extID != nil && subtle.ConstantTimeCompare(got[:], ro.externalID[:]) == 1
	}
	if !trusted {
		return out, "AccessDenied", "User: " + c.arn + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN
	}
	if ro.lifetime > 0 {
		d = ro.lifetime
	}
	s.seq++
	n := s.seq
	akid := "ASIA" + keyChars(makeID("akid", n), 16)
	sess := &session{
		role:    roleARN,
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", ro.partition, ro.account, ro.name, name),
		token:   "FwoGZXIvYXdzE" + strings.ReplaceAll(makeID("token", n)+makeID("token2", n), "-", ""),
		expires: s.now().Add(d).Truncate(time.Second),
	}
	s.sessions[akid] = sess
	res := &out.Result
	res.User.ARN = sess.arn
	res.User.ID = "AROA" + keyChars(makeID("role:"+roleARN, 0), 17) + ":" + name
	res.Credentials.AccessKeyID = akid
	res.Credentials.SecretAccessKey = strings.ReplaceAll(makeID("secret", n)+makeID("secret2", n), "-", "")[:40]
	res.Credentials.SessionToken = sess.token
	res.Credentials.Expiration = sess.expires.UTC().Format(time.RFC3339)
	out.RequestID = makeID("request", n)
	return out, "", ""
}

// keyChars turns a hex id into n characters of an access key id.
func keyChars(id string, n int) string {
	return strings.ToUpper(strings.ReplaceAll(id, "-", ""))[:n]
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		User struct {
			ARN string `xml:"Arn"`
			ID  string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

func (s *Server) writeXML(w http.ResponseWriter, out assumeRoleResponse) {
	out.Xmlns = stsNamespace
	b, err := xml.Marshal(out)
	if err != nil {
		s.writeSTSError(w, "InternalFailure", "smfake: encode response: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", xmlContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Amzn-Requestid", out.RequestID)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// stsStatus maps an STS error code to the HTTP status STS answers it with.
func stsStatus(code string) int {
	switch code {
	case "AccessDenied", "InvalidClientTokenId", "MissingAuthenticationToken",
		"SignatureDoesNotMatch", "RegionDisabledException":
		return http.StatusForbidden
	case "InternalFailure":
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// stsMessages are the messages STS sends with the codes a test is most
// likely to inject, used when a Fault has no Message.
var stsMessages = map[string]string{
	"AccessDenied":       "User is not authorized to perform: sts:AssumeRole (injected by smfake)",
	"Throttling":         "Rate exceeded",
	"InternalFailure":    "An internal error occurred.",
	"ServiceUnavailable": "Service is unavailable.",
	"ExpiredToken":       msgExpiredToken,
}

// writeSTSError answers an STS error:
//
//	<ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>
//
// Type is Receiver for a 5xx, as STS says whose fault it was.
func (s *Server) writeSTSError(w http.ResponseWriter, code, msg string) {
	status := stsStatus(code)
	var e struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	e.Xmlns, e.Error.Type, e.Error.Code, e.Error.Message = stsNamespace, "Sender", code, msg
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.RequestID = s.nextID("request")
	b, _ := xml.Marshal(e)
	h := w.Header()
	h.Set("Content-Type", xmlContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Amzn-Requestid", e.RequestID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
