package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestAmplificationRefused replays the review's amplification requests
// against the built binary: small requests whose answers would have been
// hundreds of megabytes (each entry of masks repeats its string's path;
// each mask inserts its value) are refused with a JSON 422
// ResponseTooLarge, the function stays alive and answers the next
// request, and its peak memory stays far below the function's 256 MB.
func TestAmplificationRefused(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	bigARN := "arn:aws:secretsmanager:us-east-1:" + account + ":secret:big-member"
	full, err := f.sm.Put(smfake.Secret{ARN: bigARN, String: aws.String(`{"k":"` + strings.Repeat("v", 60_000) + `"}`)})
	if err != nil {
		t.Fatal(err)
	}

	// One member name of n "/" (each "~1" in the path) holding masks.
	slashes := func(name, masks int) string {
		return `{"connection":{"` + strings.Repeat("/", name) + `":"` + strings.Repeat("{{workato:sm:}", masks) + `"}}`
	}
	var wide strings.Builder // three such names of 250,000, 1,000 masks in all
	wide.WriteString(`{"connection":{`)
	for i := range 3 {
		if i > 0 {
			wide.WriteString(",")
		}
		fmt.Fprintf(&wide, `"%s%d":"%s"`, strings.Repeat("/", 250_000), i, strings.Repeat("{{workato:sm:}", 333))
	}
	wide.WriteString(`}}`)
	values := `{"connection":{"a":"` + strings.Repeat("{{workato:sm:k:"+full+"}}", 1000) + `"}}`

	for _, tc := range []struct {
		name, body string
		reads      int
	}{
		{"114 KB of invalid masks under one long name (was 6 MB)", slashes(100_000, 1000), 0},
		{"214 KB (was 400 MB)", slashes(200_000, 1000), 0},
		{"765 KB (was out of memory)", wide.String(), 0},
		{"1,000 masks of one 60 KB member (was 60 MB)", values, 1},
	} {
		before := f.sm.SecretReads(full)
		p := f.invoke(t, post(t, tc.body), "")
		var b answer.Body
		if p.StatusCode != 422 || json.Unmarshal([]byte(p.Body), &b) != nil || b.Error == nil || b.Error.Code != "ResponseTooLarge" {
			t.Errorf("%s (%d bytes): %d %.300s", tc.name, len(tc.body), p.StatusCode, p.Body)
		}
		if len(p.Body) > 1024 || strings.Contains(p.Body, "vvvv") {
			t.Errorf("%s: the refusal is %d bytes: %.200s", tc.name, len(p.Body), p.Body)
		}
		if got := f.sm.SecretReads(full) - before; got != tc.reads {
			t.Errorf("%s: %d reads, want %d", tc.name, got, tc.reads)
		}
	}
	if p := f.invoke(t, eventFile(t, "http-resolve.json"), ""); p.StatusCode != 200 {
		t.Errorf("after the refusals: %d %s", p.StatusCode, p.Body)
	}
	if hwm := peakRSS(t, f.pid); hwm > 128<<20 {
		t.Errorf("peak RSS %d MiB, want under 128 MiB (half the function's memory)", hwm>>20)
	} else {
		t.Logf("peak RSS %d MiB", hwm>>20)
	}
}

// TestCheapRefusalsThroughBinary replays the review's cost findings that
// need no secret: made-up ARNs inside the allowlist cost Secrets Manager
// calls only once per CACHE_NOT_FOUND_TTL, and ARNs with huge region
// names are invalid masks that cost no call and no client.
func TestCheapRefusalsThroughBinary(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	var madeUp, longRegions strings.Builder
	madeUp.WriteString(`{"connection":[`)
	longRegions.WriteString(`{"connection":[`)
	for i := range 100 {
		if i > 0 {
			madeUp.WriteString(",")
			longRegions.WriteString(",")
		}
		fmt.Fprintf(&madeUp, `"{{workato:sm:k:arn:aws:secretsmanager:us-east-1:%s:secret:made-up-%03d-AbCdEf}}"`, account, i)
		fmt.Fprintf(&longRegions, `"{{workato:sm:k:arn:aws:secretsmanager:us-%s-%d:%s:secret:x}}"`, strings.Repeat("e", 10_000), i, account)
	}
	madeUp.WriteString(`]}`)
	longRegions.WriteString(`]}`)

	for round := range 3 {
		p := f.invoke(t, post(t, madeUp.String()), "")
		if p.StatusCode != 422 || !strings.Contains(p.Body, `"SecretNotFound"`) {
			t.Fatalf("made-up ARNs, round %d: %d %.300s", round, p.StatusCode, p.Body)
		}
	}
	if n := f.sm.Calls(""); n != 5 {
		t.Errorf("3 requests of 100 made-up ARNs cost %d calls, want 5 (the first request's batches)", n)
	}

	f.sm.ResetCalls()
	for range 10 {
		p := f.invoke(t, post(t, longRegions.String()), "")
		if p.StatusCode != 422 || !strings.Contains(p.Body, `"InvalidMask"`) || !strings.Contains(p.Body, "is not a region") {
			t.Fatalf("10 KB region names: %d %.300s", p.StatusCode, p.Body)
		}
	}
	if n := f.sm.Calls(""); n != 0 {
		t.Errorf("invalid regions cost %d calls, want 0", n)
	}
}

// TestDeepSecretLookupsThroughBinary replays the review's dotted-key
// finding: a 6 KB secret nested 1,001 deep and 501 masks whose keys walk
// into it took 22.5 s of CPU, past any deadline. Now the nesting is
// indexed once, so a 31-dot key resolves at once, and a 1,000-dot key,
// beyond the 32-segment cap, is a quick KeyNotFound.
func TestDeepSecretLookupsThroughBinary(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	const depth = 1001
	deep := strings.Repeat(`{"a":`, depth) + `"bottom"` + strings.Repeat("}", depth)
	full, err := f.sm.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + account + ":secret:deep", String: aws.String(deep)})
	if err != nil {
		t.Fatal(err)
	}
	request := func(dots int) []byte {
		key := "a" + strings.Repeat(".a", dots)
		masks := make([]string, 501)
		for i := range masks {
			masks[i] = `"{{workato:sm:` + key + `:` + full + `}}"`
		}
		return post(t, `{"connection":[`+strings.Join(masks, ",")+`]}`)
	}
	for _, tc := range []struct {
		dots   int
		status int
		want   string
	}{
		{31, 200, `{\"a\":`},
		{1000, 422, `"KeyNotFound"`},
	} {
		start := time.Now()
		p := f.invoke(t, request(tc.dots), "")
		if took := time.Since(start); p.StatusCode != tc.status || !strings.Contains(p.Body, tc.want) || took > 5*time.Second {
			t.Errorf("501 masks of a %d-dot key: %d after %v: %.200s", tc.dots, p.StatusCode, took, p.Body)
		}
	}
}

// TestLargestAnswerMemory sends about the largest request the defaults
// accept with about the largest answer (a 1 MB body whose masks make a
// 6 MB answer) and bounds the function's peak memory by a stated multiple
// of MAX_BODY_BYTES + MAX_RESPONSE_BYTES above its idle size: the event,
// its body, the answer, the envelope and their copies.
func TestLargestAnswerMemory(t *testing.T) {
	t.Parallel()
	f := startTraced(t)
	full, err := f.sm.Put(smfake.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + account + ":secret:five-kb", String: aws.String(`{"k":"` + strings.Repeat("v", 5000) + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if p := f.invoke(t, eventFile(t, "http-resolve.json"), ""); p.StatusCode != 200 {
		t.Fatalf("warm-up: %d", p.StatusCode)
	}
	idle := peakRSS(t, f.pid)
	masks := make([]string, 1000)
	for i := range masks {
		masks[i] = `"{{workato:sm:k:` + full + `}}"`
	}
	pad := make([]string, 4) // MAX_STRING_BYTES is 256 KiB
	for i := range pad {
		pad[i] = `"` + strings.Repeat("p", 225_000) + `"`
	}
	body := `{"connection":{"pad":[` + strings.Join(pad, ",") + `],"m":[` + strings.Join(masks, ",") + `]}}`
	p := f.invoke(t, post(t, body), "")
	if p.StatusCode != 200 || len(p.Body) < 5_900_000 {
		t.Fatalf("%d, %d bytes: %.200s", p.StatusCode, len(p.Body), p.Body)
	}
	const maxBody, maxAnswer = 1 << 20, 6<<20 - 4<<10
	peak := peakRSS(t, f.pid)
	t.Logf("request %d bytes, answer %d bytes; peak RSS %d MiB, idle %d MiB: %.1f × (MAX_BODY_BYTES + MAX_RESPONSE_BYTES) above idle",
		len(body), len(p.Body), peak>>20, idle>>20, float64(peak-idle)/float64(maxBody+maxAnswer))
	if peak-idle > 12*(maxBody+maxAnswer) {
		t.Errorf("peak RSS %d MiB above idle, want at most 12 × (MAX_BODY_BYTES + MAX_RESPONSE_BYTES) = %d MiB", (peak-idle)>>20, 12*(maxBody+maxAnswer)>>20)
	}
}

// lambdaPayloadMax is Lambda's limit on a synchronous invocation's event.
const lambdaPayloadMax = 6 << 20

// filled is prefix, then unit repeated, then suffix: about n bytes in all.
func filled(n int, prefix, unit, suffix string) []byte {
	return []byte(prefix + strings.Repeat(unit, (n-len(prefix)-len(suffix))/len(unit)) + suffix)
}

// TestLargeEventsThroughBinary replays the 6 MB direct-invocation
// events (a rawPath of raw 0xff bytes, a REST multiValueHeaders
// cache-control of 2 M empty strings, a userArn of \u0001), two of
// headers, and two events just under the decoder's string bound whose
// path and caller the 404 message and the summary line must cut. Each event goes to a fresh
// execution environment: its answer is in its source's shape, no log line
// passes 8 KB, and its peak memory stays under 64 MiB above idle.
func TestLargeEventsThroughBinary(t *testing.T) {
	t.Parallel()
	const resolve = `"body":"{\"connection\":{\"a\":1}}"`
	for _, tc := range []struct {
		name   string
		event  []byte
		status int
		want   string // in the answer's body
	}{
		{"6 MB rawPath of 0xff", filled(lambdaPayloadMax, `{"version":"2.0","rawPath":"`, "\xff",
			`","requestContext":{"http":{"method":"POST","path":"/v1/resolve"}},`+resolve+`}`),
			400, `"InvalidRequest"`},
		{"6 MB of empty multi-value cache-control", filled(lambdaPayloadMax,
			`{"httpMethod":"POST","path":"/v1/resolve","requestContext":{},`+resolve+`,"multiValueHeaders":{"cache-control":[""`, `,""`, `]}}`),
			400, `"InvalidRequest"`},
		{"6 MB userArn of \\u0001", filled(lambdaPayloadMax,
			`{"version":"2.0","rawPath":"/v1/resolve","requestContext":{"http":{"method":"POST"},"authorizer":{"iam":{"userArn":"`, `\u0001`, `"}}},`+resolve+`}`),
			400, `"InvalidRequest"`},
		// Headers the decoder skips cost no memory, however many; a
		// kept one is kept once, however often it is repeated.
		{"6 MB of a million headers", filled(lambdaPayloadMax,
			`{"version":"2.0","rawPath":"/v1/resolve","requestContext":{"http":{"method":"POST"}},`+resolve+`,"headers":{"a":""`, `,"a":""`, `}}`),
			200, `"connection":{"a":1}`},
		{"6 MB of 60 KB cache-control headers of 0xff", filled(lambdaPayloadMax,
			`{"version":"2.0","rawPath":"/v1/resolve","requestContext":{"http":{"method":"POST"}},`+resolve+`,"headers":{"a":""`,
			`,"cache-control":"`+strings.Repeat("\xff", 60_000)+`"`, `}}`),
			200, `"connection":{"a":1}`},
		{"60 KB rawPath of 0xff", filled(60_000, `{"version":"2.0","rawPath":"`, "\xff",
			`","requestContext":{"http":{"method":"POST"}},`+resolve+`}`),
			404, "bytes in all]"},
		{"60 KB userArn of \\u0001", filled(60_000,
			`{"version":"2.0","rawPath":"/v1/resolve","requestContext":{"http":{"method":"POST"},"authorizer":{"iam":{"userArn":"`, `\u0001`, `"}}},`+resolve+`}`),
			200, `"connection":{"a":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startTraced(t)
			if p := f.invoke(t, eventFile(t, "http-resolve.json"), ""); p.StatusCode != 200 {
				t.Fatalf("warm-up: %d %s", p.StatusCode, p.Body)
			}
			idle := peakRSS(t, f.pid)
			start := time.Now()
			p := f.invoke(t, tc.event, "")
			took := time.Since(start)
			if p.StatusCode != tc.status || !strings.Contains(p.Body, tc.want) || len(p.Body) > 2048 {
				t.Errorf("%d, %d bytes: %.300q; want %d with %s", p.StatusCode, len(p.Body), p.Body, tc.status, tc.want)
			}
			peak := peakRSS(t, f.pid)
			if p := f.invoke(t, eventFile(t, "http-resolve.json"), ""); p.StatusCode != 200 {
				t.Errorf("next request: %d %s", p.StatusCode, p.Body)
			}
			longest := 0
			for line := range strings.SplitSeq(f.logs.String(), "\n") {
				longest = max(longest, len(line))
			}
			t.Logf("%d-byte event answered in %v; idle %d MiB, peak %d MiB; longest log line %d bytes",
				len(tc.event), took.Round(time.Millisecond), idle>>20, peak>>20, longest)
			if longest > 8<<10 {
				t.Errorf("a log line of %d bytes, want at most 8 KB", longest)
			}
			if peak-idle >= 64<<20 {
				t.Errorf("peak RSS %d MiB above idle, want under 64 MiB", (peak-idle)>>20)
			}
		})
	}
}
