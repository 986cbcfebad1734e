package loadreport

// StatsPath is the route of the devserver's stats listener (its
// -stats-addr flag).
const StatsPath = "/stats"

// Stats is what the devserver's GET /stats answers: enough for a load test
// to check that the function's caches bound its Secrets Manager calls, and
// to find the processes whose memory it samples.
type Stats struct {
	PID            int        `json:"pid"` // the devserver's
	Environments   []EnvStats `json:"environments"`
	SecretsManager *SMStats   `json:"secrets_manager,omitempty"` // nil with SECRETS_MANAGER=aws
}

// EnvStats is one execution environment: an emulator and the function
// process it runs.
type EnvStats struct {
	URL         string `json:"url"`
	EmulatorPID int    `json:"emulator_pid"`
	// FunctionPIDs are the processes running the bootstrap under this
	// emulator: none before the first invocation, one after.
	FunctionPIDs []int `json:"function_pids"`
	Invocations  int64 `json:"invocations"`
}

// SMStats are the Secrets Manager double's counts.
type SMStats struct {
	// Calls are the requests the double received, throttled ones
	// included; ByOperation the same per operation.
	Calls       int            `json:"calls"`
	ByOperation map[string]int `json:"by_operation"`
	// Throttled are the calls the devserver's -sm-throttle-percent
	// answered with ThrottlingException, per operation in
	// ThrottledByOperation. They are in Calls as well.
	Throttled            int            `json:"throttled"`
	ThrottledByOperation map[string]int `json:"throttled_by_operation"`
	// QuotaThrottled are the calls the double's quotas (-sm-quota-scale)
	// answered with ThrottlingException. They are in Calls as well, and
	// never in Throttled: a call past the quota meets no injected fault.
	QuotaThrottled            int            `json:"quota_throttled"`
	QuotaThrottledByOperation map[string]int `json:"quota_throttled_by_operation"`
	// SecretReads counts, for each secret of the seed file, the reads of
	// its value (a GetSecretValue, or an entry of a BatchGetSecretValue).
	SecretReads map[string]int `json:"secret_reads"`
}

// AllThrottled is every call the double throttled, by either cause. Each
// may have been retried, so it adds to the calls the caches allow.
func (s *SMStats) AllThrottled() int { return s.Throttled + s.QuotaThrottled }
