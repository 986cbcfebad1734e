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

	"github.com/maskresolver/maskresolver/internal/loadreport"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// smOperations are the operations the function may call; the double counts
// each under its name.
var smOperations = []string{"GetSecretValue", "BatchGetSecretValue", "DescribeSecret"}

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
	if r.URL.Path != loadreport.StatsPath {
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

func (s *statsSource) collect() loadreport.Stats {
	st := loadreport.Stats{PID: os.Getpid()}
	var inv []int64
	if s.front != nil {
		inv = s.front.invocations()
	}
	for i, e := range s.emus {
		es := loadreport.EnvStats{URL: e.url, EmulatorPID: e.cmd.Process.Pid, FunctionPIDs: []int{}}
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
		sm := &loadreport.SMStats{
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
