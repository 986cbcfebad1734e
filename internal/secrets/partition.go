package secrets

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxPartitions bounds the scoped partitions whose View the store keeps.
// A View holds only what its partition learned about batch reads, and its
// prefix; forgetting one costs at most a refused or throttled batch call.
// The bound keeps keys that come and go (a scope whose role changes gets
// a new key) from piling up.
const maxPartitions = 256

// View is one partition of a Store: the function's own (the Store's Get)
// or one given by Partition. Values, version ids, remembered misses and
// failed reads, and reads in flight are kept per partition: a View is
// served only what its partition read, and reads with its partition's
// credentials. The store's bounds (WithMaxEntries, the clients kept) are
// shared by all partitions. A View is safe for concurrent use.
type View struct {
	s *Store
	// prefix starts the key of each secret and client of the partition;
	// "" for the function's own, whose keys are the bare ARNs and regions,
	// so that its requests pay nothing for partitions.
	prefix string
	// creds sign the partition's reads; nil: the aws.Config's own.
	creds aws.CredentialsProvider
	// noBatch says BatchGetSecretValue was refused to the partition's
	// credentials: its reads go singly. Per partition, since a scope's
	// role may lack the permission while the function's has it.
	noBatch atomic.Bool
	// batchPaused holds, per region, when the partition's batch reads may
	// start again after a throttled BatchGetSecretValue (a time.Time).
	// The quota is per account and region; a partition reads with one
	// role, usually in an account of its own, so a throttled tenant
	// pauses only its own batch reads (two partitions in one account
	// each pay one throttled batch before pausing).
	batchPaused sync.Map
}

// Partition returns the View of the partition named key, reading with
// creds. key is opaque to the store, and any key (the empty one too) names
// a partition apart from the function's own; the caller makes it name the
// credentials, so that credentials that change (another role or external
// id) get another key, and start with an empty partition: a key's
// partition may keep signing with the creds given with it first, and a
// later call's creds go unused. creds should cache (aws.CredentialsCache),
// since every call signs with them.
func (s *Store) Partition(key string, creds aws.CredentialsProvider) *View {
	if v, ok := s.views.Get(key); ok {
		return v
	}
	v := &View{s: s, prefix: prefixOf(key), creds: creds}
	if prev, ok, _ := s.views.PeekOrAdd(key, v); ok {
		return prev // made concurrently by another request
	}
	return v
}

// prefixOf gives the key prefix of the partition named key: key's length,
// a NUL byte, then key. Read from the start, a prefixed key tells its
// partition's key apart from the id after it whatever either holds, so no
// two partitions share a key; and it holds a NUL, which no secret ARN,
// name or region does, so none is the bare key of the function's own.
func prefixOf(key string) string {
	return strconv.Itoa(len(key)) + "\x00" + key
}

// key is id's key in v's partition: id itself in the function's own, with
// no allocation, else id behind the partition's prefix.
func (v *View) key(id string) string {
	if v.prefix == "" {
		return id
	}
	return v.prefix + id
}

// keys gives the key of each of arns in v's partition: arns itself in the
// function's own.
func (v *View) keys(arns []string) []string {
	if v.prefix == "" {
		return arns
	}
	keys := make([]string, len(arns))
	for i, arn := range arns {
		keys[i] = v.key(arn)
	}
	return keys
}

// batchAllowed reports whether v's reads in region may use
// BatchGetSecretValue: the partition's credentials may call it, and its
// batch reads there were not throttled within the last batchPause.
func (v *View) batchAllowed(region string) bool {
	if v.noBatch.Load() {
		return false
	}
	until, ok := v.batchPaused.Load(region)
	return !ok || !v.s.opts.now().Before(until.(time.Time))
}

// pauseBatch turns v's batch reads in region off for batchPause.
func (v *View) pauseBatch(region string) {
	v.batchPaused.Store(region, v.s.opts.now().Add(batchPause))
}
