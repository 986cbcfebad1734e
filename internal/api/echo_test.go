package api_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/api"
)

// The 404 and 405 messages and the summary line repeat at most a few
// hundred bytes of an event's path, method and caller, cut on a character
// boundary and marked; access is still decided on the whole caller.
func TestLongRouteAndCallerEchoedCut(t *testing.T) {
	t.Parallel()
	longPath := "/" + strings.Repeat("é", 20_000)
	longCaller := caller + "/" + strings.Repeat("\x01", 10_000)
	var seen []string
	access := func(c, _ string) bool { seen = append(seen, c); return true }
	withCaller := func(ev []byte, c string) []byte {
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		m["requestContext"].(map[string]any)["authorizer"].(map[string]any)["iam"].(map[string]any)["userArn"] = c
		b, _ := json.Marshal(m)
		return b
	}
	for _, tt := range []struct {
		name   string
		event  []byte
		status int
		cut    string // the field of the summary line that is cut
	}{
		{"long path", httpEvent("POST", longPath, reqBody, false), 404, "route"},
		{"long method", httpEvent(strings.Repeat("G", 5000), "/v1/resolve", reqBody, false), 405, "route"},
		{"long caller", withCaller(httpEvent("POST", "/v1/resolve", reqBody, false), longCaller), 200, "caller"},
	} {
		var logs bytes.Buffer
		h := handler(store{}, &logs, api.WithCallerRules(access))
		a := invoke(t, h, tt.event)
		if a.StatusCode != tt.status {
			t.Errorf("%s: %d %.300s", tt.name, a.StatusCode, a.Body)
		}
		if tt.status != 200 && (len(a.Body) > 1024 || !strings.Contains(a.Body, " bytes in all]")) {
			t.Errorf("%s: the message is %d bytes, want it cut: %.300s", tt.name, len(a.Body), a.Body)
		}
		line := summaryLine(t, logs.String())
		if s, _ := line[tt.cut].(string); len(s) > 300 || !strings.Contains(s, "…[cut: ") {
			t.Errorf("%s: the summary line's %s is %d bytes, want it cut: %.300q", tt.name, tt.cut, len(s), s)
		}
		if n := logs.Len(); n > 8<<10 {
			t.Errorf("%s: %d bytes of logs, want under 8 KB", tt.name, n)
		}
	}
	for _, c := range seen {
		if c != longCaller {
			t.Errorf("access saw a caller of %d bytes, want the whole caller's %d", len(c), len(longCaller))
		}
	}
	if len(seen) == 0 {
		t.Error("access was never asked")
	}
}
