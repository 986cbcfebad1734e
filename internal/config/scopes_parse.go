package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidScopes is behind every error of ParseScopes.
var ErrInvalidScopes = errors.New("invalid scopes document")

// scopeError is an error in a scopes document. Its text is made of the
// variable, the scope's name (when it is a valid name) or position, and a
// fixed reason: never a value of the document, which holds external ids.
type scopeError struct {
	source string // SCOPES or SCOPES_SECRET_ARN
	name   string // the scope's name, or ""
	pos    int    // the scope's position from 1 when name is "", or 0
	reason string
}

func (e *scopeError) Error() string {
	switch {
	case e.name != "":
		return e.source + ": scope " + strconv.Quote(e.name) + ": " + e.reason
	case e.pos > 0:
		return e.source + ": scope " + strconv.Itoa(e.pos) + " (by position): " + e.reason
	}
	return e.source + ": " + e.reason
}

func (e *scopeError) Unwrap() error { return ErrInvalidScopes }

// ParseScopes parses a scopes document, the value of SCOPES or the
// SecretString of the secret SCOPES_SECRET_ARN names; source is that
// variable's name, which every error begins with.
//
//	Document := "{" [ Name ":" Scope { "," Name ":" Scope } ] "}"
//	Name     := [A-Za-z0-9._-]{1,64}
//	Scope    := an object of exactly these members, each at most once:
//	            "role_arn":    RoleARN                      (required)
//	            "external_id": [A-Za-z0-9_+=,.@:/-]{2,1224} (optional)
//	            "callers":     [ Pattern, ... ]             (required, not empty)
//	            "secrets":     [ Pattern, ... ]             (required, not empty)
//	RoleARN  := "arn:" Partition ":iam::" [0-9]{12} ":role" Path RoleName
//
// Patterns are those of CALLER_RULES. A name or member given twice and an
// unknown member are errors: a typo such as "external-id" must not drop the
// external id silently. "{}" is valid: no scopes.
//
// Errors wrap ErrInvalidScopes and name the variable and the scope; they
// never quote the document, any value of it or an external id, not even
// for a JSON syntax error (they give its byte offset instead).
func ParseScopes(doc []byte, source string) (Scopes, error) {
	p := scopeParser{dec: json.NewDecoder(bytes.NewReader(doc)), source: source}
	return p.document()
}

type scopeParser struct {
	dec    *json.Decoder
	source string
	name   string // the scope being parsed, once its name is known valid
	pos    int    // its position from 1
}

func (p *scopeParser) fail(reason string) error {
	e := &scopeError{source: p.source, name: p.name, reason: reason}
	if e.name == "" {
		e.pos = p.pos
	}
	return e
}

// token is the next JSON token. encoding/json's own errors are not passed
// on: some quote the input ("invalid character 'x' in string literal").
func (p *scopeParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err == nil {
		return t, nil
	}
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, p.fail("not valid JSON (at byte " + strconv.FormatInt(syntax.Offset, 10) + ")")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, p.fail("not valid JSON (it ends early)")
	}
	return nil, p.fail("not valid JSON")
}

// delim reads the next token, which must be d.
func (p *scopeParser) delim(d json.Delim, what string) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if t != d {
		return p.fail(what)
	}
	return nil
}

func (p *scopeParser) document() (Scopes, error) {
	if err := p.delim('{', "must be a JSON object of scopes by name"); err != nil {
		return Scopes{}, err
	}
	ss := Scopes{byName: map[string]*Scope{}}
	for p.dec.More() {
		p.pos++
		p.name = ""
		t, err := p.token()
		if err != nil {
			return Scopes{}, err
		}
		name, _ := t.(string) // inside an object a token is a name or an error
		if !validScopeName(name) {
			return Scopes{}, p.fail("the name must be 1-64 characters of A-Z a-z 0-9 . _ -")
		}
		p.name = name
		if _, dup := ss.byName[name]; dup {
			return Scopes{}, p.fail("defined twice")
		}
		s, err := p.scope()
		if err != nil {
			return Scopes{}, err
		}
		ss.byName[name] = s
		ss.names = append(ss.names, name)
	}
	p.name, p.pos = "", 0
	if err := p.delim('}', "must be a JSON object of scopes by name"); err != nil {
		return Scopes{}, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return Scopes{}, p.fail("trailing data after the JSON object")
	}
	slices.Sort(ss.names)
	return ss, nil
}

// scope parses the object of the scope p.name.
func (p *scopeParser) scope() (*Scope, error) {
	const what = "must be an object with role_arn, callers and secrets"
	if err := p.delim('{', what); err != nil {
		return nil, err
	}
	s := &Scope{Name: p.name}
	seen := map[string]bool{}
	for i := 1; p.dec.More(); i++ {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		member, _ := t.(string)
		switch member {
		case "role_arn", "external_id", "callers", "secrets":
		default:
			// By position: the member's name is part of the document.
			return nil, p.fail("member " + strconv.Itoa(i) +
				" is not one of role_arn, external_id, callers, secrets")
		}
		if seen[member] {
			return nil, p.fail(member + " given twice")
		}
		seen[member] = true
		switch member {
		case "role_arn":
			if s.RoleARN, err = p.str(member); err != nil {
				return nil, err
			}
			if reason := checkRoleARN(s.RoleARN); reason != "" {
				return nil, p.fail("role_arn is not an IAM role ARN " +
					"arn:<partition>:iam::<12 digits>:role/<path/name>: " + reason)
			}
		case "external_id":
			id, err := p.str(member)
			if err != nil {
				return nil, err
			}
			s.externalID = seal(id)
			if !validExternalID(id) {
				return nil, p.fail("external_id must be 2-1224 characters of " +
					"A-Z a-z 0-9 _ + = , . @ : / - (omit it for none)")
			}
		case "callers":
			if s.Callers, err = p.patterns(member); err != nil {
				return nil, err
			}
		case "secrets":
			if s.Secrets, err = p.patterns(member); err != nil {
				return nil, err
			}
		}
	}
	if err := p.delim('}', what); err != nil {
		return nil, err
	}
	switch {
	case s.RoleARN == "":
		return nil, p.fail("role_arn is required")
	case len(s.Callers) == 0:
		return nil, p.fail("callers must hold at least one pattern")
	case len(s.Secrets) == 0:
		return nil, p.fail("secrets must hold at least one pattern")
	}
	s.fingerprint = fingerprint(s.RoleARN, s.externalID.open())
	return s, nil
}

// str reads a string member's value.
func (p *scopeParser) str(member string) (string, error) {
	t, err := p.token()
	if err != nil {
		return "", err
	}
	v, ok := t.(string)
	if !ok {
		return "", p.fail(member + " must be a string")
	}
	return v, nil
}

// patterns reads a list of patterns, compiled as CALLER_RULES' are.
func (p *scopeParser) patterns(member string) (Patterns, error) {
	if err := p.delim('[', member+" must be a list of ARN patterns"); err != nil {
		return nil, err
	}
	var list []string
	for p.dec.More() {
		t, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := t.(string)
		if !ok {
			return nil, p.fail(member + "[" + strconv.Itoa(len(list)) + "] must be a string")
		}
		list = append(list, v)
	}
	if err := p.delim(']', member+" must be a list of ARN patterns"); err != nil {
		return nil, err
	}
	ps, bad := compilePatterns(list)
	if bad >= 0 {
		return nil, p.fail(member + "[" + strconv.Itoa(bad) + "] " + errNotPattern)
	}
	return ps, nil
}

// maxScopeName is the longest scope name.
const maxScopeName = 64

// validScopeName checks
//
//	Name := [A-Za-z0-9._-]{1,64}
func validScopeName(n string) bool {
	if n == "" || len(n) > maxScopeName {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validExternalID checks STS's rule for ExternalId:
//
//	ExternalID := [A-Za-z0-9_+=,.@:/-]{2,1224}
func validExternalID(id string) bool {
	if len(id) < 2 || len(id) > 1224 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && !strings.ContainsRune("_+=,.@:/-", rune(c)) {
			return false
		}
	}
	return true
}

// checkRoleARN checks an IAM role ARN and says what is wrong with it, or
// "", in words that do not quote it:
//
//	RoleARN   := "arn:" Partition ":iam::" Account ":role" Path RoleName   (at most 2048 bytes, STS's limit)
//	Partition := "aws" | "aws-" [a-z0-9-]+                                  (at most 32 bytes)
//	Account   := [0-9]{12}
//	Path      := "/" | "/" [\x21-\x7E]+ "/"                                 (at most 512 bytes)
//	RoleName  := [A-Za-z0-9_+=,.@-]{1,64}
func checkRoleARN(a string) string {
	if len(a) > 2048 {
		return "longer than 2048 bytes"
	}
	rest, ok := strings.CutPrefix(a, "arn:")
	if !ok {
		return `it does not start with "arn:"`
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !ok || !validPartition(partition) {
		return `the partition is not "aws" or "aws-*"`
	}
	rest, ok = strings.CutPrefix(rest, "iam::")
	if !ok {
		return `the service is not "iam" with an empty region`
	}
	account, rest, ok := strings.Cut(rest, ":")
	if !ok || len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "the account is not 12 digits"
	}
	rest, ok = strings.CutPrefix(rest, "role/")
	if !ok {
		return `the resource is not "role/" and a path and name`
	}
	slash := strings.LastIndexByte(rest, '/')
	path, name := "/"+rest[:slash+1], rest[slash+1:]
	if len(path) > 512 {
		return "the path is longer than 512 bytes"
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x21 || path[i] > 0x7e {
			return "the path has a character outside ASCII ! to ~"
		}
	}
	if name == "" || len(name) > 64 {
		return "the role name is not 1-64 characters"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && !strings.ContainsRune("_+=,.@-", rune(c)) {
			return "the role name has a character outside A-Z a-z 0-9 _ + = , . @ -"
		}
	}
	return ""
}

// validPartition checks
//
//	Partition := "aws" | "aws-" [a-z0-9-]+   (at most 32 bytes)
//
// as the mask package does for secret ARNs.
func validPartition(p string) bool {
	if p == "aws" {
		return true
	}
	rest, ok := strings.CutPrefix(p, "aws-")
	if !ok || rest == "" || len(p) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
