package api_test

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/maskresolver/maskresolver/internal/api"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

// BenchmarkInvoke is the handler's own share of a warm invocation of a
// 1 KB HTTP API event (secrets served from memory, the summary line
// written to a discarding writer): event decoding, routing, resolving,
// the summary and the response envelope.
func BenchmarkInvoke(b *testing.B) {
	conn := `{"host":"jira.example.com","client_secret":"` + mask + `","note":"` + strings.Repeat("x", 800) + `"}`
	event := httpEvent("POST", "/v1/resolve", `{"connection":`+conn+`}`, false)
	benchInvoke(b, event)
}

// BenchmarkInvokeLarge is the same for a 393 KB event of 1,000 masks.
func BenchmarkInvokeLarge(b *testing.B) {
	var items []string
	for i := range 1000 {
		items = append(items, `{"id":`+strconv.Itoa(i)+`,"name":"connection item with some ordinary text","enabled":true,"tags":["alpha","beta"],"url":"https://api.example.com/v2/items/`+strconv.Itoa(i)+`?expand=true","auth":"Bearer `+mask+`"}`)
	}
	for len(strings.Join(items, ",")) < 393<<10 {
		items = append(items, `{"filler":"`+strings.Repeat("y", 200)+`"}`)
	}
	event := httpEvent("POST", "/v1/resolve", `{"connection":{"items":[`+strings.Join(items, ",")+`]}}`, false)
	benchInvoke(b, event)
}

// benchInvoke times the handler on event, its summary line discarded.
func benchInvoke(b *testing.B, event []byte) {
	h := api.New(resolve.New(store{}), api.WithLogger(slog.New(telemetry.NewLogHandler(io.Discard, slog.LevelInfo, ""))))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	b.ReportAllocs()
	b.SetBytes(int64(len(event)))
	for b.Loop() {
		if _, err := h.Invoke(ctx, event); err != nil {
			b.Fatal(err)
		}
	}
}
