package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// ServiceStormConfig shapes a storm against the service subprocess. Zero
// fields take the defaults in brackets.
type ServiceStormConfig struct {
	// Bin is the built service (Build of ./cmd/webhook) and Dir a scratch directory;
	// both required.
	Bin, Dir string
	// DatabaseURL overrides the SQLite file in Dir.
	DatabaseURL string
	// Lifecycles is the number of PRs [10].
	Lifecycles int
	// Kills is how many times the service is SIGKILLed (crash storm) [3].
	Kills int
	// FaultRate gives Cloud requests random faults (fault storm) [0].
	FaultRate float64
	Seed      int64
	// Timeout bounds the storm in wall time [3m].
	Timeout time.Duration
}

func (c *ServiceStormConfig) defaults() {
	if c.Lifecycles <= 0 {
		c.Lifecycles = 10
	}
	if c.Kills < 0 {
		c.Kills = 0
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Minute
	}
}

// ServiceReport is what a service storm did and found.
type ServiceReport struct {
	Lifecycles, Events, Kills, Starts int
	// Open and Closed are the PRs by their final desired state.
	Open, Closed []int
	// Creates, Requests and Faulted count Cloud calls.
	Creates            int
	Requests, Faulted  int64
	Problems           []string
	Leaks              []Leak
	Converged, Elapsed time.Duration
	PeakRSS            int64
	InstallationTokens int // token-shaped strings found in the logs
}

// OK reports whether the storm found nothing wrong.
func (r *ServiceReport) OK() bool {
	return len(r.Problems) == 0 && len(r.Leaks) == 0 && r.InstallationTokens == 0
}

// String summarises the report in one line.
func (r *ServiceReport) String() string {
	return fmt.Sprintf("%d lifecycles (%d open, %d closed at the end), %d events, %d kills, %d starts, %d creates, %d Cloud requests (%d faulted), converged %s after the last event, %d problems, %d leaks, %d tokens in logs, in %s",
		r.Lifecycles, len(r.Open), len(r.Closed), r.Events, r.Kills, r.Starts, r.Creates, r.Requests, r.Faulted,
		r.Converged.Round(10*time.Millisecond), len(r.Problems), len(r.Leaks), r.InstallationTokens, r.Elapsed.Round(time.Second))
}

// CrashStorm runs PR lifecycles (open, pushes, some closed, some reopened)
// through the service subprocess while it is SIGKILLed at random moments
// and restarted. Afterwards every PR must reach its desired state (open:
// up at its last head with one comment saying so; closed: no app), with no
// orphan app in cloudsim, no PR with a second comment, and no secret in the
// service's logs.
func CrashStorm(ctx context.Context, cfg ServiceStormConfig) (*ServiceReport, error) {
	cfg.defaults()
	return runServiceStorm(ctx, cfg, false)
}

// ServiceFaultStorm runs PR lifecycles through the service with Cloud
// faults (cfg.FaultRate, 0.3 if unset) and no kills, one step at a time per
// PR (open, wait until up, push, wait until up, close, wait until gone), so
// that it can also check exactly one create per build.
func ServiceFaultStorm(ctx context.Context, cfg ServiceStormConfig) (*ServiceReport, error) {
	cfg.defaults()
	cfg.Kills = 0
	if cfg.FaultRate == 0 {
		cfg.FaultRate = 0.3
	}
	return runServiceStorm(ctx, cfg, true)
}

func runServiceStorm(ctx context.Context, cfg ServiceStormConfig, stepwise bool) (*ServiceReport, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	rep := &ServiceReport{Lifecycles: cfg.Lifecycles}
	var statMu sync.Mutex
	w, err := NewWorld(WorldOptions{Bin: cfg.Bin, Dir: cfg.Dir, DatabaseURL: cfg.DatabaseURL, PRs: cfg.Lifecycles,
		FaultRate: cfg.FaultRate, Seed: cfg.Seed, OnCloudRequest: func(r cloudsim.Record) {
			statMu.Lock()
			rep.Requests++
			if r.Fault != "" {
				rep.Faulted++
			}
			statMu.Unlock()
		}})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xc7a5))
	var mu sync.Mutex
	var errs []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Sprintf(format, args...))
	}

	// Each PR's script, drawn up front so the run is reproducible.
	type step struct {
		action string
		pause  time.Duration
	}
	scripts := make([][]step, cfg.Lifecycles+1)
	for n := 1; n <= cfg.Lifecycles; n++ {
		s := []step{{"opened", time.Duration(rng.IntN(400)) * time.Millisecond}}
		for range 1 + rng.IntN(2) {
			s = append(s, step{"synchronize", time.Duration(rng.IntN(1500)) * time.Millisecond})
		}
		switch n % 3 {
		case 1: // closed
			s = append(s, step{"closed", time.Duration(rng.IntN(1500)) * time.Millisecond})
		case 2: // closed, reopened, pushed, closed again
			s = append(s, step{"closed", time.Duration(rng.IntN(800)) * time.Millisecond},
				step{"reopened", time.Duration(rng.IntN(800)) * time.Millisecond},
				step{"synchronize", time.Duration(rng.IntN(800)) * time.Millisecond},
				step{"closed", time.Duration(rng.IntN(800)) * time.Millisecond})
		}
		scripts[n] = s
		if s[len(s)-1].action == "closed" {
			rep.Closed = append(rep.Closed, n)
		} else {
			rep.Open = append(rep.Open, n)
		}
	}
	killTimes := make([]time.Duration, cfg.Kills)
	for i := range killTimes {
		killTimes[i] = time.Duration(300+rng.IntN(6000)) * time.Millisecond
	}
	sort.Slice(killTimes, func(i, j int) bool { return killTimes[i] < killTimes[j] })

	var wg sync.WaitGroup
	for n := 1; n <= cfg.Lifecycles; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range scripts[n] {
				if clock.Sleep(ctx, s.pause) != nil {
					return
				}
				if err := w.event(ctx, n, s.action); err != nil {
					fail("PR %d: %v", n, err)
					return
				}
				statMu.Lock()
				rep.Events++
				statMu.Unlock()
				if stepwise {
					want := w.Up
					if s.action == "closed" {
						want = w.Gone
					}
					if !waitFor(ctx, 2*time.Minute, func() bool { return want(n) }) {
						bound := "2 minutes"
						if ctx.Err() != nil {
							bound = fmt.Sprintf("the storm's time bound (%s)", cfg.Timeout)
						}
						fail("PR %d: not settled after %s within %s (%s)", n, s.action, bound, w.describe(n))
						return
					}
				}
			}
		}()
	}
	// The killer: SIGKILL at the drawn moments, restart after a short while.
	killStart := time.Now()
	for _, at := range killTimes {
		if clock.Sleep(ctx, time.Until(killStart.Add(at))) != nil {
			break
		}
		if err := w.Kill(); err != nil {
			fail("kill: %v", err)
		}
		rep.Kills++
		_ = clock.Sleep(ctx, time.Duration(50+rng.IntN(700))*time.Millisecond)
		if err := w.Start(ctx); err != nil {
			fail("restart: %v", err)
			break
		}
	}
	wg.Wait()
	lastEvent := time.Now()

	settled := func() bool {
		for _, n := range rep.Open {
			if !w.Up(n) {
				return false
			}
		}
		for _, n := range rep.Closed {
			if !w.Gone(n) {
				return false
			}
		}
		return true
	}
	if waitFor(ctx, time.Until(start.Add(cfg.Timeout))-10*time.Second, settled) {
		rep.Converged = time.Since(lastEvent)
		// Let anything still in flight land before judging duplicates.
		_ = clock.Sleep(ctx, 2*time.Second)
	}
	rep.Problems = append(errs, w.Problems(rep.Open, rep.Closed)...)
	rep.Creates = w.Cloud.Count(cloud.OpCreatePreviewApp)
	if stepwise {
		for n := 1; n <= cfg.Lifecycles; n++ {
			builds := 0
			for _, s := range scripts[n] {
				if s.action != "closed" {
					builds++
				}
			}
			creations := 0
			for _, j := range w.Cloud.Jobs(w.AppName(n)) {
				if j.Kind == cloudsim.KindCreation {
					creations++
				}
			}
			if creations != builds {
				rep.Problems = append(rep.Problems, fmt.Sprintf("PR %d: %d creates for %d builds", n, creations, builds))
			}
		}
	}
	rep.PeakRSS = w.PeakRSS()
	if err := w.Stop(); err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	rep.Starts = w.Starts()
	logs := w.Logs()
	if rep.Leaks, err = ScanSecrets(w.Secrets(), map[string]string{"service logs": logs}); err != nil {
		return nil, err
	}
	rep.InstallationTokens = len(InstallationTokens(logs))
	for n := 1; n <= cfg.Lifecycles; n++ {
		for i, c := range w.botComments(n) {
			leaks, _ := ScanSecrets(w.Secrets(), map[string]string{fmt.Sprintf("comment %d on PR %d", i, n): c.Body})
			rep.Leaks = append(rep.Leaks, leaks...)
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// waitFor polls cond every 50 ms for at most d.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || clock.Sleep(ctx, 50*time.Millisecond) != nil {
			return false
		}
	}
}
