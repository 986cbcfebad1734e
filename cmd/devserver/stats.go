package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// statsPath is the route of the stats listener (-stats-addr).
const statsPath = "/stats"

// smOperations are the operations the function may call; the double counts
// each under its name.
var smOperations = []string{"GetSecretValue", "BatchGetSecretValue", "DescribeSecret"}

// stats is what GET /stats answers: enough for a load test to check that
// the function's caches bound its Secrets Manager calls, and to find the
// processes whose memory it samples.
type stats struct {
	PID            int        `json:"pid"` // the devserver's
	Environments   []envStats `json:"environments"`
	SecretsManager *smStats   `json:"secrets_manager,omitempty"` // nil with the real service
}

type envStats struct {
	URL         string `json:"url"`
	EmulatorPID int    `json:"emulator_pid"`
	// FunctionPIDs are the processes running the bootstrap under this
	// emulator: none before the first invocation, one after.
	FunctionPIDs []int `json:"function_pids"`
	Invocations  int64 `json:"invocations"`
}

type smStats struct {
	// Calls are the requests the double received (smfake's Calls("")),
	// throttled ones included; ByOperation the same per operation.
	Calls       int            `json:"calls"`
	ByOperation map[string]int `json:"by_operation"`
	// Throttled are the calls -sm-throttle-percent answered with
	// ThrottlingException (an injected smfake.Fault), per operation in
	// ThrottledByOperation. They are in Calls as well.
	Throttled            int            `json:"throttled"`
	ThrottledByOperation map[string]int `json:"throttled_by_operation"`
	// QuotaThrottled are the calls the double's quotas (-sm-quota-scale)
	// answered with ThrottlingException. They are in Calls as well, and
	// never in Throttled: a call past the quota meets no fault.
	QuotaThrottled            int            `json:"quota_throttled"`
	QuotaThrottledByOperation map[string]int `json:"quota_throttled_by_operation"`
	// SecretReads counts, for each secret of the seed file, the reads of
	// its value (a GetSecretValue, or an entry of a BatchGetSecretValue).
	SecretReads map[string]int `json:"secret_reads"`
}

// statsSource gathers stats from the parts run starts; a part not started
// (the double with SECRETS_MANAGER=aws, the front with -invoke) is left
// out.
type statsSource struct {
	sm        *smfake.Server
	throttle  *smfake.Injected // -sm-throttle-percent's fault, or nil
	quotas    bool             // the double enforces quotas
	seeded    []string         // ARNs of the seed file
	emus      []*emulator
	front     *front
	bootstrap string // absolute path, to tell the function's processes
}

func (s *statsSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != statsPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b, err := json.MarshalIndent(s.collect(), "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

func (s *statsSource) collect() stats {
	st := stats{PID: os.Getpid()}
	var inv []int64
	if s.front != nil {
		inv = s.front.invocations()
	}
	for i, e := range s.emus {
		es := envStats{URL: e.url, EmulatorPID: e.cmd.Process.Pid, FunctionPIDs: []int{}}
		if i < len(inv) {
			es.Invocations = inv[i]
		}
		for _, pid := range descendants(es.EmulatorPID) {
			if runs(pid, s.bootstrap) {
				es.FunctionPIDs = append(es.FunctionPIDs, pid)
			}
		}
		st.Environments = append(st.Environments, es)
	}
	if s.sm != nil {
		sm := &smStats{
			Calls:                     s.sm.Calls(""),
			ByOperation:               map[string]int{},
			ThrottledByOperation:      map[string]int{},
			QuotaThrottled:            s.sm.Throttled(""),
			QuotaThrottledByOperation: map[string]int{},
			SecretReads:               map[string]int{},
		}
		known := 0
		for _, op := range smOperations {
			sm.ByOperation[op] = s.sm.Calls(op)
			known += sm.ByOperation[op]
			sm.QuotaThrottledByOperation[op] = s.sm.Throttled(op)
			if s.throttle != nil {
				sm.ThrottledByOperation[op] = s.throttle.Calls(op)
			}
		}
		if other := sm.Calls - known; other > 0 {
			sm.ByOperation["other"] = other
		}
		if s.throttle != nil {
			sm.Throttled = s.throttle.Calls("")
		}
		for _, arn := range s.seeded {
			sm.SecretReads[arn] = s.sm.SecretReads(arn)
		}
		st.SecretsManager = sm
	}
	return st
}

// report writes the counts to w (the devserver logs them at shutdown).
func (s *statsSource) report(w io.Writer) {
	st := s.collect()
	for i, e := range st.Environments {
		fmt.Fprintf(w, "devserver: environment %d (%s): %d invocations\n", i+1, e.URL, e.Invocations)
	}
	if sm := st.SecretsManager; sm != nil {
		var ops []string
		for _, op := range slices.Sorted(maps.Keys(sm.ByOperation)) {
			ops = append(ops, fmt.Sprintf("%s %d", op, sm.ByOperation[op]))
		}
		var throttled []string
		if s.throttle != nil {
			throttled = append(throttled, fmt.Sprintf("%d throttled by -sm-throttle-percent", sm.Throttled))
		}
		if s.quotas {
			throttled = append(throttled, fmt.Sprintf("%d throttled by -sm-quota-scale", sm.QuotaThrottled))
		}
		of := ""
		if len(throttled) > 0 {
			of = ", of them " + strings.Join(throttled, " and ")
		}
		fmt.Fprintf(w, "devserver: Secrets Manager double: %d calls (%s)%s\n", sm.Calls, strings.Join(ops, ", "), of)
	}
}

// seedARNs returns the ARNs a seed file names.
func seedARNs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Secrets []struct {
			ARN string `json:"arn"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("seed %s: %w", path, err)
	}
	arns := make([]string, len(f.Secrets))
	for i, s := range f.Secrets {
		arns[i] = s.ARN
	}
	return arns, nil
}

// descendants returns the processes below pid, read from /proc (none where
// there is no /proc).
func descendants(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses,
		// so the fields start after the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		child, err1 := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		parent, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil {
			children[parent] = append(children[parent], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	slices.Sort(out)
	return out
}

// runs reports whether process pid runs the program at path.
func runs(pid int, path string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.HasPrefix(b, []byte(path+"\x00"))
}
