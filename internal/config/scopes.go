package config

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// ScopeEntry is one scope of a scopes document as JSON writes it, for
// the tools and tests that write documents (the devserver's SCOPES, the
// fleet's); ParseScopes reads them. It holds an external id in the clear:
// it is for writing a document, never for logging one.
type ScopeEntry struct {
	RoleARN    string   `json:"role_arn"`
	ExternalID string   `json:"external_id,omitempty"`
	Callers    []string `json:"callers"`
	Secrets    []string `json:"secrets"`
}

// A Scope is a named IAM role, assumed with an optional external id, that
// reads the secrets of the requests naming it: the analogue of a project's
// own Secrets Manager connection. Scopes come from ParseScopes.
//
// The external id is kept out of every textual form of a Scope: String,
// GoString, any fmt verb and slog all show "[redacted]" in its place, so a
// Scope can be logged or wrapped in an error whole.
type Scope struct {
	// Name is the scope's name, 1-64 characters of [A-Za-z0-9._-]: what a
	// request's "scope" member names.
	Name string
	// RoleARN is the IAM role that reads the scope's secrets.
	RoleARN string
	// Callers admit the principals that may name the scope; "*" also
	// admits direct invocations, which have no caller.
	Callers Patterns
	// Secrets are the secret ARNs the scope may resolve.
	Secrets Patterns

	// externalID is held in a closure rather than a string field: fmt
	// prints the unexported fields of a struct that holds a Scope without
	// calling its methods (under %s, %q or %x, even behind a pointer), and
	// a func prints as an address.
	externalID  sealed
	fingerprint string
}

// sealed holds a value that fmt, slog and encoding/json cannot print.
type sealed func() string

func seal(v string) sealed {
	if v == "" {
		return nil
	}
	return func() string { return v }
}

func (f sealed) open() string {
	if f == nil {
		return ""
	}
	return f()
}

// ExternalID is the external id to pass to sts:AssumeRole, or "" for none.
// It is a secret shared with the role's owner: pass it to STS and nowhere
// else.
func (s *Scope) ExternalID() string { return s.externalID.open() }

// AllowsCaller reports whether a caller may name the scope. principalARN is
// the IAM principal of an API Gateway request; direct is true for a direct
// invocation, which has no principal and is admitted only by a "*" among
// the callers, as CALLER_RULES admit it.
func (s *Scope) AllowsCaller(principalARN string, direct bool) bool {
	if direct {
		return slices.Contains(s.Callers, "*")
	}
	return s.Callers.Match(principalARN)
}

// AllowsSecret reports whether the scope may resolve a secret ARN. Check
// the ARN as written in the mask and again as Secrets Manager answers it.
func (s *Scope) AllowsSecret(arn string) bool { return s.Secrets.Match(arn) }

// Fingerprint identifies the pair (RoleARN, external id) without revealing
// either: a keyed hash, stable for the life of the process and meaningless
// outside it, so it cannot be tried against guessed external ids even if
// it is logged. A scope whose role or external id changes gets a new
// fingerprint.
func (s *Scope) Fingerprint() string {
	if s.fingerprint != "" {
		return s.fingerprint
	}
	return fingerprint(s.RoleARN, s.externalID.open())
}

// PartitionKey names the scope's partition of whatever is cached on its
// behalf: its name (two scopes sharing a role read separately) and its
// Fingerprint (a scope whose role or external id changes starts afresh).
// No scope's key is "", which can name the unscoped partition.
func (s *Scope) PartitionKey() string { return s.Name + "/" + s.Fingerprint() }

// fingerprintKey keys the fingerprints of this process.
var fingerprintKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand panics instead)
	return k
}()

func fingerprint(roleARN, externalID string) string {
	h := hmac.New(sha256.New, fingerprintKey)
	// The role ARN holds no NUL, so the pair is encoded unambiguously.
	io.WriteString(h, roleARN)
	h.Write([]byte{0})
	io.WriteString(h, externalID)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// redacted stands for the external id in every textual form of a Scope.
const redacted = "[redacted]"

func (s *Scope) externalIDText() string {
	if s.externalID == nil {
		return "none"
	}
	return redacted
}

// String describes the scope without its external id.
func (s Scope) String() string {
	return fmt.Sprintf("scope %s: role %s, external id %s, callers %v, secrets %v",
		s.Name, s.RoleARN, s.externalIDText(), []Pattern(s.Callers), []Pattern(s.Secrets))
}

// GoString is the %#v form: Go syntax, the external id redacted.
func (s Scope) GoString() string {
	return fmt.Sprintf("config.Scope{Name:%q, RoleARN:%q, ExternalID:%s, Callers:%#v, Secrets:%#v}",
		s.Name, s.RoleARN, s.externalIDText(), s.Callers, s.Secrets)
}

// Format makes every fmt verb (%v, %+v, %s, %d, ...) print String, and %#v
// GoString: without it, fmt would print the unexported external id.
func (s Scope) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// LogValue is the scope in a log line, without its external id.
func (s Scope) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.String("role_arn", s.RoleARN),
		slog.String("external_id", s.externalIDText()),
		slog.Any("callers", []Pattern(s.Callers)),
		slog.Any("secrets", []Pattern(s.Secrets)),
	)
}

// Scopes are the scopes of a document, by name. The zero value has none.
type Scopes struct {
	byName map[string]*Scope
	names  []string // sorted
}

// Get returns the scope of a name.
func (ss Scopes) Get(name string) (*Scope, bool) {
	s, ok := ss.byName[name]
	return s, ok
}

// Len is the number of scopes.
func (ss Scopes) Len() int { return len(ss.names) }

// Names are the scopes' names, sorted.
func (ss Scopes) Names() []string { return slices.Clone(ss.names) }

// String lists the scopes, without their external ids.
func (ss Scopes) String() string {
	var b strings.Builder
	b.WriteString("scopes[")
	for i, n := range ss.names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ss.byName[n].String())
	}
	b.WriteString("]")
	return b.String()
}

// GoString is the %#v form, without the external ids.
func (ss Scopes) GoString() string {
	var b strings.Builder
	b.WriteString("config.Scopes{")
	for i, n := range ss.names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n) + ":" + ss.byName[n].GoString())
	}
	b.WriteString("}")
	return b.String()
}

// Format makes every fmt verb print String, and %#v GoString: without it,
// fmt would print the scopes' unexported external ids.
func (ss Scopes) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, ss.GoString())
		return
	}
	io.WriteString(f, ss.String())
}

// LogValue is the scopes in a log line, by name, without their external ids.
func (ss Scopes) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(ss.names))
	for _, n := range ss.names {
		attrs = append(attrs, slog.Attr{Key: n, Value: ss.byName[n].LogValue()})
	}
	return slog.GroupValue(attrs...)
}
