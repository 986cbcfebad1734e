package smfake

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Fault is a failure for the server to act out on matching calls. The first
// injected fault that matches a call (and has calls left) applies; it sleeps
// Latency, then acts on the first of Reset, Truncate, Malformed and Code
// that is set. A fault with only Latency delays the normal answer.
type Fault struct {
	// Op restricts the fault to one operation ("GetSecretValue",
	// "BatchGetSecretValue", "DescribeSecret"); "" matches all three.
	Op string
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
	// Malformed answers 200 with a body that is not JSON.
	Malformed bool
	// Times limits the fault to the first n matching calls; 0 means every
	// matching call.
	Times int
}

// Reset, Truncate and Malformed cannot be confined to one entry of a
// BatchGetSecretValue answer: a per-secret fault with them breaks the whole
// response.
func (f Fault) breaksTransport() bool { return f.Reset || f.Truncate || f.Malformed }

type armedFault struct {
	Fault
	left int // matching calls still to fault; < 0 means unlimited
}

// Inject adds f after the faults already injected.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &armedFault{Fault: f, left: left})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFaultLocked returns the first fault with calls left that matches op
// and either the whole call (target == nil) or the secret at target, and
// spends one of its calls. s.mu must be held.
func (s *Server) takeFaultLocked(op, region string, target *secretKey) (Fault, bool) {
	for _, af := range s.faults {
		if af.left == 0 || (af.Op != "" && af.Op != op) {
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
	return s.takeFaultLocked(op, region, target)
}

// apply acts out f. It reports whether the exchange is over (answered,
// dropped or abandoned by the client); if not, the caller answers normally.
func (s *Server) apply(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if !sleep(r.Context(), f.Latency) {
		return true
	}
	switch {
	case f.Reset:
		reset(w)
	case f.Truncate:
		s.truncate(w)
	case f.Malformed:
		body := "<html><body>smfake: malformed response</body></html>"
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
	case f.Code != "":
		s.writeError(w, f.Code, messageFor(f.Code, f.Message))
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
func (s *Server) truncate(w http.ResponseWriter) {
	const partial = `{"ARN":"arn:aws:secretsmanager:`
	const promised = 4096
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("Content-Length", strconv.Itoa(promised))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(partial))
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	_, _ = fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nX-Amzn-Requestid: %s\r\n\r\n%s",
		jsonContentType, promised, s.nextID("request"), partial)
	_ = bw.Flush()
}
