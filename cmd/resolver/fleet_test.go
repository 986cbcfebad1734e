package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/maskresolver/maskresolver/internal/lambdatest"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// TestFleetColdStormThroughBinary is the fleet's cold storm
// (docs/operations.md, "Fleet and quotas") in small: several execution
// environments (each the built bootstrap in its own process, with its own
// cache) answer their first request at once, each naming 25 cold secrets,
// against one double whose quotas are scaled to the fleet (E environments
// at E/1,000 of AWS's quotas stand for 1,000 at the real ones). The quotas
// cannot serve the demand at once, so reads are throttled — and every
// request still answers 200, with the right values, before its deadline,
// the throttles it absorbed counted in its summary line, its metrics and
// its trace.
func TestFleetColdStormThroughBinary(t *testing.T) {
	t.Parallel()
	const (
		envs    = 5
		secrets = 25
	)
	sm := smfake.New(smfake.WithAccount(account), smfake.WithQuotas(smfake.AccountQuotas(envs/1000.0)))
	arns := make([]string, secrets)
	for i := range arns {
		v := fmt.Sprintf(`{"password":"storm-%02d"}`, i)
		full, err := sm.Put(smfake.Secret{ARN: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:storm-%02d", account, i), String: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		arns[i] = full
	}
	smURL, _ := smfake.Serve(t, sm)

	conn := map[string]string{}
	for i, arn := range arns {
		conn[fmt.Sprintf("s%02d", i)] = "{{workato:sm:password:" + arn + "}}"
	}
	body, _ := json.Marshal(map[string]any{"connection": conn})
	event := post(t, string(body))

	fleet := make([]*tracedFunction, envs)
	for i := range fleet {
		fleet[i] = startTracedOn(t, sm, smURL, "METRICS_NAMESPACE=maskresolver")
	}
	const timeout = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*timeout)
	defer cancel()
	answers := make([]lambdatest.Answer, envs)
	errs := make([]error, envs)
	took := make([]time.Duration, envs)
	var wg sync.WaitGroup
	for i, f := range fleet {
		wg.Go(func() {
			start := time.Now()
			answers[i], errs[i] = f.api.Invoke(ctx, lambdatest.Invocation{Payload: event, Timeout: timeout,
				TraceID: fmt.Sprintf("Root=1-6929d590-%024x;Parent=53995c3f42cd8ad8;Sampled=1", i)})
			took[i] = time.Since(start)
		})
	}
	wg.Wait()

	for i, a := range answers {
		if errs[i] != nil {
			t.Fatalf("environment %d: %v", i, errs[i])
		}
		var p proxyResponse
		if err := json.Unmarshal(a.Body, &p); err != nil || p.StatusCode != 200 {
			t.Errorf("environment %d answered %s", i, a.Body)
			continue
		}
		for k := range secrets {
			if !strings.Contains(p.Body, fmt.Sprintf(`"s%02d":"storm-%02d"`, k, k)) {
				t.Errorf("environment %d: s%02d is not storm-%02d", i, k, k)
			}
		}
		if took[i] >= timeout {
			t.Errorf("environment %d answered after %v, past its %v deadline", i, took[i], timeout)
		}
	}
	if sm.Throttled("") == 0 {
		t.Fatalf("the quotas throttled nothing (%d calls): the storm did not test them", sm.Calls(""))
	}

	// Each environment's summary line counts what its retries absorbed;
	// together they account for every throttled call but the batches'
	// fallbacks and the reads' retries of the same throttle.
	absorbed := 0
	for i, f := range fleet {
		line := summaryLine(t, f)
		n, ok := line["throttles_absorbed"].(float64)
		if !ok || line["ThrottlesAbsorbed"] != n {
			t.Errorf("environment %d: throttles_absorbed %v, EMF ThrottlesAbsorbed %v", i, line["throttles_absorbed"], line["ThrottlesAbsorbed"])
		}
		checkEMF(t, line, "maskresolver")
		absorbed += int(n)
		root := fmt.Sprintf("1-6929d590-%024x", i)
		found, _ := f.collect(t, root, "resolve", "fetch")
		if found["resolve"].Annotations["throttles_absorbed"] != n || found["fetch"].Annotations["throttles_absorbed"] != n {
			t.Errorf("environment %d: annotations resolve %v, fetch %v; want throttles_absorbed %v",
				i, found["resolve"].Annotations, found["fetch"].Annotations, n)
		}
	}
	if absorbed != sm.Throttled("") {
		t.Errorf("summary lines count %d absorbed throttles; the double throttled %d calls", absorbed, sm.Throttled(""))
	}
	t.Logf("%d environments × %d cold secrets: %d calls (%d batch, %d single), %d throttled and absorbed",
		envs, secrets, sm.Calls(""), sm.Calls("BatchGetSecretValue"), sm.Calls("GetSecretValue"), sm.Throttled(""))
}
