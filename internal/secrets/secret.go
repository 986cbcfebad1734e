package secrets

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/maskresolver/maskresolver/internal/jsonlex"
)

// Kind says what a secret's value is.
type Kind int

// The kinds of secret value. Only KeyValue secrets have keys to look up.
const (
	KeyValue  Kind = iota // SecretString holding a JSON object
	Binary                // SecretBinary
	NotObject             // SecretString that is not a JSON object
)

// MaxKeySegments is the most segments a key may have for Lookup to follow it
// as a dotted path. A real path is a handful of segments deep
// (db.primary.password); 32 leaves room for any of them while capping what a
// crafted key can make one lookup walk, and bounds how deep the nested
// members are indexed at all.
const MaxKeySegments = 32

// Secret is a value read from Secrets Manager, parsed for key lookups.
// It is safe for concurrent use: the cache shares one Secret between
// requests.
type Secret struct {
	// ARN is the full ARN Secrets Manager answered with.
	ARN  string
	Kind Kind
	// VersionID is the VersionId Secrets Manager answered with: which
	// version the value is, without being a secret itself.
	VersionID string
	// fields holds each top-level member rendered as a mask inserts it
	// (docs/api.md): a JSON string as its text, anything else as its compact
	// JSON literal.
	fields map[string]string
	// members keeps the raw members, from which the first dotted lookup
	// indexes the nested ones (nest). Not at read time: most secrets are
	// flat and most keys have no dots.
	members  map[string]json.RawMessage
	nestOnce sync.Once
	nest     *tree
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

// Lookup finds key: an exact top-level member first, whatever the key holds;
// then, only when there is none and the key holds dots, the dotted path,
// split at every dot, through nested objects. A dotted key of more than
// MaxKeySegments segments is not found by path.
//
// The first dotted lookup indexes the secret's nested objects in one pass
// over it, each nested value is rendered once, on its first lookup, and a
// lookup after that costs its key's length: hundreds of masks naming one
// deep key cost what the secret costs, not that times their number.
func (s *Secret) Lookup(key string) (string, bool) {
	if s.Kind != KeyValue {
		return "", false
	}
	if v, ok := s.fields[key]; ok {
		return v, true
	}
	if dots := strings.Count(key, "."); dots == 0 || dots >= MaxKeySegments {
		return "", false
	}
	t := s.nested()
	kids := t.root
	for {
		seg, rest, more := strings.Cut(key, ".")
		n, ok := kids[seg]
		if !ok {
			return "", false
		}
		if !more {
			return n.render(t)
		}
		kids, key = n.kids, rest // nil unless n is an object: nothing found
	}
}

// nested gives the index of the nested members, building it once.
func (s *Secret) nested() *tree {
	s.nestOnce.Do(func() {
		t := &tree{root: make(map[string]*node, len(s.members))}
		for k, raw := range s.members {
			t.root[k], _ = t.value(raw, jsonlex.SkipSpace(raw, 0), 1)
		}
		s.nest = t
	})
	return s.nest
}

// tree indexes a secret's members: every object within reach of a dotted
// key of at most MaxKeySegments segments has its members in a map; anything
// deeper, and every array or scalar, is kept as its raw text only.
type tree struct {
	root map[string]*node
	// parsed counts objects whose members were read; rendered counts values
	// rendered. Tests use them to prove the work done is linear.
	parsed   int
	rendered atomic.Int64
}

// node is one member's value.
type node struct {
	raw  []byte           // as written in the SecretString
	kids map[string]*node // the members of an indexed object; nil otherwise

	once sync.Once
	text string
	ok   bool
}

// render gives the node's text, rendering it on first use: a request may
// name the same large member in hundreds of masks.
func (n *node) render(t *tree) (string, bool) {
	n.once.Do(func() {
		t.rendered.Add(1)
		n.text, n.ok = render(n.raw)
	})
	return n.text, n.ok
}

// The scanner below reads text that json.Unmarshal has already accepted in
// NewSecret, so it only finds where each value starts and ends and never
// meets an error. Each byte is scanned once: an indexed object reads its
// members in place, and everything else is skipped over.

// value reads the value at b[i:], a member of an object at depth-1 (a
// top-level member has depth 1), and returns it with the offset after it.
func (t *tree) value(b []byte, i, depth int) (*node, int) {
	start := i
	n := &node{}
	if b[i] == '{' && depth < MaxKeySegments {
		n.kids, i = t.object(b, i, depth)
	} else {
		i = jsonlex.SkipValidValue(b, i)
	}
	n.raw = b[start:i]
	return n, i
}

// object reads the members of the object at b[i:]. As with json.Unmarshal
// into a map, the last of duplicate names wins.
//
//	object = '{' ws [ member { ',' ws member } ] '}'
//	member = string ws ':' ws value ws
func (t *tree) object(b []byte, i, depth int) (map[string]*node, int) {
	t.parsed++
	kids := make(map[string]*node)
	i = jsonlex.SkipSpace(b, i+1)
	if b[i] == '}' {
		return kids, i + 1
	}
	for {
		end := jsonlex.SkipValidString(b, i)
		// The name as json.Unmarshal decodes it: escapes, and invalid
		// UTF-8 as U+FFFD.
		name := jsonlex.Text(b[i+1 : end-1])
		i = jsonlex.SkipSpace(b, jsonlex.SkipSpace(b, end)+1) // past ':'
		var n *node
		n, i = t.value(b, i, depth+1)
		kids[name] = n
		i = jsonlex.SkipSpace(b, i)
		if b[i] == '}' {
			return kids, i + 1
		}
		i = jsonlex.SkipSpace(b, i+1) // past ','
	}
}

// render gives a member's text: a string unquoted, any other value as its
// compact JSON, which keeps member order and number literals as written.
func render(raw json.RawMessage) (string, bool) {
	if len(raw) > 0 && raw[0] == '"' {
		return jsonlex.Text(raw[1 : len(raw)-1]), true
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return "", false
	}
	return b.String(), true
}
