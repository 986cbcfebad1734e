package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/telemetry"
)

func TestEcho(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("a", telemetry.MaxEcho)
	if got := telemetry.Echo(short); got != short {
		t.Errorf("a string of %d bytes was cut: %q", len(short), got)
	}
	// A three-byte character straddling the bound is dropped whole.
	s := strings.Repeat("a", telemetry.MaxEcho-1) + "€" + strings.Repeat("b", 1000)
	got := telemetry.Echo(s)
	want := strings.Repeat("a", telemetry.MaxEcho-1) + "…[cut: 1258 bytes in all]"
	if got != want || !utf8.ValidString(got) {
		t.Errorf("Echo(%d bytes) = %q, want %q", len(s), got, want)
	}
}

// The DEBUG line of a failed mask repeats its path, key, ARN and reason
// cut, so that a request's longest strings (MAX_STRING_BYTES) cannot make
// a log line longer than 8 KB.
func TestMaskFailuresLineBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 200_000)
	var buf bytes.Buffer
	r := telemetry.NewRecorder(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "")
	r.MaskFailures(context.Background(), []answer.Mask{{Path: "/connection/" + long, Key: long,
		ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + long, Code: answer.KeyNotFound,
		Message: "the secret has no key \"" + long + "\""}})
	if buf.Len() == 0 || buf.Len() > 8<<10 {
		t.Errorf("the mask-failed line is %d bytes, want 1 to 8 KB", buf.Len())
	}
}
