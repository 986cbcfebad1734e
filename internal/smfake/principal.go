package smfake

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultPrincipal names whoever signs a request with credentials the
// double did not issue: in a test, the function's own role. A role's
// sessions are named by the role's ARN.
const DefaultPrincipal = "default"

// caller is who signed a request: a principal as Grant and SecretReadsBy
// name it, and the ARN AWS would quote in an AccessDenied message.
type caller struct {
	principal string
	arn       string
}

// session is a set of credentials issued by AssumeRole, keyed by its access
// key id.
type session struct {
	role    string // the role's ARN, the session's principal
	arn     string // arn:<partition>:sts::<account>:assumed-role/<name>/<session>
	token   string
	expires time.Time
}

// principalRead keys the reads counted per principal.
type principalRead struct {
	principal string
	k         secretKey
}

// Errors of a request signed with credentials the double issued that are
// no longer (or never were) good, as Secrets Manager and STS name them.
const (
	msgBadToken     = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// callerOf tells who signed a request from its access key id and
// X-Amz-Security-Token header. Keys that AssumeRole did not issue are the
// default principal, as signatures are not verified. For an issued key, a
// token other than the one issued with it answers bad, and a key past its
// expiration expired: the caller answers with the service's own code.
func (s *Server) callerOf(akid, token string) (c caller, bad, expired bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[akid]
	if sess == nil {
		return caller{DefaultPrincipal, fmt.Sprintf("arn:%s:iam::%s:user/smfake", s.partition, s.account)}, false, false
	}
	if token != sess.token {
		return caller{}, true, false
	}
	if !s.now().Before(sess.expires) {
		return caller{}, false, true
	}
	return caller{sess.role, sess.arn}, false, false
}

// readableBy reports whether principal may read the secret: anyone may
// when the secret has no list of readers.
func (e *secret) readableBy(principal string) bool {
	return e.readers == nil || slices.Contains(e.readers, principal)
}

// deniedMessage is the message of an AccessDeniedException, as AWS words
// it when neither an identity policy nor a resource policy allows action.
func deniedMessage(c caller, action, id string) string {
	return "User: " + c.arn + " is not authorized to perform: secretsmanager:" + action +
		" on resource: " + id + " because no resource-based policy allows the secretsmanager:" + action + " action"
}

// Grant adds principal (DefaultPrincipal or a role's ARN) to the readers
// of the secret named by secretARN (full or partial). A secret with
// readers answers GetSecretValue, DescribeSecret and its entry of a
// BatchGetSecretValue with AccessDeniedException to every other principal;
// so the first Grant on a secret that had none shuts out everyone else,
// the default principal included. Grant fails if no such secret is stored.
func (s *Server) Grant(secretARN, principal string) error {
	if principal == "" {
		return fmt.Errorf("smfake: grant on %s: empty principal", secretARN)
	}
	if !strings.HasPrefix(secretARN, "arn:") {
		return fmt.Errorf("smfake: grant: %q is not a secret ARN", secretARN)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sec, _ := s.lookupLocked(secretARN, "")
	if sec == nil {
		return fmt.Errorf("smfake: grant: no secret %s", secretARN)
	}
	if !slices.Contains(sec.readers, principal) {
		sec.readers = append(slices.Clip(sec.readers), principal)
	}
	return nil
}

// SecretReadsBy is SecretReads counting only the reads signed by principal
// (DefaultPrincipal or a role's ARN), whatever the answer, AccessDenied
// included; arnOrID "" counts principal's reads of every secret.
func (s *Server) SecretReadsBy(principal, arnOrID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	switch {
	case arnOrID == "":
		for pr, c := range s.readsBy {
			if pr.principal == principal {
				n += c
			}
		}
	case !strings.HasPrefix(arnOrID, "arn:"):
		for pr, c := range s.readsBy {
			if pr.principal == principal && pr.k.account == s.account && pr.k.name == arnOrID {
				n += c
			}
		}
	default:
		if k, _, ok := s.lookupLocked(arnOrID, ""); ok {
			n = s.readsBy[principalRead{principal, k}]
		}
	}
	return n
}
