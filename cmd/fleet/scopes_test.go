package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/maskresolver/maskresolver/internal/smfake"
)

// A storm across 3 scopes on a small fleet: every answer 200 with the
// scope's values, and one AssumeRole per scope per environment that
// served it, no more, counted at the double.
func TestStormAcrossScopes(t *testing.T) {
	c := small(scenarioStorm)
	c.secrets = 5
	c.scopes = 3
	rep := runJSON(t, c)
	s := rep.Scenarios[0]
	if s.Status["200"] != c.environments || s.Requests != c.environments || s.WrongValues != 0 || s.ValuesChecked != c.environments*c.secrets {
		t.Errorf("answers %v of %d requests, %d of %d values wrong", s.Status, s.Requests, s.WrongValues, s.ValuesChecked)
	}
	if len(rep.Failures) != 0 || rep.Scopes != 3 {
		t.Errorf("failures %q, scopes %d", rep.Failures, rep.Scopes)
	}
	sc := s.Scopes
	if sc == nil {
		t.Fatal("no AssumeRole counts in the storm's report")
	}
	// Environment i serves scope i mod 3: 3, 3 and 2 of the 8.
	servedBy := map[string]int{"scope-0": 3, "scope-1": 3, "scope-2": 2}
	if sc.Scopes != 3 || sc.Served != c.environments || sc.Expected != c.environments || sc.AssumeRoleCalls != c.environments {
		t.Errorf("%d AssumeRole calls for %d pairs served, expected %d: want %d of each", sc.AssumeRoleCalls, sc.Served, sc.Expected, c.environments)
	}
	for name, n := range servedBy {
		if sc.ServedBy[name] != n || sc.PerScope[name] != n {
			t.Errorf("%s: %d calls by %d environments, want %d and %d", name, sc.PerScope[name], sc.ServedBy[name], n, n)
		}
	}
	for k, name := range []string{"scope-0", "scope-1", "scope-2"} {
		for env, n := range sc.PerScopeEnvironment[name] {
			if want := b2i(env%3 == k); n != want {
				t.Errorf("environment %d, %s: %d calls, want %d", env, name, n, want)
			}
		}
	}
	if sc.MaxPerPair != 1 || sc.Unattributed != 0 || !maps1(sc.Pairs, c.environments) {
		t.Errorf("pairs %v, most per pair %d, unattributed %d", sc.Pairs, sc.MaxPerPair, sc.Unattributed)
	}
	if s.SecretReads != c.environments*c.secrets {
		t.Errorf("secret reads %d, want %d: each environment reads its scope's secrets once", s.SecretReads, c.environments*c.secrets)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maps1 reports whether pairs is exactly {"1": n}.
func maps1(pairs map[string]int, n int) bool { return len(pairs) == 1 && pairs["1"] == n }

// The counting, apart from the function: AssumeRole calls signed by each
// environment's key are attributed to it and to the role's scope, and a
// second call by one environment for one scope fails the scenario.
func TestSTSCounterAttributesCalls(t *testing.T) {
	srv := smfake.New()
	counter := newSTSCounter(srv)
	hs := httptest.NewServer(counter)
	defer hs.Close()
	scopes, err := setupScopes(srv, 2, 3, []byte{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	f := &fleetRun{srv: srv, scopes: scopes, sts: counter}

	assume := func(env int, sc *fleetScope, extID string) error {
		client := sts.NewFromConfig(aws.Config{
			Region:       region,
			Credentials:  credentials.NewStaticCredentialsProvider(envKey(env), "secret", ""),
			BaseEndpoint: aws.String(hs.URL),
			HTTPClient:   smfake.HTTPClient(),
		})
		p := stscreds.NewAssumeRoleProvider(client, sc.roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String(extID)
		})
		_, err := p.Retrieve(context.Background())
		return err
	}
	// Environment 0 serves scope-0, environment 1 scope-1, environment 2
	// nothing; the roles require their external ids.
	for _, a := range []struct {
		env int
		sc  *fleetScope
	}{{0, scopes[0]}, {1, scopes[1]}} {
		if err := assume(a.env, a.sc, a.sc.externalID); err != nil {
			t.Fatalf("environment %d, %s: %v", a.env, a.sc.name, err)
		}
	}
	if err := assume(2, scopes[0], "wrong-external-id"); err == nil {
		t.Error("the double let a role be assumed with the wrong external id")
	}
	served := func(env int) *fleetScope {
		if env < 2 {
			return scopes[env]
		}
		return nil
	}
	r := f.measureScopes(3, served)
	if r.AssumeRoleCalls != 3 || r.Served != 2 || r.Expected != 2 || r.PerScope["scope-0"] != 2 || r.PerScope["scope-1"] != 1 ||
		!slices.Equal(r.PerScopeEnvironment["scope-0"], []int{1, 0, 1}) || !slices.Equal(r.PerScopeEnvironment["scope-1"], []int{0, 1, 0}) {
		t.Errorf("report %+v", r)
	}
	// The refused call of environment 2 is one more than expected.
	if fails := scopeFailures("storm", r); len(fails) != 1 || !strings.Contains(fails[0], "storm: 3 AssumeRole calls, more than one per scope per environment that served it (2)") {
		t.Errorf("failures %q", fails)
	}

	// One environment assuming twice, another never: the total is as
	// expected, the pairs are not.
	counter.reset()
	for range 2 {
		if err := assume(0, scopes[0], scopes[0].externalID); err != nil {
			t.Fatal(err)
		}
	}
	r = f.measureScopes(3, served)
	if r.AssumeRoleCalls != 2 || r.Expected != 2 || r.MaxPerPair != 2 {
		t.Errorf("report %+v", r)
	}
	if fails := scopeFailures("storm", r); len(fails) != 1 || !strings.Contains(fails[0], "assumed more than once by one environment: 1 pairs × 0 calls · 1 pairs × 2 calls") {
		t.Errorf("failures %q", fails)
	}

	// A call signed by another key is counted, not attributed.
	counter.reset()
	counter.add(assumeKey{fleetKey, scopes[0].roleARN})
	if r := f.measureScopes(3, nil); r.AssumeRoleCalls != 1 || r.Unattributed != 1 || len(scopeFailures("steady", r)) != 1 {
		t.Errorf("report %+v", r)
	}
}

// The scope lines of the report, and none in a run without scopes: the
// default run's output is as it was.
func TestScopeReportText(t *testing.T) {
	r := &Report{Environments: 8, QuotaScale: 0.008, StandsFor: 1000, GOMAXPROCS: 2, SecretsPerRequest: 5, Scopes: 3}
	r.Scenarios = []*ScenarioReport{{
		Name: scenarioStorm, Environments: 8, Status: map[string]int{"200": 8},
		Scopes: &scopeReport{
			Scopes: 3, AssumeRoleCalls: 8, Served: 8, Expected: 8,
			PerScope: map[string]int{"scope-0": 3, "scope-1": 3, "scope-2": 2}, ServedBy: map[string]int{"scope-0": 3, "scope-1": 3, "scope-2": 2},
			Pairs: map[string]int{"1": 8}, MaxPerPair: 1,
		},
	}}
	var out strings.Builder
	r.printText(&out)
	for _, want := range []string{
		"5 secrets per request; 3 scopes;",
		"sent together, across 3 scopes (environment i's names scope i mod 3, and that scope's secrets)\n",
		"  assume     AssumeRole 8 calls for 8 (scope, environment) pairs served: 8 pairs × 1 call  (goal: one per scope per environment that served it, 8; more fails)\n",
		"             per scope: scope-0 3 by 3 environments · scope-1 3 by 3 environments · scope-2 2 by 2 environments\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}

	c := small(scenarioStorm)
	c.secrets = 2
	if err := c.complete(); err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if _, err := run(context.Background(), c, &text); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "AssumeRole") || strings.Contains(text.String(), "scope") {
		t.Errorf("a run without scopes reports them:\n%s", text.String())
	}
	c.json = true
	var js bytes.Buffer
	if _, err := run(context.Background(), c, &js); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["scopes"]; ok || strings.Contains(js.String(), `"assume_role_calls"`) {
		t.Errorf("-json without scopes has scope members:\n%s", js.String())
	}
}

func TestConfigScopes(t *testing.T) {
	for _, n := range []int{-1, maxScopes + 1} {
		c := defaultConfig()
		c.scopes = n
		if err := c.complete(); err == nil || !strings.Contains(err.Error(), "-scopes") {
			t.Errorf("-scopes %d: %v", n, err)
		}
	}
}
