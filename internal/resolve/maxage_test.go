package resolve_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// TestMaxAge: the request's max_age member, a non-negative integer of
// seconds, and the Cache-Control header's max-age reach the store as the
// smaller of the two; any other value is 400 InvalidRequest before any
// read (docs/api.md, "Freshness").
func TestMaxAge(t *testing.T) {
	t.Parallel()
	conn := `{"a":"` + m("username", jiraARN) + `"}`
	bounded := func(d time.Duration) secrets.Freshness { return secrets.Freshness{MaxAge: d, Bounded: true} }
	sec := func(n int) *time.Duration { d := time.Duration(n) * time.Second; return &d }
	tests := []struct {
		name   string
		extra  string         // members after connection
		header *time.Duration // Cache-Control max-age
		want   secrets.Freshness
		bad    string // InvalidRequest message part
	}{
		{name: "absent", want: secrets.Freshness{}},
		{name: "zero", extra: `,"max_age":0`, want: bounded(0)},
		{name: "seconds", extra: `, "max_age" : 300 `, want: bounded(300 * time.Second)},
		{name: "before connection", extra: `,"dry_run":true,"max_age":7`, want: bounded(7 * time.Second)},
		{name: "huge is capped", extra: `,"max_age":99999999999999999999999`, want: bounded((1 << 31) * time.Second)},
		{name: "header only", header: sec(0), want: bounded(0)},
		{name: "header smaller wins", extra: `,"max_age":60`, header: sec(5), want: bounded(5 * time.Second)},
		{name: "member smaller wins", extra: `,"max_age":5`, header: sec(60), want: bounded(5 * time.Second)},
		{name: "negative", extra: `,"max_age":-1`, bad: "max_age"},
		{name: "fraction", extra: `,"max_age":1.5`, bad: "max_age"},
		{name: "exponent", extra: `,"max_age":1e3`, bad: "max_age"},
		{name: "leading zero", extra: `,"max_age":01`, bad: "max_age"},
		{name: "string", extra: `,"max_age":"0"`, bad: "max_age"},
		{name: "null", extra: `,"max_age":null`, bad: "max_age"},
		{name: "boolean", extra: `,"max_age":true`, bad: "max_age"},
		{name: "object", extra: `,"max_age":{}`, bad: "max_age"},
		{name: "duplicate", extra: `,"max_age":1,"max_age":2`, bad: "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newMemStore()
			p := resolve.Params{}
			if tt.header != nil {
				p.MaxAge, p.MaxAgeSet = *tt.header, true
			}
			res, err := resolve.New(st).Resolve(t.Context(), []byte(`{"connection":`+conn+tt.extra+`}`), p)
			if tt.bad != "" {
				var re *resolve.RequestError
				if !errors.As(err, &re) || re.Code != answer.InvalidRequest || !strings.Contains(re.Message, tt.bad) {
					t.Fatalf("got %v, want InvalidRequest about %s", err, tt.bad)
				}
				if len(st.asked) != 0 {
					t.Errorf("read before refusing")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st.fresh) != 1 || st.fresh[0] != tt.want || res.MaxAge != tt.want {
				t.Errorf("store asked with %+v (result %+v), want %+v", st.fresh, res.MaxAge, tt.want)
			}
		})
	}
}

// Resolved and verified entries carry the VersionId of the value used;
// failed ones carry none.
func TestVersionID(t *testing.T) {
	t.Parallel()
	st := newMemStore()
	withVersion := secrets.NewSecret(jiraARN, `{"username":"svc-jira"}`)
	withVersion.VersionID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
	st.secrets[jiraARN] = withVersion
	r := resolve.New(st)
	type entry struct {
		Status    string  `json:"status"`
		Code      string  `json:"code"`
		VersionID *string `json:"version_id"`
	}
	decode := func(res *resolve.Result) []entry {
		var b struct {
			Masks []entry
			Error struct{ Masks []entry }
		}
		if err := json.Unmarshal(res.AppendJSON(nil), &b); err != nil {
			t.Fatal(err)
		}
		return append(b.Masks, b.Error.Masks...)
	}
	for _, dry := range []string{"false", "true"} {
		res, err := r.Resolve(t.Context(), []byte(`{"connection":["`+m("username", jiraARN)+`"],"dry_run":`+dry+`}`), resolve.Params{})
		if err != nil {
			t.Fatal(err)
		}
		if e := decode(res); len(e) != 1 || e[0].VersionID == nil || *e[0].VersionID != withVersion.VersionID {
			t.Errorf("dry_run %s: %+v, want the version id", dry, e)
		}
	}
	res, err := r.Resolve(t.Context(), []byte(`{"connection":["`+m("username", jiraARN)+`","`+m("nope", jiraARN)+`"]}`), resolve.Params{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range decode(res) {
		if e.VersionID != nil {
			t.Errorf("failed entry %+v carries a version id", e)
		}
	}
}
