package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// storm is a deploy: every environment cold at once, each answering one
// first request that names its window of secrets.
func (f *fleetRun) storm(ctx context.Context) (*ScenarioReport, error) {
	built := time.Now()
	envs, err := f.appEnvs(ctx, 0, newLogSink(), true)
	if err != nil {
		return nil, err
	}
	var served func(env int) *fleetScope
	if len(f.scopes) > 0 {
		served = f.scopeOf
	}
	s := f.fire(ctx, scenarioStorm, envs.invokers, envs.log, served)
	s.BuildSeconds = envs.built.Sub(built).Seconds()
	return s, nil
}

// baseline is the same storm through naive resolvers.
func (f *fleetRun) baseline(ctx context.Context) (*ScenarioReport, error) {
	c := f.cfg
	start := time.Now()
	invokers := make([]invoker, c.environments)
	for i := range invokers {
		e, err := newNaiveEnv(ctx, f.pool, window(i, c.secrets, len(f.pool.arns)))
		if err != nil {
			return nil, err
		}
		invokers[i] = e
	}
	built := time.Since(start)
	s := f.fire(ctx, scenarioBaseline, invokers, nil, nil)
	s.BuildSeconds = built.Seconds()
	return s, nil
}

// fleetEnvs are a scenario's environments of the function and the sink of
// their logs.
type fleetEnvs struct {
	invokers []invoker
	log      *logSink
	built    time.Time // when the last was built
}

// appEnvs builds the environments, one after another as Lambda's cold
// starts would be, before anything is sent: building is not what is
// measured. With scoped, environment i's request names f.scopeOf(i) (when
// the fleet has scopes) and that scope's secrets.
func (f *fleetRun) appEnvs(ctx context.Context, ttl time.Duration, log *logSink, scoped bool) (*fleetEnvs, error) {
	c := f.cfg
	e := &fleetEnvs{invokers: make([]invoker, c.environments), log: log}
	vars, err := f.appVars(ttl)
	if err != nil {
		return nil, err
	}
	for i := range e.invokers {
		p, scope := f.pool, ""
		if sc := f.scopeOf(i); sc != nil {
			if err := setEnvKey(envKey(i)); err != nil {
				return nil, err
			}
			if scoped {
				p, scope = sc.pool, sc.name
			}
		}
		env, err := newAppEnv(ctx, vars, log, p, window(i, c.secrets, len(p.arns)), scope)
		if err != nil {
			return nil, fmt.Errorf("environment %d: %w", i, err)
		}
		e.invokers[i] = env
	}
	if len(f.scopes) > 0 {
		if err := setEnvKey(fleetKey); err != nil {
			return nil, err
		}
	}
	e.built = time.Now()
	return e, nil
}

// fire sends one request to every environment at the same moment — they
// wait behind a barrier until all are ready — and reports on the answers.
// Latency runs from the release, the moment the deploy made them all
// cold. served is the scope each environment's request names (nil: none;
// it must be nil for invokers that are not the function).
func (f *fleetRun) fire(ctx context.Context, name string, invokers []invoker, log *logSink, served func(env int) *fleetScope) *ScenarioReport {
	f.reset()
	f.resetSTS()
	chk := f.checkCurrent
	if served != nil {
		chk = f.checkIn(served)
	}
	t, wall, cpu0 := f.fireTogether(ctx, name, invokers, chk)
	s := &ScenarioReport{Name: name, Environments: len(invokers), Demand: len(invokers) * f.cfg.secrets}
	t.fill(s)
	if log != nil {
		l := log.totals()
		s.Log = &l
	}
	f.measure(s, wall, cpu0)
	if log != nil && len(f.scopes) > 0 {
		s.Scopes = f.measureScopes(len(invokers), served)
	}
	return s
}

// check reports how many values of a 200 answer it checked and how many
// were wrong; start is when the request was sent.
type check func(env int, a answer, start time.Time) (checked, wrong int)

// checkCurrent checks every value against the pool as it stands, for
// scenarios that rotate nothing.
func (f *fleetRun) checkCurrent(env int, a answer, _ time.Time) (checked, wrong int) {
	return checkPool(f.pool, f.cfg.secrets, env, a)
}

// checkIn is checkCurrent for requests that name scopes: environment
// env's values are those of the pool of served(env), or of the unscoped
// pool where it is nil.
func (f *fleetRun) checkIn(served func(env int) *fleetScope) check {
	return func(env int, a answer, _ time.Time) (checked, wrong int) {
		p := f.pool
		if sc := served(env); sc != nil {
			p = sc.pool
		}
		return checkPool(p, f.cfg.secrets, env, a)
	}
}

func checkPool(p *pool, secrets, env int, a answer) (checked, wrong int) {
	for k, j := range window(env, secrets, len(p.arns)) {
		checked++
		if a.values[fieldName(k, secrets)] != p.current[j] {
			wrong++
		}
	}
	return checked, wrong
}

// fireTogether sends one request to each invoker at once and tallies the
// answers. It returns the wall time from the release to the last answer
// and the process's CPU time at the release.
func (f *fleetRun) fireTogether(ctx context.Context, name string, invokers []invoker, chk check) (*tally, time.Duration, time.Duration) {
	type result struct {
		a   answer
		d   time.Duration
		end time.Time
	}
	results := make([]result, len(invokers))
	release := make(chan struct{})
	var ready, done sync.WaitGroup
	var t0 time.Time
	for i, inv := range invokers {
		ready.Add(1)
		done.Go(func() {
			ictx, cancel := context.WithTimeout(ctx, f.cfg.invokeTimeout)
			defer cancel()
			ready.Done()
			<-release
			results[i].a = inv.invoke(ictx, fmt.Sprintf("%s-%04d-0", name, i))
			results[i].end = time.Now()
			results[i].d = results[i].end.Sub(t0)
		})
	}
	ready.Wait()
	cpu0 := cpuTime()
	t0 = time.Now()
	close(release)
	done.Wait()

	t := newTally()
	var last time.Time
	for i, r := range results {
		t.add(r.a, r.d)
		if r.a.status == 200 {
			c, w := chk(i, r.a, t0)
			t.checked += c
			t.wrong += w
		}
		if r.end.After(last) {
			last = r.end
		}
	}
	return t, last.Sub(t0), cpu0
}
