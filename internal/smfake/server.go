package smfake

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// defaultAccount owns plain secret names when no WithAccount is given.
	defaultAccount = "123456789012"
	// defaultPartition is where plain names are resolved.
	defaultPartition = "aws"

	targetPrefix    = "secretsmanager."
	jsonContentType = "application/x-amz-json-1.1"
	// maxRequestBody bounds what a request may make the double buffer;
	// a BatchGetSecretValue of 20 ARNs is a few KiB.
	maxRequestBody = 1 << 20
)

// Operation names as they appear after "secretsmanager." in X-Amz-Target.
const (
	opGetSecretValue      = "GetSecretValue"
	opBatchGetSecretValue = "BatchGetSecretValue"
	opDescribeSecret      = "DescribeSecret"
)

// Server is an in-memory Secrets Manager that answers the real SDK client
// over HTTP. Its zero value is not usable; build one with New. It is safe for
// concurrent use, including Put, Inject and the counters while requests are
// in flight.
type Server struct {
	account   string
	partition string

	mu       sync.Mutex
	secrets  map[secretKey]*secret
	faults   []*armedFault
	calls    map[string]int
	reads    map[secretKey]int
	readsBy  map[principalRead]int
	roles    map[string]*role    // by ARN, for AssumeRole
	sessions map[string]*session // issued credentials, by access key id
	assumed  []AssumeRoleCall
	seq      uint64           // feeds version and request ids
	now      func() time.Time // expires sessions; time.Now but in tests

	meter meter // quotas, their buckets and throttled counts
}

// Option configures a Server built by New.
type Option func(*Server)

// WithAccount sets the account that owns secrets named by a plain name (not
// an ARN) in requests. The default is "123456789012". A seed file's
// "account" field overrides it.
func WithAccount(account string) Option {
	return func(s *Server) { s.account = account }
}

// WithPartition sets the partition ("aws", "aws-cn", "aws-us-gov", ...) in
// which plain secret names in requests are resolved: a plain name finds only
// secrets stored under an ARN of that partition. The default is "aws".
func WithPartition(p string) Option {
	return func(s *Server) { s.partition = p }
}

// New returns an empty Server with the options applied over the defaults.
func New(opts ...Option) *Server {
	s := &Server{
		account:   defaultAccount,
		partition: defaultPartition,
		secrets:   make(map[secretKey]*secret),
		calls:     make(map[string]int),
		reads:     make(map[secretKey]int),
		readsBy:   make(map[principalRead]int),
		roles:     make(map[string]*role),
		sessions:  make(map[string]*session),
		now:       time.Now,
		meter: meter{
			buckets:   make(map[bucketKey]*bucket),
			throttled: make(map[string]int),
			now:       time.Now,
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ServeHTTP answers one awsJson1_1 (Secrets Manager) or query-protocol
// (STS) request. Every request is counted under its operation before
// anything else can fail, so Calls sees rejected, throttled and faulted
// calls too. The quotas are checked once the region is known, before the
// body is read: a throttled call reads nothing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && isQuery(r) {
		// Its operation is in the body, so the body is read first.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		if err != nil {
			return
		}
		if len(body) > maxRequestBody {
			s.writeSTSError(w, "ValidationError", "request body too large")
			return
		}
		s.serveQuery(w, r, body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, known := strings.CutPrefix(target, targetPrefix)
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()

	if r.Method != http.MethodPost || !known {
		s.writeError(w, "UnknownOperationException", "")
		return
	}
	akid, region, ok := sigv4Scope(r.Header.Get("Authorization"))
	if !ok {
		s.writeError(w, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	c, bad, expired := s.callerOf(akid, r.Header.Get("X-Amz-Security-Token"))
	switch {
	case bad:
		s.writeError(w, "UnrecognizedClientException", msgBadToken)
		return
	case expired:
		s.writeError(w, "ExpiredTokenException", msgExpiredToken)
		return
	}
	if !s.meter.allow(op, region) {
		// Unread, the body is drained by net/http (up to 256 KiB), so
		// the connection still carries the client's retry.
		s.writeError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away; nobody is left to answer
	}
	if len(body) > maxRequestBody {
		s.writeError(w, "SerializationException", "request body too large")
		return
	}

	switch op {
	case opGetSecretValue:
		s.getSecretValue(w, r, region, c, body)
	case opBatchGetSecretValue:
		s.batchGetSecretValue(w, r, region, c, body)
	case opDescribeSecret:
		s.describeSecret(w, r, region, c, body)
	default:
		s.writeError(w, "UnknownOperationException", "")
	}
}

// sigv4Scope returns the access key id and the region named by the
// credential of a SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/secretsmanager/aws4_request, SignedHeaders=..., Signature=...
func sigv4Scope(auth string) (akid, region string, ok bool) {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", "", false
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// Calls reports how many requests named op ("GetSecretValue", ...,
// "AssumeRole") the server received, including failed and faulted ones; ""
// counts every request, Secrets Manager's and STS's.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.calls[op]
	}
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// SecretReads reports how many times a secret's value was asked for, by
// GetSecretValue or as an entry of BatchGetSecretValue, whether the answer
// was the value or an error (not found, deleted, injected fault). Requests
// rejected before their body was parsed are not counted. arnOrID may be a
// full ARN, a partial ARN or a plain name; a plain name counts reads of that
// name in the default account across all regions.
func (s *Server) SecretReads(arnOrID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(arnOrID, "arn:") {
		n := 0
		for k, c := range s.reads {
			if k.account == s.account && k.name == arnOrID {
				n += c
			}
		}
		return n
	}
	k, _, ok := s.lookupLocked(arnOrID, "")
	if !ok {
		return 0
	}
	return s.reads[k]
}

// ResetCalls zeroes the counters behind Calls, SecretReads, SecretReadsBy
// and Throttled, and forgets AssumeRoleCalls. It leaves the quotas'
// buckets, the roles and the credentials issued as they are.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	clear(s.calls)
	clear(s.reads)
	clear(s.readsBy)
	s.assumed = nil
	s.mu.Unlock()
	s.meter.resetCounts()
}

// nextID returns a UUID-shaped id that is unique within the server and
// reproducible across runs that make the same calls in the same order.
func (s *Server) nextID(salt string) string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return makeID(salt, n)
}

func makeID(salt string, n uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	h := sha256.Sum256(append([]byte(salt), b[:]...))
	h[6] = h[6]&0x0f | 0x40 // version 4
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// epochSeconds is a timestamp in the awsJson wire form: seconds since the
// epoch as a JSON number with millisecond precision.
type epochSeconds time.Time

// MarshalJSON writes the timestamp as fractional epoch seconds.
func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return fmt.Appendf(nil, "%d.%03d", ms/1000, ms%1000), nil
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, "InternalServiceError", "smfake: encode response: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Amzn-Requestid", s.nextID("request"))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// errorStatus maps an error code to the HTTP status AWS answers it with.
func errorStatus(code string) int {
	switch code {
	case "InternalServiceError", "InternalFailure":
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadRequest
	}
}

// defaultMessages are the messages AWS sends with the codes a test is most
// likely to inject, used when a Fault has no Message.
var defaultMessages = map[string]string{
	"ResourceNotFoundException": msgNotFound,
	"AccessDeniedException":     "User is not authorized to perform this action (injected by smfake)",
	"DecryptionFailure":         "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
	"ThrottlingException":       "Rate exceeded",
	"InternalServiceError":      "An error occurred on the server side.",
	"InvalidRequestException":   msgDeleted,
}

const (
	msgNotFound = "Secrets Manager can't find the specified secret."
	msgDeleted  = "You can't perform this operation on the secret because it was marked for deletion."
)

// messageIn is the message of an error answered with code: msg when the
// fault gives one, else the service's own text for code from messages (the
// Secrets Manager or the STS table).
func messageIn(messages map[string]string, code, msg string) string {
	if msg != "" {
		return msg
	}
	if m, ok := messages[code]; ok {
		return m
	}
	return "smfake: injected " + code
}

func (s *Server) writeError(w http.ResponseWriter, code, msg string) {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{code, msg})
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Amzn-Errortype", code)
	h.Set("X-Amzn-Requestid", s.nextID("request"))
	w.WriteHeader(errorStatus(code))
	_, _ = w.Write(b)
}
