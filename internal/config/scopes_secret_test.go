package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/config"
)

// Canaries: an external id, and a role ARN that is invalid (its name has a
// '*') and so reaches an error. Neither may appear in any error, print or
// log line.
const (
	canaryExt  = "CanaryExtId-9q8w7e"
	canaryRole = "arn:aws:iam::210987654321:role/CanaryRole*4r5t"
	// canaryFrag is a fragment of both that a partial quote would show.
	canaryFrag = "Canary"
)

// Every kind of error, raised before, at and after the canaries, and as a
// JSON syntax error inside them, names the variable and never shows them.
func TestScopeErrorsQuoteNothing(t *testing.T) {
	t.Parallel()
	ext := `"external_id": "` + canaryExt + `"`
	badRole := `"role_arn": "` + canaryRole + `", "callers": ["*"], "secrets": ["*"]`
	docs := map[string]string{
		"invalid role":                scopeDoc(ext + `, ` + badRole),
		"invalid external id":         scopeDoc(okBody + `, "external_id": "` + canaryExt + ` !"`),
		"external id as a number":     scopeDoc(okBody + `, "external_id": 12` + canaryExt),
		"external id as a caller":     scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["` + canaryExt + `"], "secrets": ["*"]`),
		"external id as a secret":     scopeDoc(`"role_arn": "` + tenantRole + `", "callers": ["*"], "secrets": ["` + canaryExt + `"]`),
		"external id as a member":     scopeDoc(okBody + `, "` + canaryExt + `": 1`),
		"external id as a name":       `{"` + canaryExt + ` ": {` + okBody + `}}`,
		"missing callers after it":    scopeDoc(ext + `, "role_arn": "` + tenantRole + `", "secrets": ["*"]`),
		"unknown member after it":     scopeDoc(ext + `, ` + okBody + `, "external-id": "x"`),
		"duplicate after it":          scopeDoc(ext + `, ` + okBody + `, ` + ext),
		"control character in it":     scopeDoc(okBody + `, "external_id": "` + canaryExt + "\x01" + `"`),
		"bad escape in it":            scopeDoc(okBody + `, "external_id": "` + canaryExt + `\q"`),
		"cut short in it":             scopeDoc(okBody + `, "external_id": "` + canaryExt),
		"junk right after it":         scopeDoc(okBody+`, "external_id": "`+canaryExt+`"`) + canaryExt,
		"unquoted":                    `{"s": {"external_id": ` + canaryExt + `}}`,
		"syntax error in a bad role":  scopeDoc(`"role_arn": "` + canaryRole + `" "x"`),
		"trailing data after it":      scopeDoc(ext+`, `+okBody) + ` "` + canaryExt + `"`,
		"a list holding it":           `["` + canaryExt + `", "` + canaryRole + `"]`,
		"invalid role, second scope":  `{"a": {` + okBody + `, ` + ext + `}, "b": {` + badRole + `}}`,
		"invalid UTF-8 after it":      scopeDoc(okBody+`, "external_id": "`+canaryExt+"\xff\"") + "\xff",
		"invalid literal naming it":   scopeDoc(okBody + `, "external_id": t` + canaryExt),
		"number with it as exponent":  scopeDoc(okBody + `, "external_id": 1e` + canaryExt),
		"canary key with bad value":   `{"s": {"role_arn": "` + tenantRole + `", "` + canaryExt + `"}}`,
		"canary after a closed scope": `{"s": {` + okBody + `} ` + canaryExt + `}`,
	}
	for name, doc := range docs {
		for _, source := range []string{"SCOPES", "SCOPES_SECRET_ARN"} {
			_, err := config.ParseScopes([]byte(doc), source)
			if err == nil {
				t.Errorf("%s: no error", name)
				continue
			}
			assertNoCanary(t, name, err.Error())
			if !strings.HasPrefix(err.Error(), source+": ") {
				t.Errorf("%s: %q does not start with %s", name, err, source)
			}
			// encoding/json's own messages quote input characters.
			if strings.Contains(err.Error(), "invalid character") || strings.Contains(err.Error(), "'") {
				t.Errorf("%s: %q passes on encoding/json's message", name, err)
			}
		}
		// The same through Load, where a cold start would print it.
		_, err := config.Load(env(map[string]string{"SCOPES": doc}), testDefaults)
		if err == nil || !strings.Contains(err.Error(), "SCOPES") {
			t.Errorf("%s: Load error %v does not name SCOPES", name, err)
			continue
		}
		assertNoCanary(t, name+" (Load)", err.Error())
	}
}

func assertNoCanary(t *testing.T, name, text string) {
	t.Helper()
	for _, c := range []string{canaryExt, canaryRole, canaryFrag, "9q8w7e", "4r5t"} {
		if strings.Contains(text, c) {
			t.Errorf("%s: %q shows %q", name, text, c)
		}
	}
}

// A Scope, a *Scope, Scopes and a Config holding them never show the
// external id, whatever the fmt verb or log format.
func TestScopeHidesExternalID(t *testing.T) {
	t.Parallel()
	doc := `{"s": {` + okBody + `, "external_id": "` + canaryExt + `"}, "t": {` + okBody + `}}`
	ss, err := config.ParseScopes([]byte(doc), "SCOPES")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ss.Get("s")
	if s.ExternalID() != canaryExt {
		t.Fatalf("ExternalID = %q", s.ExternalID())
	}
	cfg, err := config.Load(env(map[string]string{"SCOPES": doc}), testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	// A struct of another package holding a scope in unexported fields:
	// fmt prints those field by field without calling their methods.
	type holder struct {
		scope *config.Scope
		value config.Scope
	}
	values := map[string]any{"Scope": *s, "*Scope": s, "Scopes": ss, "Config": cfg, "*Config": &cfg,
		"[]*Scope": []*config.Scope{s}, "map": map[string]config.Scope{"s": *s},
		"holder": holder{s, *s}, "*holder": &holder{s, *s}}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
			text := fmt.Sprintf(verb, v)
			if strings.Contains(text, canaryExt) || strings.Contains(text, fmt.Sprintf("%x", canaryExt)) {
				t.Errorf("Sprintf(%s, %s) = %s", verb, name, text)
			}
		}
		if text := fmt.Sprint(v) + fmt.Sprintln(v); strings.Contains(text, canaryExt) {
			t.Errorf("Sprint(%s) = %s", name, text)
		}
		for _, logger := range []func(*bytes.Buffer) *slog.Logger{
			func(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) },
			func(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) },
		} {
			var buf bytes.Buffer
			logger(&buf).Info("scopes", "value", v, slog.Any("any", v), slog.Group("g", "v", v))
			if strings.Contains(buf.String(), canaryExt) {
				t.Errorf("slog of %s: %s", name, buf.String())
			}
		}
		if b, err := json.Marshal(v); err == nil && bytes.Contains(b, []byte(canaryExt)) {
			t.Errorf("json.Marshal(%s) = %s", name, b)
		}
	}

	// What is shown is still useful: the name, the role and that an
	// external id is set.
	for _, text := range []string{fmt.Sprint(s), fmt.Sprintf("%#v", s), fmt.Sprint(ss)} {
		if !strings.Contains(text, "s") || !strings.Contains(text, tenantRole) || !strings.Contains(text, "[redacted]") {
			t.Errorf("%q lacks the name, the role or [redacted]", text)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("scope", "scope", s)
	var line struct {
		Scope struct {
			Name       string   `json:"name"`
			RoleARN    string   `json:"role_arn"`
			ExternalID string   `json:"external_id"`
			Callers    []string `json:"callers"`
		} `json:"scope"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.Scope.Name != "s" || line.Scope.RoleARN != tenantRole || line.Scope.ExternalID != "[redacted]" || len(line.Scope.Callers) != 1 {
		t.Errorf("log line %s", buf.String())
	}
	if tt, _ := ss.Get("t"); !strings.Contains(fmt.Sprint(tt), "external id none") {
		t.Errorf("a scope without an external id prints %v", tt)
	}
}
