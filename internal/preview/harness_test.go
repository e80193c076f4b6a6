package preview

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

const simPAT = "hcpat-engine-tests-5d2c"

var simStart = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// deploymentTasks is the deployment job's task list as the simulator (and
// the Cloud) runs it.
var deploymentTasks = []string{"gh-validation", "parse-metadata", "parse-migration", "apply-metadata",
	"apply-migration", "reload-metadata", "check-healthz"}

// harness is cloudsim on loopback, a real client, and an engine whose
// clock is the simulator's: every sleep, the engine's and the client's,
// moves the clock instead of waiting, so a 20-minute run takes
// milliseconds.
type harness struct {
	t      *testing.T
	sim    *cloudsim.Server
	clock  *clock.Manual
	client *cloud.Client
	url    string // the simulator's GraphQL endpoint
	engine *Engine

	mu    sync.Mutex
	waits []time.Duration // the engine's sleeps
}

// newHarness starts a simulator whose creation job takes 30 s and each
// deployment task 20 s unless mutate says otherwise.
func newHarness(t *testing.T, mutate func(*cloudsim.Options)) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock.NewManual(simStart)}
	h.sim, h.url = cloudsim.NewTestServer(t, cloudsim.Options{PAT: simPAT, Clock: h.clock, Seed: 7,
		CreationDuration: 30 * time.Second, TaskDuration: 20 * time.Second}, mutate)
	var err error
	h.client, err = cloud.New(simPAT, cloud.WithEndpoint(h.url),
		cloud.WithSleep(h.clock.Sleep), cloud.WithRetry(6, steadyBackOff))
	if err != nil {
		t.Fatal(err)
	}
	h.engine = &Engine{Cloud: h.client, Now: h.clock.Now, Sleep: h.sleep, Poll: steadyPoll()}
	return h
}

// built runs Ensure for the test spec named name and wants a success.
func (h *harness) built(name string) Result {
	h.t.Helper()
	res, err := h.engine.Ensure(context.Background(), testSpec(name), nil)
	if err != nil || res.Status != StatusSuccess {
		h.t.Fatalf("Ensure = %s, %v", res.Status, err)
	}
	return res
}

func (h *harness) sleep(ctx context.Context, d time.Duration) error {
	h.mu.Lock()
	h.waits = append(h.waits, d)
	h.mu.Unlock()
	return h.clock.Sleep(ctx, d)
}

// steadyPoll is the default policy without jitter, so runs repeat exactly.
func steadyPoll() PollPolicy {
	p := DefaultPollPolicy()
	p.Jitter = -1
	return p
}

// steadyBackOff is the client's default backoff without jitter.
func steadyBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.RandomizationFactor, b.MaxElapsedTime = time.Second, 30*time.Second, 0, 0
	return b
}

func testSpec(name string) Spec {
	return Spec{
		Name: name, Owner: "acme", Repo: "shop", Branch: "feature-x", Directory: "hasura",
		Region: "us-east-2", Plan: "cloud_free", GitHubToken: "ghp_branchReader",
		Env: []EnvVar{{Key: "HASURA_GRAPHQL_ADMIN_SECRET", Value: "s3cret"}},
	}
}

// progressLog records every progress callback.
type progressLog struct{ seen []Result }

func (p *progressLog) record(r Result) {
	r.Tasks = slices.Clone(r.Tasks)
	p.seen = append(p.seen, r)
}

// jobRecorder remembers every job the engine read.
type jobRecorder struct {
	CloudAPI
	jobs []*cloud.Job
}

func (r *jobRecorder) Job(ctx context.Context, id string) (*cloud.Job, error) {
	j, err := r.CloudAPI.Job(ctx, id)
	if err == nil {
		r.jobs = append(r.jobs, j)
	}
	return j, err
}

// apiStates is "name:state ..." for a job's tasks as the API shows them,
// derived here independently of the engine.
func apiStates(j *cloud.Job) string {
	var parts []string
	for _, t := range j.Tasks {
		state := TaskPending
		if ev := t.Last(); ev != nil {
			state = map[string]string{cloud.EventCreated: TaskRunning, cloud.EventSuccess: TaskSuccess,
				cloud.EventFailed: TaskFailed}[ev.EventType]
		}
		parts = append(parts, t.Name+":"+state)
	}
	return strings.Join(parts, " ")
}

// resultStates is the same for one job of a Result.
func resultStates(r Result, job string) string {
	var parts []string
	for _, t := range r.Tasks {
		if t.Job == job {
			parts = append(parts, t.Name+":"+t.State)
		}
	}
	return strings.Join(parts, " ")
}

// failingJobs answers Job with err after the first n reads.
type failingJobs struct {
	CloudAPI
	n   int
	err error
}

func (f *failingJobs) Job(ctx context.Context, id string) (*cloud.Job, error) {
	if f.n--; f.n < 0 {
		return nil, f.err
	}
	return f.CloudAPI.Job(ctx, id)
}

// fakeDatabases records calls; real PostgreSQL is pgdb's business.
type fakeDatabases struct {
	env     []EnvVar
	err     error
	dropErr error
	ensured []string
	dropped []string
}

func (f *fakeDatabases) Ensure(_ context.Context, app string) ([]EnvVar, error) {
	f.ensured = append(f.ensured, app)
	return f.env, f.err
}

func (f *fakeDatabases) Drop(_ context.Context, app string) error {
	f.dropped = append(f.dropped, app)
	return f.dropErr
}

func (f *fakeDatabases) EnvKeys() []string { return EnvKeys(f.env) }
