package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// Kinds of request in the mix, with their shares out of 100.
const (
	kindResolve1    = "resolve-1"     // one mask
	kindResolve10   = "resolve-10"    // ten masks in nested objects, arrays and text
	kindDryRun      = "dry-run"       // one or ten masks, dry_run: true
	kindKeyNotFound = "key-not-found" // a good mask and one naming a missing key: 422
	kindPayload     = "payload"       // the -payload file
)

var kindShares = []struct {
	kind  string
	share int
}{{kindResolve1, 40}, {kindResolve10, 30}, {kindDryRun, 20}, {kindKeyNotFound, 10}}

// templates is how many distinct requests the mix holds; the clients pick
// among them at random.
const templates = 400

// mix is the fixed set of requests the clients send, each with what its
// answer must be.
type mix struct {
	secrets   []secretDef
	seeded    int // how many of secrets come from the seed file
	templates []*template
	// unique is the number of distinct secrets the templates name: with
	// the cache, each is read about once per TTL per environment.
	unique int
}

type template struct {
	kind string
	body []byte
	exp  *expectation // nil for a -payload body: its shape alone is checked
}

// expectation is the answer a template must get.
type expectation struct {
	status     int
	connection []byte             // 200: the connection, as JSON
	masks      []answer.MaskEntry // 200: the masks list, in any order
	errMasks   []answer.MaskEntry // 422: error.masks, in any order
	forbidden  [][]byte           // values that must not appear in the answer
	errorCode  string             // 422: error.code
}

// secretDef is one secret of the mix: its ARN as masks write it, its
// SecretString parsed for lookups, and the keys the masks ask for.
//
// The value a mask must resolve to is found with the function's own
// lookup (internal/secrets), read from the seed in this process: what the
// load test checks is that, under load, through the cache, batching and
// retries of several execution environments, each answer carries the
// value of the secret and key it asked for. What a key means (an exact
// member first, then the dotted path; a string as its text, anything else
// as its compact JSON) is the lookup's own subject, tested in
// internal/secrets and through the built function in cmd/resolver; a
// second copy of the rule here would be one more place to keep in step.
type secretDef struct {
	arn    string
	secret *secrets.Secret
	keys   []string
}

// target is one mask: a key of a secret, and its value as the function
// must render it.
type target struct {
	arn, key, value string
}

func (t target) mask() string { return "{{workato:sm:" + t.key + ":" + t.arn + "}}" }

// newMix reads the seed file, adds extra generated secrets, writes the
// result to seedOut for the devserver, and builds the requests over every
// key/value secret.
func newMix(seedPath string, extra int, seedOut string) (*mix, error) {
	b, err := os.ReadFile(seedPath)
	if err != nil {
		return nil, err
	}
	var seed struct {
		Account string            `json:"account"`
		Secrets []json.RawMessage `json:"secrets"`
	}
	if err := json.Unmarshal(b, &seed); err != nil {
		return nil, fmt.Errorf("seed %s: %w", seedPath, err)
	}
	m := &mix{}
	for _, raw := range seed.Secrets {
		var s struct {
			ARN          string  `json:"arn"`
			SecretString *string `json:"secret_string"`
			Deleted      bool    `json:"deleted"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("seed %s: %w", seedPath, err)
		}
		if s.Deleted || s.SecretString == nil {
			continue
		}
		if keys := keysOf(*s.SecretString); len(keys) > 0 {
			m.secrets = append(m.secrets, secretDef{arn: s.ARN, secret: secrets.NewSecret(s.ARN, *s.SecretString), keys: keys})
		}
	}
	m.seeded = len(m.secrets)
	account := seed.Account
	if account == "" {
		account = "123456789012"
	}
	rnd := rand.New(rand.NewPCG(20261128, 5))
	regions := []string{"us-east-1", "us-east-1", "us-east-1", "eu-west-1", "us-west-2"}
	for i := range extra {
		suffix := word(rnd, 6)
		full := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:load/app-%02d-%s", regions[i%len(regions)], account, i, suffix)
		str := fmt.Sprintf(`{"username":"load-user-%02d","password":"pw-%02d-%s","conn":{"token":"tok-%02d-%s","ttl":3600},`+
			`"port":%d,"api key:v2":"ak-%02d-%s","tls":{"verify":true,"min":"1.2"},"big":1234567890123456789%02d,`+
			`"note":"caf\u00e9 \u2713 {{workato:sm:never:scanned}}"}`,
			i, i, word(rnd, 12), i, word(rnd, 12), 5400+i, i, word(rnd, 12), i)
		seed.Secrets = append(seed.Secrets, json.RawMessage(fmt.Sprintf(`{"arn":%q,"secret_string":%q}`, full, str)))
		arn := full
		if i%7 == 3 {
			// A partial ARN (no random suffix), which Secrets Manager
			// accepts; every mask of this secret uses it, so it stays one
			// cache entry.
			arn = strings.TrimSuffix(full, "-"+suffix)
		}
		m.secrets = append(m.secrets, secretDef{arn: arn, secret: secrets.NewSecret(full, str), keys: keysOf(str)})
	}
	if len(m.secrets) == 0 {
		return nil, fmt.Errorf("seed %s: no key/value secret to resolve, and no extra secrets", seedPath)
	}
	out, err := json.MarshalIndent(seed, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(seedOut, out, 0o600); err != nil {
		return nil, err
	}
	m.build(rnd)
	return m, nil
}

// fixedMix sends the file at path every time.
func fixedMix(path string) (*mix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("payload %s is not JSON", path)
	}
	m := &mix{templates: []*template{{kind: kindPayload, body: b}}}
	arns := map[string]bool{}
	for _, match := range maskRE.FindAllStringSubmatch(string(b), -1) {
		if f := strings.Split(match[1], ":"); len(f) >= 7 {
			arns[strings.Join(f[len(f)-7:], ":")] = true
		}
	}
	m.unique = len(arns)
	return m, nil
}

var maskRE = regexp.MustCompile(`\{\{workato:sm:([^}]*)\}\}`)

// word returns n random letters and digits.
func word(rnd *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}

// keysOf lists the keys a mask may name in a SecretString that is a JSON
// object: each member, and the dotted path to each member of a nested
// object. Keys a mask cannot hold (empty, or with '}') are left out.
func keysOf(secretString string) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(secretString), &top) != nil || top == nil {
		return nil
	}
	var keys []string
	for k, v := range top {
		if k == "" || strings.Contains(k, "}") {
			continue
		}
		keys = append(keys, k)
		var inner map[string]json.RawMessage
		if strings.Contains(k, ".") || json.Unmarshal(v, &inner) != nil {
			continue
		}
		for k2 := range inner {
			if k2 != "" && !strings.ContainsAny(k2, ".}") {
				keys = append(keys, k+"."+k2)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

func (m *mix) pick(rnd *rand.Rand, s secretDef) target {
	key := s.keys[rnd.IntN(len(s.keys))]
	v, _ := s.secret.Lookup(key)
	return target{arn: s.arn, key: key, value: v}
}

func (m *mix) randomTarget(rnd *rand.Rand) target {
	return m.pick(rnd, m.secrets[rnd.IntN(len(m.secrets))])
}

// build makes the templates: the shares of kindShares, the first
// one-mask requests going once through every secret so that each is in
// the mix.
func (m *mix) build(rnd *rand.Rand) {
	i := 0
	for _, ks := range kindShares {
		for range templates * ks.share / 100 {
			var t *template
			switch ks.kind {
			case kindResolve1:
				s := m.secrets[i%len(m.secrets)]
				if i >= len(m.secrets) {
					s = m.secrets[rnd.IntN(len(m.secrets))]
				}
				t = m.resolveTemplate(ks.kind, oneMask(m.pick(rnd, s)), false, rnd.IntN(2) == 0)
			case kindResolve10:
				t = m.resolveTemplate(ks.kind, tenMasks(m, rnd), false, false)
			case kindDryRun:
				conn := oneMask(m.randomTarget(rnd))
				if rnd.IntN(2) == 0 {
					conn = tenMasks(m, rnd)
				}
				t = m.resolveTemplate(ks.kind, conn, true, false)
			case kindKeyNotFound:
				t = m.keyNotFoundTemplate(rnd)
			}
			m.templates = append(m.templates, t)
			i++
		}
	}
	arns := map[string]bool{}
	for _, s := range m.secrets {
		arns[s.arn] = true
	}
	m.unique = len(arns)
}

// A connection is built from obj, []any, string, json.Number, bool and
// text, so that it can be written both as sent and as resolved.
type (
	obj    []member
	member struct {
		k string
		v any
	}
	// text is a JSON string made of literal strings and masks.
	text []any
)

func oneMask(t target) obj {
	return obj{{"host", "api.example.com"}, {"client_secret", text{t}}}
}

// tenMasks is a connection with ten masks at several depths, two in one
// string, beside text that looks like a mask and is not one, member names
// that JSON Pointer escapes, and numbers that float64 would round.
func tenMasks(m *mix, rnd *rand.Rand) obj {
	t := make([]target, 10)
	for i := range t {
		t[i] = m.randomTarget(rnd)
	}
	return obj{
		{"name", "load test ✓"},
		{"port", json.Number("443")},
		{"big", json.Number("12345678901234567890")},
		{"enabled", true},
		{"auth", obj{{"user", text{t[0]}}, {"password", text{t[1]}}, {"header", text{"Bearer ", t[2]}}}},
		{"x-api/key", text{t[3]}},
		{"til~de", text{t[4]}},
		{"list", []any{text{t[5]}, "plain {{not a mask}}", text{t[6]}, obj{{"deep", text{t[7]}}}}},
		{"pair", text{t[8], ":", t[9]}},
		{"empty", obj{{"o", obj{}}, {"a", []any{}}}},
	}
}

// resolveTemplate is a request for conn that must succeed.
func (m *mix) resolveTemplate(kind string, conn obj, dryRun, explicitFalse bool) *template {
	exp := &expectation{status: 200}
	var sent, want bytes.Buffer
	writeJSON(&sent, conn, false)
	writeJSON(&want, conn, !dryRun)
	exp.connection = want.Bytes()
	status := "resolved"
	if dryRun {
		status = "verified"
	}
	walkMasks(conn, "/connection", func(path string, t target) {
		exp.masks = append(exp.masks, answer.MaskEntry{Path: path, Key: t.key, SecretARN: t.arn, Status: status})
		if dryRun {
			exp.forbidden = appendForbidden(exp.forbidden, t.value, sent.Bytes())
		}
	})
	body := `{"connection":` + sent.String()
	switch {
	case dryRun:
		body += `,"dry_run":true`
	case explicitFalse:
		body += `,"dry_run":false`
	}
	return &template{kind: kind, body: []byte(body + "}"), exp: exp}
}

// keyNotFoundTemplate is a good mask and one naming a key its secret does
// not have: all or nothing, so 422 with the bad mask listed and no value.
func (m *mix) keyNotFoundTemplate(rnd *rand.Rand) *template {
	good := m.randomTarget(rnd)
	s := m.secrets[rnd.IntN(len(m.secrets))]
	bad := target{arn: s.arn, key: fmt.Sprintf("no.such.key.%d", rnd.IntN(1000))}
	conn := obj{{"good", text{good}}, {"bad", text{bad}}}
	var sent bytes.Buffer
	writeJSON(&sent, conn, false)
	exp := &expectation{
		status:    422,
		errorCode: "MaskResolutionFailed",
		errMasks:  []answer.MaskEntry{{Path: "/connection/bad", Key: bad.key, SecretARN: bad.arn, Code: "KeyNotFound"}},
		forbidden: appendForbidden(nil, good.value, sent.Bytes()),
	}
	return &template{kind: kindKeyNotFound, body: []byte(`{"connection":` + sent.String() + `}`), exp: exp}
}

// appendForbidden adds a value that must not appear in an answer, unless
// it is too short or common to tell (a port number, true) or the request
// itself holds it.
func appendForbidden(list [][]byte, value string, request []byte) [][]byte {
	if len(value) < 8 || bytes.Contains(request, []byte(value)) {
		return list
	}
	return append(list, []byte(value))
}

// writeJSON writes v, with each mask as its mask text or, when resolved,
// as its value.
func writeJSON(b *bytes.Buffer, v any, resolved bool) {
	switch v := v.(type) {
	case obj:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(m.k)
			b.Write(k)
			b.WriteByte(':')
			writeJSON(b, m.v, resolved)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e, resolved)
		}
		b.WriteByte(']')
	case text:
		var s strings.Builder
		for _, p := range v {
			switch p := p.(type) {
			case string:
				s.WriteString(p)
			case target:
				if resolved {
					s.WriteString(p.value)
				} else {
					s.WriteString(p.mask())
				}
			}
		}
		writeJSON(b, s.String(), resolved)
	default:
		j, _ := json.Marshal(v)
		b.Write(j)
	}
}

// walkMasks calls fn with the JSON Pointer and target of every mask in v.
func walkMasks(v any, path string, fn func(string, target)) {
	switch v := v.(type) {
	case obj:
		for _, m := range v {
			walkMasks(m.v, path+"/"+pointerEscape(m.k), fn)
		}
	case []any:
		for i, e := range v {
			walkMasks(e, fmt.Sprintf("%s/%d", path, i), fn)
		}
	case text:
		for _, p := range v {
			if t, ok := p.(target); ok {
				fn(path, t)
			}
		}
	}
}

// pointerEscape escapes a member name for RFC 6901.
func pointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
