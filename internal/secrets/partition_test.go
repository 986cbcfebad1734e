package secrets

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/answer"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// getter is what the resolver asks of a store (resolve.Store, which
// imports this package): both kinds of partition fit it.
type getter interface {
	Get(ctx context.Context, arns []string, f Freshness) ([]Result, Stats)
}

var (
	_ getter = (*Store)(nil)
	_ getter = (*View)(nil)
)

const (
	roleA = "arn:aws:iam::210987654321:role/tenant-a"
	roleB = "arn:aws:iam::210987654321:role/tenant-b"
	own   = smfake.DefaultPrincipal
)

// reader is a partition of a fixture's store and the principal the double
// sees reading in it.
type reader struct {
	name      string
	v         *View
	principal string
}

// scope adds role to the double and gives the partition of f's store for
// the scope name, keyed as the scope runtime keys it (name and a
// fingerprint), reading with the role's credentials, assumed through the
// double's STS.
func (f *fixture) scope(t testing.TB, name, role string) *View {
	t.Helper()
	if err := f.sm.AddRole(role); err != nil {
		t.Fatal(err)
	}
	creds := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(testConfig(f.url)), role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "maskresolver-" + name }))
	return f.store.Partition(scopeKey(name), creds)
}

// scopeKey is a partition key as the scope runtime makes one.
func scopeKey(name string) string { return name + "#0123456789abcdef" }

// readers gives the function's own partition and two scoped ones, A and B.
func (f *fixture) readers(t testing.TB) []reader {
	return []reader{
		{"own", &f.store.own, own},
		{"A", f.scope(t, "a", roleA), roleA},
		{"B", f.scope(t, "b", roleB), roleB},
	}
}

// getIn reads arn in v and fails the test on an error.
func getIn(t *testing.T, v *View, arn string, fr Freshness) (*Secret, Stats) {
	t.Helper()
	res, st := v.Get(t.Context(), []string{arn}, fr)
	if res[0].Err != nil {
		t.Fatalf("Get(%s): %v", arn, res[0].Err)
	}
	return res[0].Secret, st
}

// A value read with one partition's credentials is served to that
// partition only, in both directions: here the secret is readable by one
// principal, so a value leaking to another would answer where Secrets
// Manager refuses.
func TestPartitionValues(t *testing.T) {
	t.Parallel()
	for reading := range 3 {
		t.Run(fmt.Sprint("readable in ", []string{"own", "A", "B"}[reading]), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rs := f.readers(t)
			if _, err := f.sm.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue), Readers: []string{rs[reading].principal}}); err != nil {
				t.Fatal(err)
			}
			if _, st := getIn(t, rs[reading].v, dbARN, Freshness{}); st != (Stats{Misses: 1, Calls: 1}) {
				t.Fatalf("first read: Stats = %+v, want a miss and a call", st)
			}
			for i, r := range rs {
				if i == reading {
					continue
				}
				res, st := r.v.Get(t.Context(), []string{dbARN}, Freshness{})
				if res[0].Err == nil || res[0].Err.Code != answer.AccessDenied || st.Calls != 1 {
					t.Errorf("partition %s: %+v, %+v; want its own read, denied", r.name, res[0], st)
				}
				if n := f.sm.SecretReadsBy(r.principal, dbARN); n != 1 {
					t.Errorf("partition %s: %d reads by %s, want 1", r.name, n, r.principal)
				}
			}
			// The others' refusals took nothing from the reader's cache.
			if _, st := getIn(t, rs[reading].v, dbARN, Freshness{}); st != (Stats{Hits: 1}) {
				t.Errorf("reader again: Stats = %+v, want a hit", st)
			}
			if n := f.sm.SecretReadsBy(rs[reading].principal, dbARN); n != 1 {
				t.Errorf("%d reads by the reader, want 1", n)
			}
		})
	}
}

// Each partition caches the version it read: a rotation read by one is
// not served to another, nor does it replace another's cached version.
func TestPartitionVersionIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rs := f.readers(t)
	f.put(t, dbARN, aws.String(`{"v":"1"}`))
	first, _ := getIn(t, rs[1].v, dbARN, Freshness{})
	f.put(t, dbARN, aws.String(`{"v":"2"}`))
	for _, r := range []reader{rs[0], rs[2]} {
		sec, st := getIn(t, r.v, dbARN, Freshness{})
		if v, _ := sec.Lookup("v"); v != "2" || sec.VersionID == first.VersionID || st.Calls != 1 {
			t.Errorf("partition %s: v %q version %q (A cached %q), %+v; want its own read of version 2", r.name, v, sec.VersionID, first.VersionID, st)
		}
	}
	if sec, st := getIn(t, rs[1].v, dbARN, Freshness{}); sec != first || st.Hits != 1 {
		t.Errorf("A: version %q, %+v; want its cached version %q", sec.VersionID, st, first.VersionID)
	}
	for _, r := range rs {
		if n := f.sm.SecretReadsBy(r.principal, dbARN); n != 1 {
			t.Errorf("partition %s: %d reads, want 1", r.name, n)
		}
	}
}

// A miss remembered by one partition answers that partition only: the
// others read, and find a secret created meanwhile.
func TestPartitionNotFound(t *testing.T) {
	t.Parallel()
	for missing := range 3 {
		t.Run(fmt.Sprint("missed in ", []string{"own", "A", "B"}[missing]), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithNotFoundTTL(time.Minute))
			rs := f.readers(t)
			res, _ := rs[missing].v.Get(t.Context(), []string{dbARN}, Freshness{})
			if res[0].Err == nil || res[0].Err.Code != answer.SecretNotFound {
				t.Fatalf("before the secret exists: %+v, want SecretNotFound", res[0])
			}
			f.put(t, dbARN, aws.String(dbValue))
			for i, r := range rs {
				res, st := r.v.Get(t.Context(), []string{dbARN}, Freshness{})
				if i == missing {
					if res[0].Err == nil || res[0].Err.Code != answer.SecretNotFound || res[0].Err.ARN != dbARN || st.Calls != 0 {
						t.Errorf("partition %s: %+v, %+v; want SecretNotFound for %s from memory", r.name, res[0], st, dbARN)
					}
					continue
				}
				if res[0].Err != nil || st.Calls != 1 {
					t.Errorf("partition %s: %+v, %+v; want its own read of the new secret", r.name, res[0], st)
				}
			}
		})
	}
}

// A read in flight in one partition is joined by that partition's
// requests only: another partition reads on its own, at once.
func TestPartitionInflight(t *testing.T) {
	t.Parallel()
	for slow := range 3 {
		t.Run(fmt.Sprint("slow in ", []string{"own", "A", "B"}[slow]), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rs := f.readers(t)
			f.put(t, dbARN, aws.String(dbValue))
			const latency = 2 * time.Second
			held := f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Latency: latency, Times: 1})
			done := make(chan Stats, 1)
			go func() {
				_, st := rs[slow].v.Get(context.Background(), []string{dbARN}, Freshness{})
				done <- st
			}()
			for held.Calls("GetSecretValue") == 0 {
				time.Sleep(time.Millisecond)
			}
			start := time.Now()
			for i, r := range rs {
				if i == slow {
					continue
				}
				if _, st := getIn(t, r.v, dbARN, Freshness{}); st.Calls != 1 {
					t.Errorf("partition %s: %+v, want a read of its own", r.name, st)
				}
				if n := f.sm.SecretReadsBy(r.principal, dbARN); n != 1 {
					t.Errorf("partition %s: %d reads, want 1", r.name, n)
				}
			}
			if d := time.Since(start); d >= latency {
				t.Errorf("the other partitions took %v: they waited for the slow read", d)
			}
			if st := <-done; st.Calls != 1 {
				t.Errorf("slow partition: %+v, want the read it led", st)
			}
		})
	}
}

// A forced read that failed answers the forced requests of its partition
// for the refresh interval, and no other partition's.
func TestPartitionFailedForcedRead(t *testing.T) {
	t.Parallel()
	for failing := range 3 {
		t.Run(fmt.Sprint("failed in ", []string{"own", "A", "B"}[failing]), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithRefreshMinInterval(time.Minute))
			rs := f.readers(t)
			f.put(t, dbARN, aws.String(dbValue))
			f.sm.Inject(smfake.Fault{Op: "GetSecretValue", Code: "InternalServiceError", Times: 1})
			res, _ := rs[failing].v.Get(t.Context(), []string{dbARN}, forced)
			if res[0].Err == nil || res[0].Err.Code != answer.UpstreamError {
				t.Fatalf("failing read: %+v, want UpstreamError", res[0])
			}
			for i, r := range rs {
				res, st := r.v.Get(t.Context(), []string{dbARN}, forced)
				if i == failing {
					if res[0].Err == nil || res[0].Err.Code != answer.UpstreamError || res[0].Err.ARN != dbARN || st.Calls != 0 {
						t.Errorf("partition %s: %+v, %+v; want the remembered failure for %s", r.name, res[0], st, dbARN)
					}
					continue
				}
				if res[0].Err != nil || st.Calls != 1 {
					t.Errorf("partition %s: %+v, %+v; want its own read", r.name, res[0], st)
				}
			}
		})
	}
}

// CACHE_MAX_ENTRIES bounds the values of all partitions together, in one
// least-recently-used order.
func TestPartitionSizeBoundShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithMaxEntries(2))
	rs := f.readers(t)
	f.put(t, dbARN, aws.String(dbValue))
	for _, r := range rs {
		if _, st := getIn(t, r.v, dbARN, Freshness{}); st.Calls != 1 {
			t.Errorf("partition %s: %+v, want a read of its own", r.name, st)
		}
	}
	if n := f.store.cache.Len(); n != 2 {
		t.Errorf("%d values cached, want 2 (the bound) for 3 partitions", n)
	}
	if _, st := getIn(t, rs[0].v, dbARN, Freshness{}); st.Calls != 1 {
		t.Errorf("own, least recently used: %+v, want evicted and read again", st)
	}
	if _, st := getIn(t, rs[2].v, dbARN, Freshness{}); st.Hits != 1 {
		t.Errorf("B, most recently used: %+v, want a hit", st)
	}
	if n := f.sm.SecretReadsBy(own, dbARN); n != 2 {
		t.Errorf("%d own reads, want 2", n)
	}
}

// Each partition reads with clients of its own, one per region, built
// with its credentials; the store keeps at most maxClients of them in all.
func TestPartitionClientsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	type built struct {
		region string
		creds  aws.CredentialsProvider
	}
	made := make(chan built, 1000)
	sdk := f.store.opts.newClient
	f.store.opts.newClient = func(region string, creds aws.CredentialsProvider) API {
		made <- built{region, creds}
		return sdk(region, creds)
	}
	views := []*View{&f.store.own}
	for i := range 3 {
		views = append(views, f.store.Partition(fmt.Sprint("p", i), credentials.NewStaticCredentialsProvider(fmt.Sprint("AKIDP", i), "SECRET", "")))
	}
	const regions = maxClients / 2
	for _, v := range views {
		for i := range regions {
			arn := fmt.Sprintf("arn:aws:secretsmanager:zz-%c%c-1:123456789012:secret:made-up-AbCdEf", 'a'+i%26, 'a'+i/26)
			if res, _ := v.Get(t.Context(), []string{arn}, Freshness{}); res[0].Err == nil || res[0].Err.Code != answer.SecretNotFound {
				t.Fatalf("%+v, want SecretNotFound", res[0])
			}
		}
	}
	close(made)
	n, scoped := 0, 0
	for b := range made {
		n++
		if b.creds != nil {
			scoped++
		}
	}
	if want := len(views) * regions; n != want || scoped != want-regions {
		t.Errorf("%d clients built (%d scoped), want one per partition and region: %d (%d)", n, scoped, want, want-regions)
	}
	if n := f.store.clients.Len(); n > maxClients {
		t.Errorf("%d clients kept, want at most %d", n, maxClients)
	}
}

// Two Partition calls with one key are one partition: what the first read
// serves the second.
func TestPartitionSameKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.put(t, dbARN, aws.String(dbValue))
	first := f.scope(t, "a", roleA)
	sec, _ := getIn(t, first, dbARN, Freshness{})
	again := f.store.Partition(scopeKey("a"), nil)
	if got, st := getIn(t, again, dbARN, Freshness{}); got != sec || st.Hits != 1 {
		t.Errorf("same key: %+v, want a hit on the first partition's value", st)
	}
	if changed := f.store.Partition("a#fedcba9876543210", nil); changed == first {
		t.Error("another key gave the same partition")
	}
}

// No partition key, however chosen, puts a secret's key in another
// partition's, nor in the function's own.
func TestPartitionKeysDistinct(t *testing.T) {
	t.Parallel()
	s, err := New(aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ key, id string }{
		{"", dbARN},
		{"a", "b" + dbARN},
		{"ab", dbARN},
		{"1", "\x00a" + dbARN},
		{"1\x00a", dbARN},
		{"10", dbARN},
		{"1", "0" + dbARN},
	}
	seen := map[string]int{dbARN: -1}
	for i, c := range cases {
		k := s.Partition(c.key, nil).key(c.id)
		if j, ok := seen[k]; ok {
			t.Errorf("case %d (%q, %q) has the key of case %d: %q", i, c.key, c.id, j, k)
		}
		seen[k] = i
	}
}

// The function's own partition builds no key: its requests cost what
// they did before partitions.
func TestOwnPartitionKeysFree(t *testing.T) {
	s, err := New(aws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	arns := []string{dbARN, apiARN, euARN}
	if n := testing.AllocsPerRun(100, func() {
		if keys := s.own.keys(arns); &keys[0] != &arns[0] || s.own.key("eu-west-1") != "eu-west-1" {
			t.Fatal("own keys are not the ids themselves")
		}
	}); n != 0 {
		t.Errorf("%v allocations per own lookup, want 0", n)
	}
}

// The store's logs name the secret by its ARN, never by its key in a
// partition, and neither do the errors it answers.
func TestPartitionLogsNameARN(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	f := newFixture(t, WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	key := scopeKey("tenant-a")
	v := f.scope(t, "tenant-a", roleA)
	if _, err := f.sm.Put(smfake.Secret{ARN: dbARN, String: aws.String(dbValue), Readers: []string{own}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, _ := v.Get(t.Context(), []string{dbARN}, forced)
		if res[0].Err == nil || res[0].Err.ARN != dbARN || strings.Contains(res[0].Err.Error(), key) {
			t.Errorf("%+v, want AccessDenied naming %s alone", res[0], dbARN)
		}
	}
	logs := buf.String()
	if !strings.Contains(logs, `"secret_arn":"`+dbARN+`"`) || strings.Contains(logs, key) {
		t.Errorf("logs %s: want secret_arn %s and no partition key", logs, dbARN)
	}
}

// BatchGetSecretValue refused to one partition's credentials, or
// throttled for them, sends that partition's reads singly (for good, or
// for batchPause), and leaves the others' batch reads as they were.
func TestPartitionBatchState(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"AccessDeniedException", "ThrottlingException"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rs := f.readers(t)
			arns := putN(t, f, "us-east-1", 6)
			f.sm.Inject(smfake.Fault{Op: "BatchGetSecretValue", Code: code, Times: 1})
			for _, step := range []struct {
				r             reader
				arns          []string
				batch, single int
			}{
				{rs[1], arns[:3], 1, 3}, // refused or throttled: read singly
				{rs[0], arns[:3], 1, 0},
				{rs[2], arns[:3], 1, 0},
				{rs[1], arns[3:], 0, 3}, // A still reads singly
			} {
				f.sm.ResetCalls()
				res, _ := step.r.v.Get(t.Context(), step.arns, Freshness{})
				for _, x := range res {
					if x.Err != nil {
						t.Fatalf("partition %s: %v", step.r.name, x.Err)
					}
				}
				if b, g := f.sm.Calls("BatchGetSecretValue"), f.sm.Calls("GetSecretValue"); b != step.batch || g != step.single {
					t.Errorf("partition %s: %d batch + %d single calls, want %d + %d", step.r.name, b, g, step.batch, step.single)
				}
			}
		})
	}
}
