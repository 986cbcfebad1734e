package answer_test

import (
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	for c, want := range map[answer.Code]int{
		answer.InvalidRequest:       400,
		answer.PayloadTooLarge:      413,
		answer.KeyNotFound:          422,
		answer.MaskResolutionFailed: 422,
		answer.UpstreamError:        502,
		answer.Throttled:            503,
		answer.MethodNotAllowed:     405,
		"NoSuchCode":                500,
	} {
		if got := answer.Status(c); got != want {
			t.Errorf("Status(%s) = %d, want %d", c, got, want)
		}
	}
}

// The highest status of the masks' codes wins: a 5xx outranks a 4xx.
func TestWorst(t *testing.T) {
	t.Parallel()
	if got := answer.Worst([]answer.Code{answer.KeyNotFound, answer.UpstreamError, answer.SecretNotFound}); got != 502 {
		t.Errorf("Worst = %d, want 502", got)
	}
	if got := answer.Worst(nil); got != 0 {
		t.Errorf("Worst(nil) = %d, want 0", got)
	}
}

// Each code has one row, and every row a status and a level.
func TestTableRows(t *testing.T) {
	t.Parallel()
	seen := map[answer.Code]bool{}
	for _, r := range answer.Codes() {
		if seen[r.Code] {
			t.Errorf("%s has two rows", r.Code)
		}
		seen[r.Code] = true
		if r.Status < 400 || r.Status > 599 || r.Level.String() == "none" {
			t.Errorf("row %+v", r)
		}
	}
}
