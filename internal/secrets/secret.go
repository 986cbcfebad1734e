package secrets

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Kind says what a secret's value is.
type Kind int

// The kinds of secret value. Only KeyValue secrets have keys to look up.
const (
	KeyValue  Kind = iota // SecretString holding a JSON object
	Binary                // SecretBinary
	NotObject             // SecretString that is not a JSON object
)

// Secret is a value read from Secrets Manager, parsed for key lookups.
type Secret struct {
	// ARN is the full ARN Secrets Manager answered with.
	ARN  string
	Kind Kind
	// fields holds each top-level member rendered as SPEC §2 says: a JSON
	// string as its text, anything else as its compact JSON literal.
	fields map[string]string
	// members keeps the raw members for dotted-path lookups.
	members map[string]json.RawMessage
}

// NewSecret parses a SecretString. A string that is not a JSON object gives
// a Secret of kind NotObject.
func NewSecret(arn, secretString string) *Secret {
	s := &Secret{ARN: arn, Kind: NotObject}
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(secretString), &members); err != nil || members == nil {
		return s
	}
	fields := make(map[string]string, len(members))
	for k, raw := range members {
		v, ok := render(raw)
		if !ok {
			return s
		}
		fields[k] = v
	}
	s.Kind, s.fields, s.members = KeyValue, fields, members
	return s
}

// Lookup finds key: an exact top-level member first, then, only when there
// is none and the key holds dots, the dotted path through nested objects.
func (s *Secret) Lookup(key string) (string, bool) {
	if s.Kind != KeyValue {
		return "", false
	}
	if v, ok := s.fields[key]; ok {
		return v, true
	}
	if !strings.Contains(key, ".") {
		return "", false
	}
	parts := strings.Split(key, ".")
	raw, ok := s.members[parts[0]]
	for _, p := range parts[1:] {
		if !ok {
			return "", false
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil || obj == nil {
			return "", false
		}
		raw, ok = obj[p]
	}
	if !ok {
		return "", false
	}
	return render(raw)
}

// render gives a member's text: a string unquoted, any other value as its
// compact JSON, which keeps member order and number literals as written.
func render(raw json.RawMessage) (string, bool) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "", false
	}
	return b.String(), true
}
