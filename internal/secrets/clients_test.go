package secrets

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/maskresolver/maskresolver/internal/answer"
)

func TestStoreRegions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, dbARN, aws.String(`{"where":"us"}`))
	f.put(t, euARN, aws.String(`{"where":"eu"}`))
	gov := f.put(t, "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:prod/db-GoV001", aws.String(`{"where":"gov"}`))

	res, _ := f.store.Get(t.Context(), []string{euARN}, Freshness{})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if v, _ := res[0].Secret.Lookup("where"); v != "eu" {
		t.Errorf("eu-west-1 secret: where = %q", v)
	}
	if got := f.signedRegions(); !slices.Equal(got, []string{"eu-west-1"}) {
		t.Errorf("signed for %q, want eu-west-1 (the ARN's region, not the config's us-east-1)", got)
	}
	res, _ = f.store.Get(t.Context(), []string{dbARN, gov}, Freshness{})
	for i, want := range []string{"us", "gov"} {
		if res[i].Err != nil {
			t.Fatal(res[i].Err)
		}
		if v, _ := res[i].Secret.Lookup("where"); v != want {
			t.Errorf("result %d: where = %q, want %q", i, v, want)
		}
	}
	got := f.signedRegions()
	slices.Sort(got)
	if want := []string{"eu-west-1", "us-east-1", "us-gov-west-1"}; !slices.Equal(got, want) {
		t.Errorf("signed for %q, want %q", got, want)
	}
}

// Clients are built once per region, on first use, even when many reads
// need a region's client at once.
func TestStoreClientPerRegion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	built := map[string]int{}
	cfg := testConfig(f.url)
	s, err := New(cfg, WithClients(func(region string, _ aws.CredentialsProvider) API {
		mu.Lock()
		built[region]++
		mu.Unlock()
		return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.Region = region })
	}))
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := range 10 {
		arns = append(arns,
			f.put(t, fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:u%d", i), aws.String("{}")),
			f.put(t, fmt.Sprintf("arn:aws:secretsmanager:eu-west-1:123456789012:secret:e%d", i), aws.String("{}")))
	}
	res, _ := s.Get(t.Context(), arns, Freshness{})
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// LoadOrStore may build a spare client in a race, but only one is kept
	// and used; what matters is that a warm Get builds none.
	before := snapshot(built, &mu)
	if _, st := s.Get(t.Context(), arns, Freshness{}); st.Hits != len(arns) {
		t.Errorf("second Get: Stats = %+v, want all hits", st)
	}
	f.clock.Add(time.Hour)
	s.Get(t.Context(), arns, Freshness{})
	if after := snapshot(built, &mu); after["us-east-1"] != before["us-east-1"] || after["eu-west-1"] != before["eu-west-1"] {
		t.Errorf("clients built after warm-up: before %v, after %v", before, after)
	}
	if before["us-east-1"] == 0 || before["eu-west-1"] == 0 || len(before) != 2 {
		t.Errorf("clients built: %v, want us-east-1 and eu-west-1", before)
	}
}

func snapshot(m map[string]int, mu *sync.Mutex) map[string]int {
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(m)
}

// Every region a request names costs a client; the store keeps at most
// maxClients of them, however many distinct regions requests name.
func TestClientsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	letters := "abcdefghijklmnopqrstuvwxyz"
	var arns []string
	for i := range 3 * maxClients {
		region := "zz-" + string(letters[i%26]) + string(letters[i/26%26]) + "-1"
		arns = append(arns, "arn:aws:secretsmanager:"+region+":123456789012:secret:made-up-AbCdEf")
	}
	for chunk := range slices.Chunk(arns, 20) {
		res, _ := f.store.Get(t.Context(), chunk, Freshness{})
		for _, r := range res {
			if r.Err == nil || r.Err.Code != answer.SecretNotFound {
				t.Fatalf("%+v, want SecretNotFound", r)
			}
		}
	}
	if n := f.store.clients.Len(); n > maxClients {
		t.Errorf("%d clients kept for %d regions, want at most %d", n, len(arns), maxClients)
	}
}
