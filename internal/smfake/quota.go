package smfake

import (
	"sync"
	"time"
)

// Documented per-account, per-region rates, from AWS's Secrets Manager
// quotas page. Every caller in the account draws on the same budget, so a
// fleet of Lambda environments shares them.
const (
	AccountBatchRate = 100   // BatchGetSecretValue requests/s; AWS does not raise it on request
	AccountReadRate  = 10000 // GetSecretValue + DescribeSecret requests/s combined
)

// defaultBurst is the burst of AccountQuotas and of a Quotas whose Burst
// is 0.
const defaultBurst = time.Second

// Quotas are token-bucket rates the server enforces per region, shared by
// every client of the Server, as AWS meters an account. A call past its
// rate is answered HTTP 400 ThrottlingException ("Rate exceeded") before
// anything else happens to it: it reads no secret, spends no injected fault
// and waits no injected Latency.
type Quotas struct {
	Batch float64       // BatchGetSecretValue requests/s; 0 = unmetered
	Read  float64       // GetSecretValue + DescribeSecret requests/s combined; 0 = unmetered
	Burst time.Duration // how many seconds of its rate a full bucket holds; 0 means 1 s
}

// AccountQuotas returns AWS's documented quotas multiplied by scale, with
// one second of burst: AccountQuotas(1) is the real service, and
// AccountQuotas(0.04) lets 40 environments stand for 1,000 sharing one
// account.
func AccountQuotas(scale float64) Quotas {
	return Quotas{Batch: AccountBatchRate * scale, Read: AccountReadRate * scale, Burst: defaultBurst}
}

// WithQuotas makes the server enforce q. Without it nothing is metered, so
// that a test sees throttling only when it asks for it.
func WithQuotas(q Quotas) Option {
	return func(s *Server) { s.meter.set(q) }
}

// SetQuotas replaces the quotas of a running server; every bucket starts
// full again. The zero Quotas turns metering off.
func (s *Server) SetQuotas(q Quotas) { s.meter.set(q) }

// Throttled reports how many calls named op the quotas answered with
// ThrottlingException; "" counts every operation. Those calls are in Calls
// too. ThrottlingException answers from an injected Fault are not counted
// here: they stand for something else than the server's own rate.
func (s *Server) Throttled(op string) int { return s.meter.count(op) }

// quotaClass names the budget an operation draws on.
type quotaClass uint8

const (
	unmetered quotaClass = iota
	classBatch
	classRead
)

func classOf(op string) quotaClass {
	switch op {
	case opBatchGetSecretValue:
		return classBatch
	case opGetSecretValue, opDescribeSecret:
		return classRead // one combined budget, as AWS documents it
	}
	return unmetered
}

type bucketKey struct {
	class  quotaClass
	region string
}

// bucket is refilled from the time elapsed when it is next drawn on, so no
// goroutine or ticker has to run while the server idles.
type bucket struct {
	tokens float64
	last   time.Time
}

// meter holds the quotas, their buckets and the throttled counts. It has
// its own mutex so that metering every request does not queue behind the
// store's lookups on Server.mu.
type meter struct {
	mu        sync.Mutex
	q         Quotas
	buckets   map[bucketKey]*bucket
	throttled map[string]int
	now       func() time.Time // time.Now; tests set a fake clock
}

func (m *meter) set(q Quotas) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.q = q
	clear(m.buckets)
}

// allow draws a token for op in region and reports whether there was one;
// a refused call is counted as throttled.
func (m *meter) allow(op, region string) bool {
	c := classOf(op)
	if c == unmetered {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rate := m.q.Read
	if c == classBatch {
		rate = m.q.Batch
	}
	if !(rate > 0) { // NaN as well as 0 and below
		return true
	}
	burst := m.q.Burst
	if burst <= 0 {
		burst = defaultBurst
	}
	// A bucket smaller than one token would refuse every call.
	capacity := max(rate*burst.Seconds(), 1)
	now := m.now()
	k := bucketKey{c, region}
	b := m.buckets[k]
	switch {
	case b == nil:
		b = &bucket{tokens: capacity, last: now}
		m.buckets[k] = b
	case now.After(b.last):
		b.tokens = min(capacity, b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	m.throttled[op]++
	return false
}

func (m *meter) count(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op != "" {
		return m.throttled[op]
	}
	n := 0
	for _, c := range m.throttled {
		n += c
	}
	return n
}

func (m *meter) resetCounts() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.throttled)
}
