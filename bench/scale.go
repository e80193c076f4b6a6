package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/reliability"
)

// Scale targets and settings.
const (
	scaleRSSTarget = 256 << 20
	// scaleJob is the simulated build (60 s in the Cloud, scaled down
	// twenty times so that a run fits in minutes).
	scaleJob       = 3 * time.Second
	scaleRealJob   = 60 * time.Second
	scaleRateLimit = 100.0
	scaleRateBurst = 20
	scaleWorkers   = 10
)

// rateMeter keeps the arrival time of every Cloud request.
type rateMeter struct {
	mu    sync.Mutex
	times []time.Time
}

func (m *rateMeter) record(cloudsim.Record) {
	now := time.Now()
	m.mu.Lock()
	m.times = append(m.times, now)
	m.mu.Unlock()
}

// peak returns the most requests in any window of length w, and the total.
func (m *rateMeter) peak(w time.Duration) (int, int) {
	m.mu.Lock()
	ts := append([]time.Time(nil), m.times...)
	m.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best, len(ts)
}

func runScale(ctx context.Context, cfg *config, out io.Writer) error {
	prs := map[bool]int{true: 100, false: 1000}[cfg.quick]
	// GitHub allows an installation 5,000 requests an hour (ghsim too): a
	// thousand PRs of one installation would measure that limit, not the
	// service. A hundred PRs per installation stays inside it.
	repos := max(prs/100, 1)
	bound := map[bool]time.Duration{true: 90 * time.Second, false: 8 * time.Minute}[cfg.quick]
	dir, bin, cleanup, err := buildTemp(ctx, cfg, "hasura-preview-bench-scale-", "./cmd/webhook", "hasura-preview-webhook")
	if err != nil {
		return err
	}
	defer cleanup()
	meter := &rateMeter{}
	slice := scaleJob / 8
	w, err := reliability.NewWorld(reliability.WorldOptions{Bin: bin, Dir: dir, PRs: prs, Repos: repos,
		CreationDuration: slice, TaskDuration: slice, Workers: scaleWorkers,
		CloudRateLimit: scaleRateLimit, CloudRateBurst: scaleRateBurst, OnCloudRequest: meter.record,
		Env: map[string]string{"LOG_LEVEL": "warn"}})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Start(ctx); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	idleRSS := w.PeakRSS()

	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var sendErr atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > prs || ctx.Err() != nil {
					return
				}
				if err := w.Open(ctx, n); err != nil {
					sendErr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := sendErr.Load().(error); err != nil {
		return fmt.Errorf("delivering: %w", err)
	}
	delivered := time.Since(start)

	upAt := make([]time.Duration, prs+1)
	remaining := prs
	for remaining > 0 && ctx.Err() == nil {
		for n := 1; n <= prs; n++ {
			if upAt[n] == 0 && w.Up(n) {
				upAt[n] = time.Since(start)
				remaining--
			}
		}
		if remaining > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	allUp := time.Since(start)
	peakRSS := w.PeakRSS()
	peak1s, total := meter.peak(time.Second)
	ghRequests := w.GitHub.Stats().Requests
	if err := w.Stop(); err != nil {
		return err
	}
	var ups latencies
	for _, d := range upAt[1:] {
		if d > 0 {
			ups = append(ups, d)
		}
	}
	fmt.Fprintln(out, "## 3. Scale: many PRs at once on one replica")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "The service binary (built as the Dockerfile does) as a subprocess on SQLite, WORKERS=%d, CLOUD_RATE_LIMIT=%g/s, CLOUD_RATE_BURST=%d, default poll policy; cloudsim and ghsim in the bench process on loopback. %d `pull_request.opened` deliveries sent at once (16 at a time), spread over %d repositories of %d installations (100 PRs each: GitHub's 5,000 requests/hour per installation, which ghsim enforces, would otherwise be what is measured). Simulated builds are **%s scaled down to %s** (creation job + 7 tasks of %s each). RSS is VmHWM of the service process from /proc.\n\n",
		scaleWorkers, scaleRateLimit, scaleRateBurst, prs, repos, repos, scaleRealJob, scaleJob, slice)
	if remaining > 0 {
		fmt.Fprintf(out, "**%d of %d previews were not up when the %s bound ran out.**\n\n", remaining, prs, bound)
	}
	// The floor: every Cloud request at the configured rate.
	floor := time.Duration(float64(total) / scaleRateLimit * float64(time.Second))
	rate := float64(total) / allUp.Seconds()
	rows := [][]string{
		{"PRs up / opened", fmt.Sprintf("%d / %d", prs-remaining, prs), "–", "–"},
		{"all deliveries answered", secs(delivered), "–", "–"},
		{"time until all up", secs(allUp), fmt.Sprintf("rate-limit floor (%d requests at %g/s): %s", total, scaleRateLimit, secs(floor)),
			ratio(allUp.Seconds(), floor.Seconds())},
		{"time to up per PR, p50 / p99", fmt.Sprintf("%s / %s", secs(ups.quantile(0.5)), secs(ups.quantile(0.99))),
			fmt.Sprintf("one build: %s", secs(scaleJob)), ratio(ups.quantile(0.5).Seconds(), scaleJob.Seconds())},
		{"Cloud requests per preview", fmt.Sprintf("%.1f", float64(total)/float64(prs)), "–", "–"},
		{"GitHub requests per preview", fmt.Sprintf("%.1f", float64(ghRequests)/float64(prs)),
			"GitHub's 5,000/h per installation", fmt.Sprintf("≈ %.0f previews/hour/installation", 5000/(float64(ghRequests)/float64(prs)))},
		{"Cloud request rate, mean / peak 1-s window", fmt.Sprintf("%.1f/s / %d", rate, peak1s),
			fmt.Sprintf("limit %g/s + burst %d = %d", scaleRateLimit, scaleRateBurst, int(scaleRateLimit)+scaleRateBurst),
			fmt.Sprintf("%s (%s)", ratio(float64(peak1s), scaleRateLimit+scaleRateBurst), verdict(peak1s <= int(scaleRateLimit)+scaleRateBurst))},
		{"peak RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(peakRSS)/(1<<20)), fmt.Sprintf("idle after start: %.1f MiB", float64(idleRSS)/(1<<20)),
			fmt.Sprintf("%s (< 256 MiB: %s)", ratio(float64(peakRSS), float64(idleRSS)), verdict(peakRSS < scaleRSSTarget))},
	}
	table(out, []string{"Measure", "Value", "Baseline (same run)", "Ratio / target"}, rows)
	if remaining > 0 {
		return fmt.Errorf("%d previews not up within %s", remaining, bound)
	}
	return nil
}
