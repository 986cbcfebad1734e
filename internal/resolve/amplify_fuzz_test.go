package resolve_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/maskresolver/maskresolver/internal/resolve"
	"github.com/maskresolver/maskresolver/internal/secrets"
)

// fuzzBudget is the MAX_RESPONSE_BYTES of FuzzAmplification: small, so
// that amplification shows within the fuzzer's input sizes.
const fuzzBudget = 16 << 10

// FuzzAmplification looks for a request whose answer, or whose work,
// costs more than its size allows: whatever the connection and the
// secret's value, an accepted answer stays within MAX_RESPONSE_BYTES, and
// the bytes allocated to resolve it stay within a fixed multiple of the
// request, the secret and the budget. Before the budget, one long member
// name holding many masks made an answer (and allocations) of size
// masks × name.
func FuzzAmplification(f *testing.F) {
	arn := jiraARN
	mk := func(key string) string { return "{{workato:sm:" + key + ":" + arn + "}}" }
	f.Add(`{"`+strings.Repeat("/", 2000)+`":"`+strings.Repeat("{{workato:sm:}", 200)+`"}`, "v", false)
	f.Add(`{"a":"`+strings.Repeat(mk("k"), 100)+`"}`, strings.Repeat("<&>", 300), false)
	f.Add(`["`+mk("n.k")+`","`+mk("k")+`","`+mk("missing")+`"]`, "value", true)
	f.Add(`{"x":["`+strings.Repeat(`\"`, 500)+mk("k")+`"]}`, `"\`, false)
	f.Fuzz(func(t *testing.T, conn, value string, dryRun bool) {
		secret, _ := json.Marshal(map[string]any{"k": value, "n": map[string]string{"k": value}})
		st := newMemStore()
		st.secrets[arn] = secrets.NewSecret(arn, string(secret))
		r := resolve.New(st, resolve.WithMaxResponseBytes(fuzzBudget))
		dry := "false"
		if dryRun {
			dry = "true"
		}
		body := []byte(`{"connection":` + conn + `,"dry_run":` + dry + `}`)

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := r.Resolve(t.Context(), body, resolve.Params{})
		var out []byte
		if err == nil {
			out = res.AppendJSON(make([]byte, 0, res.Cap()))
		}
		runtime.ReadMemStats(&after)

		if len(out) > fuzzBudget {
			t.Fatalf("answer of %d bytes, over the %d budget", len(out), fuzzBudget)
		}
		// The scanner's bookkeeping is a few words per byte of the
		// request; the answer and its parts are bounded by the budget;
		// each lookup renders at most the secret.
		bound := 32*len(body) + 8*fuzzBudget + 4*len(secret) + 64<<10
		if alloc := int(after.TotalAlloc - before.TotalAlloc); alloc > bound {
			t.Fatalf("allocated %d bytes for a %d-byte request and a %d-byte secret; bound %d", alloc, len(body), len(secret), bound)
		}
	})
}
