package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fuzzMarker sits in the seeds' values. A reason is fixed text: it never
// holds the marker, which a quote of a value would bring in.
const fuzzMarker = "Zq9"

// FuzzParseScopes: any document either fails with an error made of the
// variable, a valid scope name or a position, and fixed text; or yields
// scopes that hold every rule and survive a round trip.
func FuzzParseScopes(f *testing.F) {
	const role = "arn:aws:iam::210987654321:role/team/Zq9-reader"
	for _, doc := range []string{
		`{}`,
		`{"s": {"role_arn": "` + role + `", "external_id": "Zq9-ext", "callers": ["*"], "secrets": ["arn:aws:secretsmanager:*:210987654321:secret:Zq9/*"]}}`,
		`{"a": {"role_arn": "` + role + `", "callers": ["arn:aws:iam::1:role/Zq9"], "secrets": ["*"]}, "b.c_d-e": {"secrets": ["*"], "callers": ["*"], "role_arn": "arn:aws-cn:iam::000000000000:role/r"}}`,
		`{"s": {"role_arn": "arn:aws:iam::210987654321:role/Zq9*", "callers": ["*"], "secrets": ["*"]}}`,
		`{"s": {"role_arn": "` + role + `", "external_id": "Zq9 ext", "callers": ["*"], "secrets": ["*"]}}`,
		`{"s": {"role_arn": "` + role + `", "external-id": "Zq9", "callers": ["Zq9"], "secrets": []}}`,
		`{"Zq9 s": {}, "s": {"role_arn": "Zq9"}}`,
		`{"s": {"external_id": "Zq9` + "\x01" + `"}}`,
		`{"s": {"external_id": Zq9}}`,
		`[{"Zq9": "Zq9"}]`,
		`{"s": {"role_arn": "` + role + `", "callers": ["*"], "secrets": ["*"]}} "Zq9"`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ss, err := ParseScopes(doc, "SCOPES")
		if err != nil {
			var e *scopeError
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidScopes) {
				t.Fatalf("error %v (%T) is not a scope error", err, err)
			}
			if e.source != "SCOPES" || (e.name != "" && !validScopeName(e.name)) {
				t.Fatalf("error %q names %q, %q", err, e.source, e.name)
			}
			if strings.Contains(e.reason, fuzzMarker) || strings.Contains(e.reason, "invalid character") {
				t.Fatalf("reason %q quotes the document", e.reason)
			}
			if !reflect.DeepEqual(ss, Scopes{}) {
				t.Fatalf("failed with scopes %v", ss)
			}
			return
		}
		type wire struct {
			RoleARN    string   `json:"role_arn"`
			ExternalID string   `json:"external_id,omitempty"`
			Callers    Patterns `json:"callers"`
			Secrets    Patterns `json:"secrets"`
		}
		out := map[string]wire{}
		for _, name := range ss.Names() {
			s, ok := ss.Get(name)
			switch {
			case !ok || s.Name != name || !validScopeName(name):
				t.Fatalf("scope %q: %v", name, s)
			case checkRoleARN(s.RoleARN) != "":
				t.Fatalf("scope %q: role %q: %s", name, s.RoleARN, checkRoleARN(s.RoleARN))
			case s.ExternalID() != "" && !validExternalID(s.ExternalID()):
				t.Fatalf("scope %q: external id invalid", name)
			case len(s.Callers) == 0 || len(s.Secrets) == 0:
				t.Fatalf("scope %q has no callers or secrets", name)
			case s.fingerprint != fingerprint(s.RoleARN, s.ExternalID()):
				t.Fatalf("scope %q: stale fingerprint", name)
			}
			for _, p := range append(append(Patterns{}, s.Callers...), s.Secrets...) {
				if p != "*" && !strings.HasPrefix(string(p), "arn:") {
					t.Fatalf("scope %q: pattern %q", name, p)
				}
			}
			out[name] = wire{s.RoleARN, s.ExternalID(), s.Callers, s.Secrets}
		}
		again, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		ss2, err := ParseScopes(again, "SCOPES")
		if err != nil || !sameScopes(ss, ss2) {
			t.Fatalf("round trip of %s: %v, %v; want %v", again, ss2, err, ss)
		}
	})
}

// sameScopes compares two documents as configured: reflect.DeepEqual
// cannot, since a scope holds its external id in a func.
func sameScopes(a, b Scopes) bool {
	if !reflect.DeepEqual(a.Names(), b.Names()) {
		return false
	}
	for _, name := range a.Names() {
		x, _ := a.Get(name)
		y, _ := b.Get(name)
		if x.Name != y.Name || x.RoleARN != y.RoleARN || x.ExternalID() != y.ExternalID() ||
			!reflect.DeepEqual(x.Callers, y.Callers) || !reflect.DeepEqual(x.Secrets, y.Secrets) ||
			x.Fingerprint() != y.Fingerprint() {
			return false
		}
	}
	return true
}
