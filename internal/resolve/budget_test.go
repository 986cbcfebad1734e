package resolve_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// TestResponseBudget: an answer that would exceed MAX_RESPONSE_BYTES is a
// request-level ResponseTooLarge, decided before any read when the masks'
// entries alone exceed it (each entry repeats its string's path, so a
// small request can ask for a huge list), and before the answer is built
// when the values would.
func TestResponseBudget(t *testing.T) {
	t.Parallel()
	const budget = 64 << 10
	bigARN := "arn:aws:secretsmanager:us-east-1:137149879143:secret:big-member-AbCdEf"
	big := strings.Repeat("v", 6000)
	store := newMemStore()
	store.secrets[bigARN] = secrets.NewSecret(bigARN, `{"k":"`+big+`"}`)

	repeat := func(s string, n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = s
		}
		return strings.Join(parts, " ")
	}
	longName := strings.Repeat("/", 4000) // each "/" is "~1" in the path
	tests := []struct {
		name    string
		conn    string
		refused bool
		reads   int // Get calls expected
	}{
		{"invalid masks under a long member name", `{"` + longName + `":"` + repeat("{{workato:sm:}", 100) + `"}`, true, 0},
		{"valid masks under a long member name", `{"` + longName + `":"` + repeat(m("username", jiraARN), 100) + `"}`, true, 0},
		{"many copies of a large value", `{"a":"` + repeat(m("k", bigARN), 20) + `"}`, true, 1},
		{"large values that fit", `{"a":"` + repeat(m("k", bigARN), 5) + `"}`, false, 1},
		{"a dry run of many copies lists masks, not values", `{"a":"` + repeat(m("k", bigARN), 20) + `"}`, false, 1},
		{"failures listed under a long name", `{"` + strings.Repeat("x", 1475) + `":"` + repeat(m("nope", goneARN), 40) + `"}`, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newMemStore()
			st.secrets[bigARN] = store.secrets[bigARN]
			r := resolve.New(st, resolve.WithMaxResponseBytes(budget), resolve.WithMaxStringBytes(1<<20))
			req := body(tt.conn)
			if strings.HasPrefix(tt.name, "a dry run") {
				req = []byte(`{"connection":` + tt.conn + `,"dry_run":true}`)
			}
			res, err := r.Resolve(t.Context(), req, resolve.Params{})
			var re *resolve.RequestError
			switch {
			case tt.refused && (!errors.As(err, &re) || re.Code != answer.ResponseTooLarge):
				t.Fatalf("got %v, want ResponseTooLarge", err)
			case tt.refused && !strings.Contains(re.Message, "MAX_RESPONSE_BYTES"):
				t.Errorf("message %q does not name the setting", re.Message)
			case !tt.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.refused:
				if n := len(res.AppendJSON(nil)); n > budget {
					t.Errorf("answer of %d bytes, over the %d budget", n, budget)
				}
			}
			if len(st.asked) != tt.reads {
				t.Errorf("%d reads, want %d", len(st.asked), tt.reads)
			}
		})
	}
}
