package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/resolve"
)

// BenchmarkInvoke is the handler's own share of a warm invocation of a
// 1 KB HTTP API event (secrets served from memory, the summary line
// written to a discarding writer): event decoding, routing, resolving,
// the summary and the response envelope.
func BenchmarkInvoke(b *testing.B) {
	conn := `{"host":"jira.example.com","client_secret":"` + mask + `","note":"` + strings.Repeat("x", 800) + `"}`
	event := httpEvent("POST", "/v1/resolve", `{"connection":`+conn+`}`, false)
	h := api.New(resolve.New(store{}), api.WithLogger(slog.New(api.NewLogHandler(io.Discard, slog.LevelInfo, ""))))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		if _, err := h.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}
