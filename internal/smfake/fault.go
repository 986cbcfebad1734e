package smfake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure for the server to act out on matching calls. The first
// injected fault that matches a call (has calls left and, with Percent,
// picks it) applies; it sleeps Latency, then acts on the first of Reset,
// Truncate, Malformed and Code that is set. A fault with only Latency delays
// the normal answer.
type Fault struct {
	// Op restricts the fault to one operation ("GetSecretValue",
	// "BatchGetSecretValue", "DescribeSecret", or STS's "AssumeRole"); ""
	// matches the three Secrets Manager operations but not AssumeRole,
	// whose error codes are STS's ("Throttling", "AccessDenied",
	// "InternalFailure"), not Secrets Manager's.
	Op string
	// RoleARN restricts the fault to AssumeRole calls for that role, so
	// that one scope's role can fail while another's works; it implies Op
	// "AssumeRole".
	RoleARN string
	// SecretID restricts the fault to calls for one secret, named by full
	// ARN, partial ARN or name (a name matches in the caller's region). It
	// makes GetSecretValue and DescribeSecret fail as a whole, and puts
	// that secret's entry of a BatchGetSecretValue into Errors with
	// ErrorCode = Code. "" matches every call as a whole.
	SecretID string
	// Code is the error code to answer with, such as
	// "ResourceNotFoundException", "AccessDeniedException",
	// "DecryptionFailure", "ThrottlingException", "InternalServiceError"
	// or "InvalidRequestException"; "" answers no error.
	// InternalServiceError is sent with HTTP 500, the rest with 400.
	// AssumeRole answers in STS's XML with STS's statuses: "AccessDenied"
	// 403, "Throttling" 400, "InternalFailure" 500, "ServiceUnavailable"
	// 503.
	Code string
	// Message is the error message; "" picks the message AWS sends for
	// Code.
	Message string
	// Latency is how long to wait before answering. The wait ends early,
	// with no answer, when the request's context is cancelled. Per-secret
	// latencies in one BatchGetSecretValue do not add up: the longest wins.
	Latency time.Duration
	// Reset closes the connection without answering (with an RST where
	// the connection is TCP).
	Reset bool
	// Truncate answers 200 with a Content-Length larger than the body
	// sent, then closes the connection.
	Truncate bool
	// Malformed answers 200 with a body that is not JSON (not XML for
	// AssumeRole).
	Malformed bool
	// Times limits the fault to the first n calls it acts on; 0 means
	// every call it acts on.
	Times int
	// Percent confines the fault to that share of the matching calls,
	// 0 < Percent ≤ 100, as a service throttles a share of its traffic; 0
	// means every matching call. Each matching call is picked or passed
	// over by a pseudo-random draw from a seed fixed by the fault's
	// position among the injected ones, so a run that makes the same calls
	// in the same order sees the same ones faulted. A call passed over goes
	// on to the faults injected after this one. Per-secret faults draw once
	// for each matching entry of a BatchGetSecretValue.
	Percent float64
}

// faultSeed seeds the draws of Percent faults; each fault's stream differs
// by its position.
const faultSeed = 0x5eed_f417

// Reset, Truncate and Malformed cannot be confined to one entry of a
// BatchGetSecretValue answer: a per-secret fault with them breaks the whole
// response.
func (f Fault) breaksTransport() bool { return f.Reset || f.Truncate || f.Malformed }

type armedFault struct {
	Fault
	left  int        // calls still to fault; < 0 means unlimited
	pick  *rand.Rand // draws for Percent; nil acts on every matching call
	acted map[string]int
}

// Injected is a fault added by Inject, to ask what it did.
type Injected struct {
	s  *Server
	af *armedFault
}

// Inject adds f after the faults already injected and returns a handle
// that counts the calls f acts on. It panics if f.Percent is not within 0
// to 100: a test that asks for an impossible share is wrong, not unlucky.
func (s *Server) Inject(f Fault) *Injected {
	if !(f.Percent >= 0 && f.Percent <= 100) {
		panic(fmt.Sprintf("smfake: Fault.Percent %g: want 0 < p ≤ 100, or 0 for every call", f.Percent))
	}
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	af := &armedFault{Fault: f, left: left, acted: map[string]int{}}
	if f.Percent > 0 && f.Percent < 100 {
		af.pick = rand.New(rand.NewPCG(faultSeed, uint64(len(s.faults))))
	}
	s.faults = append(s.faults, af)
	return &Injected{s: s, af: af}
}

// Calls reports how many calls named op ("" every operation) the fault
// acted on: calls that matched it and, with Percent, were picked. A
// per-secret fault counts each entry of a BatchGetSecretValue it acted on.
// ResetCalls leaves the count as it is; ClearFaults stops it growing.
func (i *Injected) Calls(op string) int {
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	if op != "" {
		return i.af.acted[op]
	}
	n := 0
	for _, c := range i.af.acted {
		n += c
	}
	return n
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// matchesOp reports whether a fault for op (and, for AssumeRole, the role
// named role) could act on a call.
func (f Fault) matchesOp(op, role string) bool {
	if op == opAssumeRole {
		return (f.Op == opAssumeRole || (f.Op == "" && f.RoleARN != "")) &&
			(f.RoleARN == "" || f.RoleARN == role)
	}
	return f.RoleARN == "" && (f.Op == "" || f.Op == op)
}

// takeFaultLocked returns the first fault with calls left that matches op
// (and role, for AssumeRole) and either the whole call (target == nil) or
// the secret at target, and picks the call if the fault has a Percent; it
// spends one of the fault's calls. s.mu must be held.
func (s *Server) takeFaultLocked(op, region, role string, target *secretKey) (Fault, bool) {
	for _, af := range s.faults {
		if af.left == 0 || !af.matchesOp(op, role) {
			continue
		}
		if target == nil {
			if af.SecretID != "" {
				continue
			}
		} else {
			if af.SecretID == "" {
				continue
			}
			k, _, ok := s.lookupLocked(af.SecretID, region)
			if !ok || k != *target {
				continue
			}
		}
		if af.pick != nil && af.pick.Float64()*100 >= af.Percent {
			continue
		}
		af.acted[op]++
		if af.left > 0 {
			af.left--
		}
		return af.Fault, true
	}
	return Fault{}, false
}

func (s *Server) takeFault(op, region string, target *secretKey) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeFaultLocked(op, region, "", target)
}

// protocol is how a fault's answer is written: Secrets Manager's awsJson1_1
// or STS's query protocol (XML).
type protocol struct {
	contentType string
	malformed   string // a 200 body the client cannot parse
	partial     string // the start of a body, for Truncate
	writeError  func(s *Server, w http.ResponseWriter, code, msg string)
}

var (
	jsonProtocol = protocol{
		contentType: jsonContentType,
		malformed:   "<html><body>smfake: malformed response</body></html>",
		partial:     `{"ARN":"arn:aws:secretsmanager:`,
		writeError: func(s *Server, w http.ResponseWriter, code, msg string) {
			s.writeError(w, code, messageIn(defaultMessages, code, msg))
		},
	}
	queryProtocol = protocol{
		contentType: xmlContentType,
		malformed:   `{"smfake": "malformed response"}`,
		partial:     `<AssumeRoleResponse xmlns="` + stsNamespace + `"><AssumeRoleResult><Credentials><AccessKeyId>ASIA`,
		writeError: func(s *Server, w http.ResponseWriter, code, msg string) {
			s.writeSTSError(w, code, messageIn(stsMessages, code, msg))
		},
	}
)

// apply acts out f on a Secrets Manager call. It reports whether the
// exchange is over (answered, dropped or abandoned by the client); if not,
// the caller answers normally.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, f Fault) bool {
	return s.applyAs(w, r, f, jsonProtocol)
}

// applyAs is apply for the protocol p.
func (s *Server) applyAs(w http.ResponseWriter, r *http.Request, f Fault, p protocol) bool {
	if !sleep(r.Context(), f.Latency) {
		return true
	}
	switch {
	case f.Reset:
		reset(w)
	case f.Truncate:
		s.truncate(w, p)
	case f.Malformed:
		w.Header().Set("Content-Type", p.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(p.malformed)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(p.malformed))
	case f.Code != "":
		p.writeError(s, w, f.Code, f.Message)
	default:
		return false
	}
	return true
}

// sleep waits d unless ctx ends first, and reports whether it waited it
// out.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reset drops the connection. Without a hijackable connection (HTTP/2) it
// falls back to aborting the handler, which resets the stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST, as a dying load balancer would
	}
	_ = conn.Close()
}

// truncate promises more body than it sends, then hangs up.
func (s *Server) truncate(w http.ResponseWriter, p protocol) {
	const promised = 4096
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.Header().Set("Content-Type", p.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(promised))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(p.partial))
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	_, _ = fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Amzn-Requestid: %s\r\n\r\n%s",
		p.contentType, promised, s.nextID("request"), p.partial)
	_ = bw.Flush()
}
