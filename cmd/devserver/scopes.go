package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// The scopes of a seed file.
//
// A scope (docs/configuration.md) is a named IAM role, assumed with an
// external id, that reads the secrets of the requests naming it. Against
// the double the devserver shows one end to end: each role of the seed
// file that some secret lists among its "readers" becomes a scope named
// after the role (the name after "role/"), with the role's external id,
// admitting every caller ("*": the front's caller and direct invocations
// alike), for exactly those secrets. The function gets them as SCOPES,
// and AWS_ENDPOINT_URL_STS sends its AssumeRole calls to the double too.
//
// The external ids go only into the function's environment: the devserver
// prints and logs none of them.

// scopeNameRE is the grammar of a scope's name.
var scopeNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// seedScope is one scope derived from the seed file.
type seedScope struct {
	name       string
	roleARN    string
	externalID *string  // nil: the role requires none
	secrets    []string // the ARNs, as the seed writes them, of the secrets only the role may read
	// example is a mask of the first such secret that holds a key/value
	// SecretString, or "" when none does.
	example string
}

// seedScopes returns the scopes of the seed file at path, in the order of
// its roles, and a note for each role that cannot be one (its name is not
// a scope's name, or no secret lists it among its readers).
func seedScopes(path string) (scopes []seedScope, notes []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var f smfake.SeedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, fmt.Errorf("seed %s: %w", path, err)
	}
	for _, r := range f.Roles {
		_, name, _ := strings.Cut(r.ARN, ":role/")
		name = name[strings.LastIndexByte(name, '/')+1:]
		if !scopeNameRE.MatchString(name) {
			notes = append(notes, fmt.Sprintf("role %s is no scope: its name is not a scope's name ([A-Za-z0-9._-], 1 to 64 characters)", r.ARN))
			continue
		}
		sc := seedScope{name: name, roleARN: r.ARN, externalID: r.ExternalID}
		for _, s := range f.Secrets {
			if s.Deleted || !slices.Contains(s.Readers, r.ARN) {
				continue
			}
			sc.secrets = append(sc.secrets, s.ARN)
			if sc.example == "" && s.SecretString != nil {
				if k := firstKey(*s.SecretString); k != "" {
					sc.example = "{{workato:sm:" + k + ":" + s.ARN + "}}"
				}
			}
		}
		if len(sc.secrets) == 0 {
			notes = append(notes, fmt.Sprintf("role %s is no scope: no secret lists it among its readers", r.ARN))
			continue
		}
		scopes = append(scopes, sc)
	}
	return scopes, notes, nil
}

// firstKey is the first member, in document order, of a SecretString that
// is a JSON object, if it is a string a mask can name; "" otherwise.
func firstKey(secretString string) string {
	dec := json.NewDecoder(strings.NewReader(secretString))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	t, err := dec.Token()
	k, ok := t.(string)
	if err != nil || !ok || k == "" || strings.Contains(k, "}") {
		return ""
	}
	return k
}

// secretPatterns are the patterns of a scope's "secrets" that admit the
// secret arn, full or partial, in both spellings a mask may use: the
// partial ARN, and the full one with any six-character suffix.
func secretPatterns(arn string) []string {
	partial := arn
	if i := len(arn) - 7; i > 0 && arn[i] == '-' && isSuffix(arn[i+1:]) &&
		strings.Count(arn[:i], ":") >= 6 && !strings.HasSuffix(arn[:i], ":") {
		partial = arn[:i]
	}
	return []string{partial, partial + "-??????"}
}

func isSuffix(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return len(s) == 6
}

// scopesDocument is the value of SCOPES for scopes.
func scopesDocument(scopes []seedScope) (string, error) {
	doc := make(map[string]config.ScopeEntry, len(scopes))
	for _, sc := range scopes {
		var pats []string
		for _, arn := range sc.secrets {
			pats = append(pats, secretPatterns(arn)...)
		}
		doc[sc.name] = config.ScopeEntry{RoleARN: sc.roleARN, ExternalID: aws.ToString(sc.externalID), Callers: []string{"*"}, Secrets: pats}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// withSeedScopes gives the function the seed's scopes as SCOPES, unless
// its environment already names scopes (SCOPES or SCOPES_SECRET_ARN, from
// the devserver's environment or -env-vars): the developer's choice wins,
// and the devserver then shows no scoped example. It logs each scope
// without its external id, and returns the scope whose example the usage
// shows, or nil.
func withSeedScopes(env []string, seed string, logs io.Writer) ([]string, *seedScope, error) {
	m := envMap(env)
	for _, k := range []string{"SCOPES", "SCOPES_SECRET_ARN"} {
		if _, ok := m[k]; ok {
			fmt.Fprintf(logs, "devserver: %s is set: the function gets no scopes from %s\n", k, seed)
			return env, nil, nil
		}
	}
	scopes, notes, err := seedScopes(seed)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range notes {
		fmt.Fprintln(logs, "devserver:", n)
	}
	if len(scopes) == 0 {
		return env, nil, nil
	}
	doc, err := scopesDocument(scopes)
	if err != nil {
		return nil, nil, err
	}
	m["SCOPES"] = doc
	var shown *seedScope
	for i, sc := range scopes {
		extID := "no external id"
		if sc.externalID != nil {
			extID = "an external id (not shown)"
		}
		fmt.Fprintf(logs, "devserver: scope %s: the role %s, assumed with %s, reads %s\n",
			sc.name, sc.roleARN, extID, strings.Join(sc.secrets, ", "))
		if shown == nil && sc.example != "" {
			shown = &scopes[i]
		}
	}
	return envList(m), shown, nil
}

// scopedBody is the request of the scoped example.
func scopedBody(sc *seedScope) string {
	return `{"connection":{"client_secret":"` + sc.example + `"},"scope":"` + sc.name + `"}`
}
