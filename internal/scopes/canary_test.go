package scopes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/scopes"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// The external id reaches STS and nothing else: no error of any class, no
// log line, no printed or logged form of a Registry, Handle or Error.
func TestExternalIDNowhere(t *testing.T) {
	t.Parallel()
	f := start(t)
	ss := map[string]scope{
		"ok":        {role: roleA, ext: extID},
		"refused":   {role: roleA, ext: extID + "-wrong"},
		"throttled": {role: "arn:aws:iam::210987654321:role/throttled", ext: extID},
		"slow":      {role: "arn:aws:iam::210987654321:role/slow", ext: extID},
	}
	for _, role := range []string{ss["throttled"].role, ss["slow"].role} {
		if err := f.sm.AddRole(role, smfake.RequireExternalID(extID)); err != nil {
			t.Fatal(err)
		}
	}
	f.sm.Inject(smfake.Fault{RoleARN: ss["throttled"].role, Code: "Throttling"})
	f.sm.Inject(smfake.Fault{RoleARN: ss["slow"].role, Latency: time.Second, Times: 1})
	f.putDoc(t, doc(ss))
	r := f.registry(t, scopes.WithScopesSecret(scopesARN, f.secrets(nil)))

	// A registry holds the document of SCOPES among its options.
	inline := f.registry(t, scopes.WithScopes(parse(t, map[string]scope{"ok": ss["ok"]})))
	values := []any{r, inline}
	for _, name := range []string{"ok", "refused", "refused", "throttled", "slow"} {
		h := open(t, r, name)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		err := h.Ready(ctx)
		cancel()
		if (err == nil) != (name == "ok") {
			t.Errorf("%s: Ready = %v", name, err)
		}
		values = append(values, h, *h)
		if err != nil {
			values = append(values, err)
		}
		_, err = h.Credentials().Retrieve(ctx)
		if err != nil {
			values = append(values, err)
		}
	}
	// A re-read that fails on an invalid document holding the canary.
	f.putDoc(t, `{"ok": {"role_arn": "`+roleA+`", "external_id": "`+extID+`", "callers": ["*"], "secrets": ["*"], "x": 1}}`)
	f.clock.Add(time.Hour)
	open(t, r, "ok")

	for i, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
			text := fmt.Sprintf(verb, v)
			noCanary(t, fmt.Sprintf("Sprintf(%s, %T #%d)", verb, v, i), text)
			if strings.Contains(text, fmt.Sprintf("%x", extID)) {
				t.Errorf("Sprintf(%s, %T) shows the external id in hex", verb, v)
			}
		}
		var buf bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
			slog.New(h).Info("value", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
		}
		noCanary(t, fmt.Sprintf("slog of %T", v), buf.String())
		if b, err := json.Marshal(v); err == nil {
			noCanary(t, fmt.Sprintf("json.Marshal(%T)", v), string(b))
		}
	}
	// What a Handle shows is still of use: the scope and its role.
	var line struct {
		H struct {
			Name    string `json:"name"`
			RoleARN string `json:"role_arn"`
		} `json:"h"`
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("scope", "h", open(t, r, "ok"))
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.H.Name != "ok" || line.H.RoleARN != roleA {
		t.Errorf("a Handle logs as %s", buf.String())
	}
	if s := fmt.Sprint(open(t, r, "ok")); s != `scope "ok" (role `+roleA+`)` {
		t.Errorf("a Handle prints as %s", s)
	}

	log := f.logs.String()
	for _, want := range []string{"sts:AssumeRole failed", "re-read failed"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q: %s", want, log)
		}
	}
	noCanary(t, "the log", log)
	if n := len(f.sm.AssumeRoleCalls()); n < 4 {
		t.Errorf("%d AssumeRole calls: the canary was not sent", n)
	}
	for _, c := range f.sm.AssumeRoleCalls() {
		if c.RoleARN != roleA || c.Issued {
			if !c.ExternalIDIs(extID) {
				t.Errorf("call %+v did not carry the external id", c)
			}
		}
	}
}
