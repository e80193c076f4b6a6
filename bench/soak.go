package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/reliability"
)

// soakPart is one reliability scenario run for a share of the soak time.
type soakPart struct {
	name  string
	share float64
	run   func(ctx context.Context, cfg *config, d time.Duration) ([]string, error)
}

var soakParts = []soakPart{
	{"engine fault storm (cloudsim, 30% random faults)", 0.2, soakEngineStorm},
	{"intake held load (SQLite, concurrency 16)", 0.2, soakIntake},
	{"crash storm (service subprocess SIGKILLed and restarted)", 0.35, soakCrashStorm},
	{"service fault storm (service subprocess, 30% Cloud faults)", 0.25, soakServiceFaults},
}

// runSoak runs each scenario for its share of d and reports one table row
// per scenario.
func runSoak(ctx context.Context, cfg *config, d time.Duration, out io.Writer) error {
	start := time.Now()
	var rows [][]string
	failed := 0
	_, bin, cleanup, err := buildTemp(ctx, cfg, "hasura-preview-soak-", "./cmd/webhook", "hasura-preview-webhook")
	if err != nil {
		return err
	}
	defer cleanup()
	soakBin = bin
	for _, p := range soakParts {
		share := time.Duration(float64(d) * p.share)
		fmt.Fprintf(os.Stderr, "bench: soak %s for %s\n", p.name, share)
		lines, err := p.run(ctx, cfg, share)
		result := "nothing lost"
		if err != nil {
			result = "**FAILED:** " + err.Error()
			failed++
		}
		rows = append(rows, []string{p.name, share.Round(time.Second).String(), strings.Join(lines, "<br>"), result})
	}
	fmt.Fprintln(out, "## Soak")
	fmt.Fprintln(out)
	table(out, []string{"Scenario", "Time", "What ran", "Result"}, rows)
	fmt.Fprintf(out, "_Total wall time: %s._\n", time.Since(start).Round(time.Second))
	if failed > 0 {
		return fmt.Errorf("%d soak scenarios failed", failed)
	}
	return nil
}

// soakEngineStorm runs engine fault storms with fresh seeds until d is up.
func soakEngineStorm(ctx context.Context, _ *config, d time.Duration) ([]string, error) {
	deadline := time.Now().Add(d)
	total := reliability.StormReport{}
	storms := 0
	var problems []string
	for seed := int64(1000); time.Until(deadline) > 5*time.Second && ctx.Err() == nil; seed++ {
		rep, err := reliability.EngineFaultStorm(ctx, reliability.EngineStormConfig{PRs: 60, Pushes: 4, Rate: 0.3,
			Seed: seed, Concurrency: 8, Timeout: min(time.Until(deadline), 5*time.Minute)})
		if err != nil {
			return nil, err
		}
		storms++
		total.PRs += rep.PRs
		total.Builds += rep.Builds
		total.Creates += rep.Creates
		total.Requests += rep.Requests
		total.Faulted += rep.Faulted
		total.ClosedDuringBuild += rep.ClosedDuringBuild
		total.Orphans = append(total.Orphans, rep.Orphans...)
		total.Leaks = append(total.Leaks, rep.Leaks...)
		for _, p := range rep.Problems {
			problems = append(problems, fmt.Sprintf("seed %d: %s", seed, p))
		}
	}
	total.Problems = problems
	lines := []string{fmt.Sprintf("%d storms: %d PR lifecycles, %d builds, %d creates executed, %d Cloud requests of which %d faulted, %d PRs closed mid-build, %d orphans, %d secret leaks",
		storms, total.PRs, total.Builds, total.Creates, total.Requests, total.Faulted, total.ClosedDuringBuild,
		len(total.Orphans), len(total.Leaks))}
	if !total.OK() {
		return lines, fmt.Errorf("%s", strings.Join(append(problems, fmt.Sprint(total.Orphans), fmt.Sprint(total.Leaks)), "; "))
	}
	return lines, nil
}

// soakIntake holds signed deliveries at concurrency 16 against one SQLite
// intake until d is up, then counts every accepted delivery in the store.
func soakIntake(ctx context.Context, cfg *config, d time.Duration) ([]string, error) {
	env, err := openIntake(ctx, "sqlite", "")
	if err != nil {
		return nil, err
	}
	defer env.close()
	deadline := time.Now().Add(d)
	var sent []delivery
	var outs []outcome
	var lat latencies
	var elapsed time.Duration
	for batch := 0; time.Until(deadline) > time.Second && ctx.Err() == nil; batch++ {
		ds, err := makeDeliveries(intakeSecret, 2000, 1_000_000+batch*3000, 10, 50)
		if err != nil {
			return nil, err
		}
		r := load(ctx, env.srv.URL+"/webhook", ds, 16, time.Until(deadline))
		sent = append(sent, ds...)
		outs = append(outs, r.outcomes...)
		lat = append(lat, r.lat()...)
		elapsed += r.elapsed
	}
	counted, ok, err := env.check(ctx, sent, outs)
	if err != nil {
		return nil, err
	}
	lines := []string{fmt.Sprintf("%d deliveries answered in %s (%.0f/s), p50 %s, p99 %s, max %s; %s", len(outs),
		elapsed.Round(time.Second), float64(len(outs))/elapsed.Seconds(), ms(lat.quantile(0.5)), ms(lat.quantile(0.99)),
		ms(lat.quantile(1)), counted)}
	if !ok {
		return lines, fmt.Errorf("deliveries lost or doubled: %s", counted)
	}
	return lines, nil
}

// soakBin is the service binary the service storms run.
var soakBin string

// soakService runs service storms of 50 lifecycles with fresh seeds until
// d is up.
func soakService(ctx context.Context, d time.Duration, kills int, faults float64,
	storm func(context.Context, reliability.ServiceStormConfig) (*reliability.ServiceReport, error)) ([]string, error) {
	deadline := time.Now().Add(d)
	var lines, problems []string
	rounds, lifecycles, events, killed, creates, leaks, tokens := 0, 0, 0, 0, 0, 0, 0
	var requests, faulted int64
	var worstConverge time.Duration
	var peakRSS int64
	// A round of 50 stepwise lifecycles needs a minute or two; the first
	// always runs.
	for seed := int64(1); (seed == 1 || time.Until(deadline) > 90*time.Second) && ctx.Err() == nil; seed++ {
		dir, err := os.MkdirTemp("", "hasura-preview-soak-round-")
		if err != nil {
			return nil, err
		}
		rep, err := storm(ctx, reliability.ServiceStormConfig{Bin: soakBin, Dir: dir, Lifecycles: 50, Kills: kills,
			FaultRate: faults, Seed: seed, Timeout: max(min(time.Until(deadline), 5*time.Minute), 90*time.Second)})
		os.RemoveAll(dir)
		if err != nil {
			return nil, err
		}
		rounds++
		lifecycles += rep.Lifecycles
		events += rep.Events
		killed += rep.Kills
		creates += rep.Creates
		requests += rep.Requests
		faulted += rep.Faulted
		leaks += len(rep.Leaks)
		tokens += rep.InstallationTokens
		worstConverge = max(worstConverge, rep.Converged)
		peakRSS = max(peakRSS, rep.PeakRSS)
		for _, p := range rep.Problems {
			problems = append(problems, fmt.Sprintf("seed %d: %s", seed, p))
		}
		for _, l := range rep.Leaks {
			problems = append(problems, fmt.Sprintf("seed %d: %s", seed, l))
		}
	}
	lines = append(lines, fmt.Sprintf("%d rounds: %d PR lifecycles, %d events, %d SIGKILLs, %d creates, %d Cloud requests (%d faulted), slowest convergence %s after the last event, peak RSS %.1f MiB, %d problems, %d secret leaks, %d tokens in logs",
		rounds, lifecycles, events, killed, creates, requests, faulted, worstConverge.Round(100*time.Millisecond),
		float64(peakRSS)/(1<<20), len(problems), leaks, tokens))
	if len(problems) > 0 || tokens > 0 {
		return lines, fmt.Errorf("%s", strings.Join(problems[:min(len(problems), 10)], "; "))
	}
	return lines, nil
}

func soakCrashStorm(ctx context.Context, _ *config, d time.Duration) ([]string, error) {
	return soakService(ctx, d, 8, 0, reliability.CrashStorm)
}

func soakServiceFaults(ctx context.Context, _ *config, d time.Duration) ([]string, error) {
	return soakService(ctx, d, 0, 0.3, reliability.ServiceFaultStorm)
}
