package api_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

var update = flag.Bool("update", false, "rewrite testdata/summary/*.golden")

// varying are the members of a summary line that change from run to run:
// the time of the line and of its metrics, and the durations.
var varying = regexp.MustCompile(`"(timestamp|Timestamp|duration_ms|Duration)":("[^"]*"|[0-9.e+-]+)`)

// The summary line is what dashboards, alarms and log queries read: it is
// pinned byte for byte (bar the times), for every kind of request, in
// testdata/summary/. Run with -update only for a change meant to
// reach every reader of the logs.
func TestSummaryLineGolden(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("é", 200)
	stats := secrets.Stats{Hits: 2, Misses: 1, Stale: 1, Calls: 1, Throttles: 3, Forced: 1}
	for _, tc := range []struct {
		name  string
		store store
		event []byte
		opts  []api.Option
		// scoped resolves with the scopes of scopesDoc.
		scoped bool
	}{
		{"resolved over the HTTP API", store{stats: stats}, httpEvent("POST", "/v1/resolve", reqBody, false), nil, false},
		{"dry run, direct", store{}, []byte(`{"connection":{"a":"` + mask + `"},"dry_run":true}`), nil, false},
		{"throttled mask over the REST API", store{err: &secrets.Error{Code: answer.Throttled, ARN: arn}}, restEvent("POST", "/v1/resolve", reqBody), nil, false},
		{"invalid request", store{}, []byte(`{"connection":`), nil, false},
		{"no route, path cut", store{}, httpEvent("GET", long, "", false), nil, false},
		{"caller cut", store{}, bytes.ReplaceAll(httpEvent("POST", "/v1/resolve", reqBody, false), []byte(caller), []byte(caller+strings.Repeat("/x", 300))), nil, false},
		{"method not allowed", store{}, restEvent("GET", "/v1/resolve", ""), nil, false},
		{"panic", store{panic: true}, []byte(reqBody), nil, false},
		{"no metrics", store{}, []byte(reqBody), []api.Option{api.WithMetricsNamespace("")}, false},
		{"other namespace", store{}, []byte(reqBody), []api.Option{api.WithMetricsNamespace("team-a")}, false},
		{"scoped over the HTTP API", store{stats: stats}, httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false), nil, true},
		{"scoped mask failed", store{err: &secrets.Error{Code: answer.Throttled, ARN: arn}}, httpEvent("POST", "/v1/resolve", scopedBody("tenant"), false), nil, true},
		{"scope not allowed", store{}, httpEvent("POST", "/v1/resolve", scopedBody("tenant-z"), false), nil, true},
		{"scope unavailable", store{}, httpEvent("POST", "/v1/resolve", scopedBody("denied"), false), nil, true},
	} {
		var logs bytes.Buffer
		l := slog.New(telemetry.NewLogHandler(&logs, slog.LevelInfo, ""))
		r := resolve.New(tc.store)
		if tc.scoped {
			r = scopedResolver(t, tc.store, nil)
		}
		h := api.New(r, append([]api.Option{api.WithLogger(l)}, tc.opts...)...)
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
		if _, err := h.Invoke(ctx, tc.event); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		got.WriteString("# " + tc.name + "\n")
		for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
			if strings.Contains(line, `"message":"request"`) {
				got.WriteString(varying.ReplaceAllString(line, `"$1":"…"`) + "\n")
			}
		}
		checkGolden(t, tc.name, got.String())
	}
}

// checkGolden compares got with testdata/summary/<name>.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "summary", strings.ReplaceAll(name, " ", "_")+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s: summary line changed:\n got %s\nwant %s", name, got, want)
	}
}
