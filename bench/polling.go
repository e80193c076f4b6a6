package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const pollPAT = "hcpat_BENCH_polling_4c1e"

// officialInterval is how often the official action reads a job.
const officialInterval = 2 * time.Second

// pollWorld is cloudsim on a manual clock behind a real client whose every
// wait moves that clock: a 10-minute build takes milliseconds.
type pollWorld struct {
	clock  *clock.Manual
	sim    *cloudsim.Server
	srv    *server
	client *cloud.Client
	calls  atomic.Int64 // GraphQL requests, faulted ones included
}

func newPollWorld(total time.Duration) (*pollWorld, error) {
	w := &pollWorld{clock: clock.NewManual(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	// The build is eight equal slices: the creation job, then seven
	// deployment tasks.
	sim, err := cloudsim.New(cloudsim.Options{PAT: pollPAT, Clock: w.clock, Seed: 11,
		CreationDuration: total / 8, TaskDuration: total / 8})
	if err != nil {
		return nil, err
	}
	w.sim = sim
	counted := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cloudsim.DefaultPath {
			w.calls.Add(1)
		}
		sim.ServeHTTP(rw, r)
	})
	if w.srv, err = serve(counted); err != nil {
		return nil, err
	}
	w.client, err = cloud.New(pollPAT, cloud.WithEndpoint(w.srv.URL+cloudsim.DefaultPath), cloud.WithSleep(w.clock.Sleep))
	if err != nil {
		w.srv.Close()
		return nil, err
	}
	return w, nil
}

// finishedAt is when the Cloud finished the deployment job: its last event.
func (w *pollWorld) finishedAt(jobID string) (time.Time, error) {
	j, ok := w.sim.Job(jobID)
	if !ok || j.Status != cloud.JobSuccess {
		return time.Time{}, fmt.Errorf("deployment job %s is not a success: %+v", jobID, j.Status)
	}
	var end time.Time
	for _, t := range j.Tasks {
		for _, e := range t.Events {
			if e.At.After(end) {
				end = e.At
			}
		}
	}
	return end, nil
}

func pollSpec(name string) preview.Spec {
	return preview.Spec{Name: name, Owner: "acme", Repo: "shop", Branch: "feature", Directory: "hasura",
		Region: "us-east-2", Plan: "cloud_free", GitHubToken: "ghs_BENCHbranchreader"}
}

// phaseCounter tells the engine's reads of the creation job from those of
// the deployment job.
type phaseCounter struct {
	preview.CloudAPI
	creationID              string
	creationReads, depReads int
}

// CreateGitHubPreviewApp remembers the creation job, to tell its reads apart.
func (p *phaseCounter) CreateGitHubPreviewApp(ctx context.Context, in cloud.PreviewApp) (string, error) {
	id, err := p.CloudAPI.CreateGitHubPreviewApp(ctx, in)
	p.creationID = id
	return id, err
}

// Job counts a read of the creation or the deployment job.
func (p *phaseCounter) Job(ctx context.Context, id string) (*cloud.Job, error) {
	if id == p.creationID {
		p.creationReads++
	} else {
		p.depReads++
	}
	return p.CloudAPI.Job(ctx, id)
}

// ours builds one preview with the engine and its default policy (jitter
// included) and returns the calls it made and how late it noticed the end.
func (w *pollWorld) ours(ctx context.Context, name string, pc *phaseCounter) (int64, time.Duration, error) {
	pc.CloudAPI = w.client
	e := &preview.Engine{Cloud: pc, Now: w.clock.Now, Sleep: w.clock.Sleep, Poll: preview.DefaultPollPolicy()}
	before := w.calls.Load()
	res, err := e.Ensure(ctx, pollSpec(name), nil)
	if err != nil {
		return 0, 0, err
	}
	if res.Status != preview.StatusSuccess {
		return 0, 0, fmt.Errorf("%s ended %s: %s", name, res.Status, res.Message)
	}
	end, err := w.finishedAt(res.DeploymentJobID)
	if err != nil {
		return 0, 0, err
	}
	return w.calls.Load() - before, res.Finished.Sub(end), nil
}

// official replays the official action's policy with the same client: one
// create, then a read of the current job every 2 s until it is done.
func (w *pollWorld) official(ctx context.Context, name string) (int64, time.Duration, error) {
	before := w.calls.Load()
	id, err := w.client.CreateGitHubPreviewApp(ctx, cloud.PreviewApp{GitHubToken: "ghs_BENCHbranchreader", Owner: "acme",
		Repo: "shop", Branch: "feature", Directory: "hasura", Name: name, Region: "us-east-2", Plan: "cloud_free"})
	if err != nil {
		return 0, 0, err
	}
	deploying := false
	for range 100000 { // bound: 55 hours of 2 s polls
		if err := w.clock.Sleep(ctx, officialInterval); err != nil {
			return 0, 0, err
		}
		job, err := w.client.Job(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		if !job.Done() {
			continue
		}
		if job.Status != cloud.JobSuccess {
			return 0, 0, fmt.Errorf("%s: job %s ended %s", name, id, job.Status)
		}
		if !deploying {
			cr, err := job.CreationResult()
			if err != nil {
				return 0, 0, err
			}
			id, deploying = cr.GitHubDeploymentJobID, true
			continue
		}
		end, err := w.finishedAt(id)
		if err != nil {
			return 0, 0, err
		}
		return w.calls.Load() - before, w.clock.Now().Sub(end), nil
	}
	return 0, 0, errors.New("the official loop did not finish")
}

func runPolling(ctx context.Context, cfg *config, out io.Writer) error {
	runs := map[bool]int{true: 10, false: 50}[cfg.quick]
	rng := rand.New(rand.NewPCG(3, 5))
	var rows [][]string
	for _, total := range []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute} {
		w, err := newPollWorld(total)
		if err != nil {
			return err
		}
		var ourCalls, offCalls []int64
		var ourDelay, offDelay latencies
		var creationReads, depReads int
		for i := range runs {
			// Each run's slices differ by up to ±10% (the same for both
			// policies), so that job ends do not fall on the official 2 s grid.
			f := 0.9 + 0.2*rng.Float64()
			slice := time.Duration(f * float64(total/8)).Round(time.Millisecond)
			w.sim.SetDurations(fmt.Sprintf("ours-%d", i), slice, slice)
			w.sim.SetDurations(fmt.Sprintf("official-%d", i), slice, slice)
			pc := &phaseCounter{}
			c, d, err := w.ours(ctx, fmt.Sprintf("ours-%d", i), pc)
			creationReads += pc.creationReads
			depReads += pc.depReads
			if err != nil {
				w.srv.Close()
				return err
			}
			ourCalls, ourDelay = append(ourCalls, c), append(ourDelay, d)
			c, d, err = w.official(ctx, fmt.Sprintf("official-%d", i))
			if err != nil {
				w.srv.Close()
				return err
			}
			offCalls, offDelay = append(offCalls, c), append(offDelay, d)
		}
		w.srv.Close()
		oc, fc := meanInt(ourCalls), meanInt(offCalls)
		delayLimit := max(3*time.Second, total/10)
		target := "–"
		if total == 10*time.Minute {
			callsOK := float64(slices.Max(ourCalls)) <= fc/10
			delayOK := ourDelay.quantile(1) <= delayLimit
			target = fmt.Sprintf("calls ≤ %.0f: %s; delay ≤ %s: %s", fc/10, verdict(callsOK), secs(delayLimit), verdict(delayOK))
		}
		rows = append(rows, []string{total.String(),
			fmt.Sprintf("%.1f (%d–%d)", oc, slices.Min(ourCalls), slices.Max(ourCalls)),
			fmt.Sprintf("1 + 1 + %.1f + %.1f", float64(creationReads)/float64(runs), float64(depReads)/float64(runs)),
			fmt.Sprintf("%.1f", fc), ratio(oc, fc),
			fmt.Sprintf("%s / %s", secs(ourDelay.mean()), secs(ourDelay.quantile(1))),
			fmt.Sprintf("%s / %s", secs(offDelay.mean()), secs(offDelay.quantile(1))),
			target})
	}
	fmt.Fprintln(out, "## 2. Polling economy")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "cloudsim on a manual clock (the engine's and the client's sleeps advance it), builds split in eight equal slices (creation job + seven deployment tasks), each run's slices scaled by a seeded factor in [0.9, 1.1] so job ends do not fall on the 2 s grid. %d previews per length with the default PollPolicy (jitter on), beside the official action's policy (create, then `jobs_by_pk` every 2 s until done) replayed with the same client and simulator. Calls = every GraphQL request to the Cloud for one preview; delay = engine noticing success − last event of the deployment job.\n\n", runs)
	table(out, []string{"Build length", "Calls/preview, ours (min–max)", "Ours: create + project + creation reads + deployment reads", "Calls/preview, official", "Ratio",
		"Delay ours, mean / max", "Delay official, mean / max", "Target at 10 min"}, rows)
	return nil
}

func meanInt(xs []int64) float64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return float64(s) / float64(max(len(xs), 1))
}
