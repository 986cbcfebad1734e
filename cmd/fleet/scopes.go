package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	mrconfig "github.com/maskresolver/maskresolver/internal/config"
	"github.com/maskresolver/maskresolver/internal/smfake"
)

// Scopes in the fleet (-scopes S; see doc.go). A scope
// (docs/configuration.md) is a named IAM role, assumed with an external
// id, that reads the secrets of the requests naming it. An environment
// assumes a scope's role once, when it first serves the scope, and keeps
// the credentials for its later reads, retries included: the AssumeRole
// calls are counted from the double's side, by the access key each
// environment signs with and the role each call names.

// fleetScope is one scope: its role on the double and its secrets.
type fleetScope struct {
	name       string
	roleARN    string
	externalID string // only in SCOPES and the double; never printed
	pool       *pool
}

// setupScopes adds n scopes to srv, each a role that requires an external
// id and a pool of size secrets only that role may read.
func setupScopes(srv *smfake.Server, n, size int, nonce []byte) ([]*fleetScope, error) {
	scopes := make([]*fleetScope, n)
	width := len(strconv.Itoa(n - 1))
	for k := range scopes {
		name := fmt.Sprintf("scope-%0*d", width, k)
		sc := &fleetScope{
			name:       name,
			roleARN:    fmt.Sprintf("arn:aws:iam::%s:role/fleet-%s", account, name),
			externalID: fmt.Sprintf("fleet-external-id-%s-%x", name, nonce),
		}
		if err := srv.AddRole(sc.roleARN, smfake.RequireExternalID(sc.externalID)); err != nil {
			return nil, err
		}
		p, err := seedPoolAs(srv, size, name, []string{sc.roleARN}, nonce)
		if err != nil {
			return nil, err
		}
		sc.pool = p
		scopes[k] = sc
	}
	return scopes, nil
}

// scopesVar is the value of SCOPES for scopes: each admits every caller
// and exactly the secrets of its pool.
func scopesVar(scopes []*fleetScope) (string, error) {
	doc := make(map[string]mrconfig.ScopeEntry, len(scopes))
	for _, sc := range scopes {
		doc[sc.name] = mrconfig.ScopeEntry{
			RoleARN:    sc.roleARN,
			ExternalID: sc.externalID,
			Callers:    []string{"*"},
			Secrets:    []string{fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:fleet/%s/*", region, account, sc.name)},
		}
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// scopeOf is the scope environment i's storm request names, or nil
// without scopes.
func (f *fleetRun) scopeOf(i int) *fleetScope {
	if len(f.scopes) == 0 {
		return nil
	}
	return f.scopes[i%len(f.scopes)]
}

// envKey is the access key id environment i signs with when the fleet has
// scopes: each environment its own, as each Lambda execution environment
// gets its own credentials, so that the double's side can tell whose
// AssumeRole a call was.
func envKey(i int) string { return fmt.Sprintf("%s%06d", envKeyPrefix, i) }

const envKeyPrefix = "AKIDFLEETENV"

// envOfKey is the environment of an access key id envKey made, or -1.
func envOfKey(akid string) int {
	rest, ok := strings.CutPrefix(akid, envKeyPrefix)
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return i
}

// setEnvKey makes the environments built from now on sign with key.
func setEnvKey(key string) error { return os.Setenv("AWS_ACCESS_KEY_ID", key) }

// stsCounter counts the AssumeRole requests reaching the double, by the
// access key id that signed them and the role they name, and passes every
// request on unchanged.
type stsCounter struct {
	next http.Handler

	mu    sync.Mutex
	calls map[assumeKey]int
}

type assumeKey struct{ akid, role string }

func newSTSCounter(next http.Handler) *stsCounter {
	return &stsCounter{next: next, calls: map[assumeKey]int{}}
}

// maxQueryBody bounds what the counter reads of an STS request; an
// AssumeRole is a few hundred bytes.
const maxQueryBody = 1 << 20

func (c *stsCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Secrets Manager's requests name their operation in X-Amz-Target;
	// STS's are form-encoded POSTs naming it in the body.
	if r.Method == http.MethodPost && r.Header.Get("X-Amz-Target") == "" {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxQueryBody))
		r.Body.Close()
		if err != nil {
			http.Error(w, "read the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") == "AssumeRole" {
			c.add(assumeKey{accessKeyID(r.Header.Get("Authorization")), form.Get("RoleArn")})
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	c.next.ServeHTTP(w, r)
}

func (c *stsCounter) add(k assumeKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[k]++
}

// reset forgets the counts.
func (c *stsCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.calls)
}

func (c *stsCounter) snapshot() map[assumeKey]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// accessKeyID is the access key id of a SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/<service>/aws4_request, ...
func accessKeyID(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	akid, _, _ := strings.Cut(cred, "/")
	return akid
}

// scopeReport is what a scenario's environments asked STS for.
type scopeReport struct {
	Scopes int `json:"scopes"`
	// AssumeRoleCalls are every AssumeRole the double received while
	// the scenario ran; Expected is one per scope per environment that
	// served it (Served such pairs).
	AssumeRoleCalls int `json:"assume_role_calls"`
	Served          int `json:"served_pairs"`
	Expected        int `json:"expected_assume_role_calls"`
	// PerScope are the calls for each scope's role, and ServedBy how many
	// environments served each scope.
	PerScope map[string]int `json:"per_scope"`
	ServedBy map[string]int `json:"environments_per_scope"`
	// PerScopeEnvironment are the calls of each environment (by index)
	// for each scope's role.
	PerScopeEnvironment map[string][]int `json:"per_scope_environment"`
	// Pairs counts the (scope, environment) pairs that were served or
	// assumed a role, by how many calls they made: {"1": 40} when each
	// assumed once.
	Pairs map[string]int `json:"pairs_by_calls"`
	// MaxPerPair is the most calls one environment made for one scope.
	MaxPerPair int `json:"max_per_pair"`
	// Unattributed are calls signed by no environment's key or naming no
	// scope's role.
	Unattributed int `json:"unattributed,omitempty"`
}

// measureScopes reports the AssumeRole calls since the last reset, against
// served: for each environment, the scope it served, or nil.
func (f *fleetRun) measureScopes(environments int, served func(env int) *fleetScope) *scopeReport {
	r := &scopeReport{
		Scopes:              len(f.scopes),
		PerScope:            map[string]int{},
		ServedBy:            map[string]int{},
		PerScopeEnvironment: map[string][]int{},
		Pairs:               map[string]int{},
	}
	byRole := map[string]*fleetScope{}
	for _, sc := range f.scopes {
		byRole[sc.roleARN] = sc
		r.PerScope[sc.name] = 0
		r.ServedBy[sc.name] = 0
		r.PerScopeEnvironment[sc.name] = make([]int, environments)
	}
	for k, n := range f.sts.snapshot() {
		r.AssumeRoleCalls += n
		sc, env := byRole[k.role], envOfKey(k.akid)
		if sc == nil || env < 0 || env >= environments {
			r.Unattributed += n
			continue
		}
		r.PerScope[sc.name] += n
		r.PerScopeEnvironment[sc.name][env] += n
	}
	isServed := func(sc *fleetScope, env int) bool { return served != nil && served(env) == sc }
	for _, sc := range f.scopes {
		for env, n := range r.PerScopeEnvironment[sc.name] {
			if isServed(sc, env) {
				r.Served++
				r.ServedBy[sc.name]++
			} else if n == 0 {
				continue
			}
			r.Pairs[strconv.Itoa(n)]++
			r.MaxPerPair = max(r.MaxPerPair, n)
		}
	}
	r.Expected = r.Served
	return r
}

// scopeFailures lists what a scenario's AssumeRole calls got wrong: more
// than one per scope per environment that served it, in all or for any
// one pair.
func scopeFailures(name string, r *scopeReport) []string {
	switch {
	case r.AssumeRoleCalls > r.Expected:
		return []string{fmt.Sprintf("%s: %d AssumeRole calls, more than one per scope per environment that served it (%d)", name, r.AssumeRoleCalls, r.Expected)}
	case r.MaxPerPair > 1:
		return []string{fmt.Sprintf("%s: a scope's role was assumed more than once by one environment: %s", name, pairsLine(r.Pairs))}
	}
	return nil
}

// pairsLine is "40 pairs × 1 call", or "38 pairs × 1 call · 2 pairs × 2
// calls", fewest calls first.
func pairsLine(pairs map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(pairs), func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		unit := "calls"
		if k == "1" {
			unit = "call"
		}
		parts[i] = fmt.Sprintf("%d pairs × %s %s", pairs[k], k, unit)
	}
	return strings.Join(parts, " · ")
}

// printText writes the scope lines of a scenario's block.
func (r *scopeReport) printText(w io.Writer) {
	fmt.Fprintf(w, "  assume     AssumeRole %d calls for %d (scope, environment) pairs served: %s  (goal: one per scope per environment that served it, %d; more fails)\n",
		r.AssumeRoleCalls, r.Served, pairsLine(r.Pairs), r.Expected)
	if r.Served == 0 && r.AssumeRoleCalls == 0 {
		return
	}
	parts := make([]string, 0, len(r.PerScope))
	for _, name := range slices.Sorted(maps.Keys(r.PerScope)) {
		parts = append(parts, fmt.Sprintf("%s %d by %d environments", name, r.PerScope[name], r.ServedBy[name]))
	}
	line := strings.Join(parts, " · ")
	if r.Unattributed > 0 {
		line += fmt.Sprintf(" · %d unattributed", r.Unattributed)
	}
	fmt.Fprintf(w, "             per scope: %s\n", line)
}
