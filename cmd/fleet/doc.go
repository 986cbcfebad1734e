// Command fleet simulates a fleet of the function's execution environments
// in one process, all sharing one Secrets Manager account's quotas, and
// reports how the read path turns a deploy's cold storm, and steady
// traffic across cache expiry, into latency rather than errors.
// `make fleet` runs it.
//
// Each simulated environment is the handler the Lambda binary runs, built
// by internal/app with its own cache and its own SDK client, so the read
// path under test is the real one; only the fleet is smaller. All of them
// call one internal/smfake double on 127.0.0.1 that meters requests with
// AWS's account quotas scaled by -quota-scale.
//
// The scaling rule: E environments under quotas scaled by E/1,000 meet the
// same quota pressure per environment as 1,000 environments under the real
// quotas (BatchGetSecretValue 100/s, GetSecretValue and DescribeSecret
// 10,000/s combined, one second of burst), so the default of 40
// environments at scale 0.04 stands for a fleet of 1,000 and runs in
// seconds on a laptop.
//
// Scenarios, run in the order -scenarios names them:
//
//	storm     every environment cold at once, each answering one first
//	          request that names -secrets cold secrets, fired together
//	steady    fresh environments with a short CACHE_TTL, warmed, then
//	          sending -rate requests/s each across several TTLs while a
//	          quarter of the secrets rotate; checks that no answer carries
//	          an old value once a TTL has passed since the rotation
//	baseline  the storm through a naive resolver: a plain SDK client per
//	          environment, no cache, no batching, one GetSecretValue per
//	          mask in turn
//
// Each scenario reports answers by status, Secrets Manager calls by
// operation and how many the quotas throttled, the throttles the read path
// absorbed (from the request summary log lines), latency percentiles, wall
// time, and the least time the quotas allow for the same demand. With
// -json the report is one JSON object instead. The exit status is 1 when an
// answer was wrong or a scenario other than the baseline answered anything
// but 200.
package main
