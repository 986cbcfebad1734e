package smfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// suffixLen is the length of the random suffix AWS appends to a secret's
// name in its ARN.
const suffixLen = 6

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Secret is one secret to store with Put.
type Secret struct {
	// ARN is the secret's full ARN (ending in "-" and a 6-character suffix)
	// or its partial ARN, in which case the suffix is derived from the
	// name. As in AWS, a partial ARN whose name itself ends in "-" and six
	// letters or digits is read as a full ARN.
	ARN string
	// String is the SecretString; set it or Binary, not both. A secret
	// with neither has no AWSCURRENT value.
	String *string
	// Binary is the SecretBinary.
	Binary []byte
	// Deleted marks the secret as scheduled for deletion: reads fail with
	// InvalidRequestException and DescribeSecret reports a DeletedDate.
	Deleted bool
	// Readers, when not empty, are the only principals (DefaultPrincipal
	// or roles' ARNs, see Grant) that may read the secret; the others'
	// reads are AccessDeniedException. Empty, anyone may. Nil keeps the
	// readers of the secret it replaces, so that a new value leaves the
	// grants as they were.
	Readers []string
}

// secretKey identifies a secret: a name is unique within a region and
// account.
type secretKey struct{ region, account, name string }

type secret struct {
	partition string
	suffix    string
	str       *string
	bin       []byte
	versionID string // "" when the secret has no value
	created   time.Time
	changed   time.Time
	deleted   time.Time // zero unless marked for deletion
	readers   []string  // nil: anyone may read
	// keepReaders makes a replacement take the replaced secret's readers.
	keepReaders bool
}

func (s *secret) arn(k secretKey) string {
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-%s", s.partition, k.region, k.account, k.name, s.suffix)
}

func (s *secret) hasValue() bool { return s.str != nil || s.bin != nil }

// arnParts is a secret ARN split into its fields:
//
//	arn:<partition>:secretsmanager:<region>:<account>:secret:<name>[-<suffix>]
type arnParts struct {
	partition, region, account string
	resource                   string // name, or name-suffix
}

func parseARN(s string) (arnParts, bool) {
	f := strings.SplitN(s, ":", 7)
	if len(f) != 7 || f[0] != "arn" || f[1] == "" || f[2] != "secretsmanager" ||
		f[3] == "" || f[4] == "" || f[5] != "secret" || f[6] == "" {
		return arnParts{}, false
	}
	return arnParts{partition: f[1], region: f[3], account: f[4], resource: f[6]}, true
}

// splitSuffix splits "name-XXXXXX" into name and suffix when the resource
// ends like a full ARN.
func splitSuffix(resource string) (name, suffix string, ok bool) {
	i := len(resource) - suffixLen - 1
	if i < 1 || resource[i] != '-' {
		return "", "", false
	}
	for _, c := range resource[i+1:] {
		if !strings.ContainsRune(base62, c) {
			return "", "", false
		}
	}
	return resource[:i], resource[i+1:], true
}

// suffixFor derives the suffix of a secret stored from a partial ARN, so
// that the same seed always produces the same full ARN.
func suffixFor(name string) string {
	h := sha256.Sum256([]byte(name))
	b := make([]byte, suffixLen)
	for i := range b {
		b[i] = base62[int(h[i])%len(base62)]
	}
	return string(b)
}

// lookupLocked resolves a SecretId the way AWS does. A full ARN must match
// the stored suffix; failing that it is tried as a partial ARN whose name
// happens to end like a suffix. A plain name lives in region (the request's
// SigV4 region), the default account and the server's partition. The key is returned even when no
// secret exists, so that faults and read counts can name missing secrets;
// ok is false only when id cannot name a secret at all. s.mu must be held.
func (s *Server) lookupLocked(id, region string) (k secretKey, sec *secret, ok bool) {
	if !strings.HasPrefix(id, "arn:") {
		if id == "" || strings.Contains(id, ":") || region == "" {
			return secretKey{}, nil, false
		}
		k = secretKey{region: region, account: s.account, name: id}
		if sec := s.secrets[k]; sec != nil && sec.partition == s.partition {
			return k, sec, true
		}
		return k, nil, true
	}
	a, ok := parseARN(id)
	if !ok {
		return secretKey{}, nil, false
	}
	partial := secretKey{region: a.region, account: a.account, name: a.resource}
	if name, suffix, full := splitSuffix(a.resource); full {
		k = secretKey{region: a.region, account: a.account, name: name}
		if sec := s.secrets[k]; sec != nil && sec.suffix == suffix && sec.partition == a.partition {
			return k, sec, true
		}
		if sec := s.secrets[partial]; sec != nil && sec.partition == a.partition {
			return partial, sec, true
		}
		return k, nil, true
	}
	if sec := s.secrets[partial]; sec != nil && sec.partition == a.partition {
		return partial, sec, true
	}
	return partial, nil, true
}

// Put stores sec, replacing any secret of the same region, account and name
// (a replacement gets a new VersionId and keeps its creation date), and
// returns its full ARN.
func (s *Server) Put(sec Secret) (fullARN string, err error) {
	k, e, err := prepare(sec)
	if err != nil {
		return "", fmt.Errorf("smfake: put: %w", err)
	}
	vid := s.nextID(e.arn(k))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeLocked(k, e, vid, time.Now()), nil
}

// prepare validates sec and turns it into a store entry without touching
// the server, so that Load can reject a bad file before changing anything.
func prepare(sec Secret) (secretKey, *secret, error) {
	a, ok := parseARN(sec.ARN)
	if !ok {
		return secretKey{}, nil, fmt.Errorf("%q is not a Secrets Manager secret ARN", sec.ARN)
	}
	if sec.String != nil && len(sec.Binary) > 0 {
		return secretKey{}, nil, fmt.Errorf("secret %s has both a string and a binary value", sec.ARN)
	}
	k := secretKey{region: a.region, account: a.account, name: a.resource}
	e := &secret{partition: a.partition, str: sec.String, keepReaders: sec.Readers == nil}
	if len(sec.Readers) > 0 {
		e.readers = slices.Clone(sec.Readers)
	}
	if len(sec.Binary) > 0 {
		e.bin = bytes.Clone(sec.Binary)
	}
	if name, suffix, full := splitSuffix(a.resource); full {
		k.name, e.suffix = name, suffix
	} else {
		e.suffix = suffixFor(a.resource)
	}
	if sec.Deleted {
		e.deleted = time.Now() // replaced by the stored date if already deleted
	}
	return k, e, nil
}

func (s *Server) storeLocked(k secretKey, e *secret, vid string, now time.Time) string {
	e.created, e.changed = now, now
	if old := s.secrets[k]; old != nil {
		e.created = old.created
		if e.keepReaders {
			e.readers = old.readers
		}
		if !e.deleted.IsZero() && !old.deleted.IsZero() {
			e.deleted = old.deleted
		}
	}
	if e.hasValue() {
		e.versionID = vid
	}
	s.secrets[k] = e
	return e.arn(k)
}

// SeedFile is the JSON form of a seed file, as Load reads it; tools that
// read a seed for their own ends (the devserver's scopes) decode the same
// type.
type SeedFile struct {
	Account string `json:"account"`
	Secrets []struct {
		ARN          string   `json:"arn"`
		SecretString *string  `json:"secret_string"`
		SecretBinary []byte   `json:"secret_binary"` // base64 in the file
		Deleted      bool     `json:"deleted"`
		Readers      []string `json:"readers"`
	} `json:"secrets"`
	Roles []struct {
		ARN        string  `json:"arn"`
		ExternalID *string `json:"external_id"`
	} `json:"roles"`
}

// Load adds the secrets and roles of a seed file read from r:
//
//	{"account": "137149879143",
//	 "secrets": [{"arn": "<full or partial ARN>", "secret_string": "..."},
//	             {"arn": "...", "secret_binary": "<base64>"},
//	             {"arn": "...", "secret_string": "...", "deleted": true},
//	             {"arn": "...", "secret_string": "...", "readers": ["<role ARN>", "default"]}],
//	 "roles": [{"arn": "arn:aws:iam::137149879143:role/tenant-a", "external_id": "..."}]}
//
// "account", when present, becomes the default account for plain names;
// "readers" are Secret.Readers; a role is AddRole, with RequireExternalID
// when "external_id" is present. Unknown fields are errors, and nothing is
// stored unless every secret and role is valid.
func (s *Server) Load(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f SeedFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("smfake: decode seed: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("smfake: decode seed: trailing data after the JSON object")
	}
	type entry struct {
		k   secretKey
		e   *secret
		vid string
	}
	entries := make([]entry, 0, len(f.Secrets))
	for i, sf := range f.Secrets {
		k, e, err := prepare(Secret{ARN: sf.ARN, String: sf.SecretString, Binary: sf.SecretBinary, Deleted: sf.Deleted, Readers: sf.Readers})
		if err != nil {
			return fmt.Errorf("smfake: seed secret %d: %w", i, err)
		}
		entries = append(entries, entry{k, e, s.nextID(e.arn(k))})
	}
	roles := make(map[string]*role, len(f.Roles))
	for i, rf := range f.Roles {
		var opts []RoleOption
		if rf.ExternalID != nil {
			opts = append(opts, RequireExternalID(*rf.ExternalID))
		}
		r, err := newRole(rf.ARN, opts...)
		if err != nil {
			return fmt.Errorf("smfake: seed role %d: %w", i, err)
		}
		roles[rf.ARN] = r
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Account != "" {
		s.account = f.Account
	}
	for _, en := range entries {
		s.storeLocked(en.k, en.e, en.vid, now)
	}
	maps.Copy(s.roles, roles)
	return nil
}

// LoadFile is Load reading the seed file at path.
func (s *Server) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("smfake: %w", err)
	}
	defer f.Close()
	if err := s.Load(f); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return nil
}
