package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// steady is traffic across cache expiry: fresh environments with a short
// CACHE_TTL are warmed together (a deploy's cold start, reported apart),
// then each sends -rate requests a second for -duration while, one TTL in,
// a share of the secrets rotate. Once a TTL has passed since the rotation
// (plus -slack for reads in flight across it), every answer must carry
// the new values: the TTL's jitter only shortens an entry's life.
func (f *fleetRun) steady(ctx context.Context) (*ScenarioReport, error) {
	c := f.cfg
	log := newLogSink()
	building := time.Now()
	envs, err := f.appEnvs(ctx, c.ttl, log, false)
	if err != nil {
		return nil, err
	}
	f.reset()
	f.resetSTS()
	warm, warmWall, _ := f.fireTogether(ctx, scenarioSteady+"-warm", envs.invokers, f.checkCurrent)

	// The traffic starts from a fresh account and fresh counts; the
	// caches stay warm.
	log.reset()
	f.reset()
	rotated := f.rotation()
	st := &steadyReport{
		TTLSeconds:          c.ttl.Seconds(),
		Rate:                c.rate,
		DurationSeconds:     c.duration.Seconds(),
		SlackSeconds:        c.slack.Seconds(),
		WarmupStatus:        warm.status,
		WarmupWallSeconds:   warmWall.Seconds(),
		Rotated:             len(rotated),
		ExpectedPerSecond:   float64(c.environments*c.secrets) / c.ttl.Seconds(),
		QuotaReadsPerSecond: maxBatch*f.q.Batch + f.q.Read,
	}
	v := &rotationCheck{f: f, rotated: map[int]bool{}, bound: c.ttl + c.slack}
	for _, j := range rotated {
		v.rotated[j] = true
	}

	cpu0 := cpuTime()
	t0 := time.Now()
	end := t0.Add(c.duration)
	var wg sync.WaitGroup
	var rotErr error
	if len(rotated) > 0 {
		wg.Go(func() {
			if !sleepUntil(ctx, t0.Add(c.ttl)) {
				return
			}
			v.start.Store(time.Now().UnixNano())
			for _, j := range rotated {
				if err := f.pool.rotate(f.srv, j); err != nil {
					rotErr = err
					return
				}
			}
			v.done.Store(time.Now().UnixNano())
		})
	}
	tallies := make([]*tally, len(envs.invokers))
	var skipped atomic.Int64
	period := time.Duration(float64(time.Second) / c.rate)
	for i, inv := range envs.invokers {
		tallies[i] = newTally()
		wg.Go(func() {
			t := tallies[i]
			// A random phase, so that the fleet's requests spread over
			// the period as independent callers' would.
			next := t0.Add(time.Duration(rand.Int64N(int64(period))))
			for n := 0; next.Before(end); n++ {
				if !sleepUntil(ctx, next) {
					return
				}
				start := time.Now()
				ictx, cancel := context.WithTimeout(ctx, c.invokeTimeout)
				a := inv.invoke(ictx, fmt.Sprintf("%s-%04d-%d", scenarioSteady, i, n+1))
				cancel()
				t.add(a, time.Since(start))
				if a.status == 200 {
					ch, w := v.check(i, a, start)
					t.checked += ch
					t.wrong += w
				}
				// One environment answers one request at a time: a tick
				// missed while a request ran is skipped, not queued.
				next = next.Add(period)
				for now := time.Now(); next.Before(now); next = next.Add(period) {
					skipped.Add(1)
				}
			}
		})
	}
	wg.Wait()
	wall := time.Since(t0)
	if rotErr != nil {
		return nil, fmt.Errorf("rotate: %w", rotErr)
	}

	s := &ScenarioReport{Name: scenarioSteady, Environments: c.environments, Steady: st, BuildSeconds: envs.built.Sub(building).Seconds()}
	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	// The warm-up's values count among those checked; its latencies and
	// statuses are reported apart.
	all.checked += warm.checked
	all.wrong += warm.wrong
	all.fill(s)
	l := log.totals()
	s.Log = &l
	f.measure(s, wall, cpu0)
	if len(f.scopes) > 0 {
		// Unscoped requests, warm-up included: no AssumeRole at all.
		s.Scopes = f.measureScopes(c.environments, nil)
	}
	// The demand is what the traffic made the double read: the refreshes.
	s.Demand = s.SecretReads
	s.setIdeal(f.q)
	st.ReadsPerSecond = float64(s.SecretReads) / wall.Seconds()
	st.SkippedTicks = int(skipped.Load())
	if d := v.done.Load(); d != 0 {
		st.RotationSeconds = time.Unix(0, d).Sub(t0).Seconds()
		st.BoundSeconds = st.RotationSeconds + v.bound.Seconds()
	}
	st.AnswersAfterBound = int(v.afterBound.Load())
	st.OldAfterBound = int(v.oldAfterBound.Load())
	st.OldAfterRotation = int(v.oldAfterRotation.Load())
	st.LastOldAfterRotation = time.Duration(v.lastOld.Load()).Seconds()
	return s, nil
}

// rotation picks the pool indexes to rotate: every secret whose index
// falls on the -rotate share, spread over the pool so that every
// environment's window holds some.
func (f *fleetRun) rotation() []int {
	n := len(f.pool.arns)
	k := int(f.cfg.rotate*float64(n) + 0.5)
	out := make([]int, 0, k)
	for i := range k {
		out = append(out, i*n/k)
	}
	return out
}

// rotationCheck checks the values of steady answers against the rotation.
type rotationCheck struct {
	f       *fleetRun
	rotated map[int]bool // read-only once the traffic starts
	bound   time.Duration
	// start and done are when the rotation's first Put began and its last
	// returned (UnixNano; 0 before).
	start, done atomic.Int64

	afterBound, oldAfterBound, oldAfterRotation atomic.Int64
	lastOld                                     atomic.Int64 // the latest request served an old value, from done
}

// check compares each value of an answer to request sent at start with
// what the secret held. A rotated secret may still answer its old value
// from a cache until a TTL after the rotation, and never after.
func (v *rotationCheck) check(env int, a answer, start time.Time) (checked, wrong int) {
	f := v.f
	done := v.done.Load()
	afterBound := done != 0 && start.Sub(time.Unix(0, done)) >= v.bound
	if afterBound {
		v.afterBound.Add(1)
	}
	for k, j := range window(env, f.cfg.secrets, len(f.pool.arns)) {
		checked++
		got := a.values[fieldName(k, f.cfg.secrets)]
		if !v.rotated[j] {
			if got != f.pool.initial[j] {
				wrong++
			}
			continue
		}
		oldV, newV := f.pool.initial[j], f.pool.rotation[j]
		switch got {
		case newV:
			if v.start.Load() == 0 {
				wrong++ // a value before it was written
			}
		case oldV:
			if done == 0 || !start.After(time.Unix(0, done)) {
				continue
			}
			v.oldAfterRotation.Add(1)
			since := int64(start.Sub(time.Unix(0, done)))
			for {
				cur := v.lastOld.Load()
				if since <= cur || v.lastOld.CompareAndSwap(cur, since) {
					break
				}
			}
			if afterBound {
				v.oldAfterBound.Add(1)
			}
		default:
			wrong++
		}
	}
	return checked, wrong
}

// sleepUntil waits until t; it reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
