package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// testPAT is distinctive so that a search for it in output cannot match
// anything else by accident.
const testPAT = "hcpat-Xq7Rz9Lw2Vb4-never-print-me"

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// unknownID is a well-formed uuid that names nothing.
const unknownID = "00000000-0000-4000-8000-000000000000"

// env is a simulator on loopback and a client pointed at it.
type env struct {
	t      *testing.T
	sim    *cloudsim.Server
	clock  *clock.Manual
	url    string
	client *cloud.Client
	sleeps *sleepRecorder
}

// newEnv starts cloudsim (manual clock at t0, default durations unless
// mutate changes them) and a client with a recording sleep and the
// deterministic stepBackOff; opts come last, so they override those.
func newEnv(t *testing.T, mutate func(*cloudsim.Options), opts ...cloud.Option) *env {
	t.Helper()
	clock := clock.NewManual(t0)
	sim, url := cloudsim.NewTestServer(t, cloudsim.Options{PAT: testPAT, Clock: clock, Seed: 42}, mutate)
	e := &env{t: t, sim: sim, clock: clock, url: url, sleeps: &sleepRecorder{}}
	e.client = e.newClient(testPAT, opts...)
	return e
}

// newClient returns another client of the same simulator.
func (e *env) newClient(pat string, opts ...cloud.Option) *cloud.Client {
	e.t.Helper()
	base := []cloud.Option{
		cloud.WithEndpoint(e.url),
		cloud.WithSleep(e.sleeps.sleep),
		cloud.WithRetry(4, newStepBackOff),
	}
	c, err := cloud.New(pat, append(base, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// preview is a valid createGitHubPreviewApp input for name.
func preview(name string) cloud.PreviewApp {
	return cloud.PreviewApp{
		GitHubToken: "ghp_readonlyBranchToken", Owner: "acme", Repo: "shop", Branch: "feature-x",
		Directory: "hasura", Name: name, Region: "us-east-2", Plan: "cloud_free",
		Env: []cloud.EnvVar{{Key: "HASURA_GRAPHQL_ADMIN_SECRET", Value: "s3cret"}},
	}
}

// built creates the preview app name and moves the clock past its
// creation job, so the project exists.
func (e *env) built(name string) cloudsim.ProjectInfo {
	e.t.Helper()
	if _, err := e.client.CreateGitHubPreviewApp(context.Background(), preview(name)); err != nil {
		e.t.Fatal(err)
	}
	e.clock.Advance(cloudsim.DefaultCreationDuration)
	info, ok := e.sim.Project(name)
	if !ok {
		e.t.Fatalf("project %s not created", name)
	}
	return info
}

// sleepRecorder stands in for the client's sleep: it records the wait and
// returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *sleepRecorder) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.waits)
}

// stepBackOff waits 100 ms, 200 ms, 300 ms...: no jitter, so tests can
// compare the waits the client asked for.
type stepBackOff struct{ n int }

func newStepBackOff() backoff.BackOff { return &stepBackOff{} }

func (b *stepBackOff) NextBackOff() time.Duration {
	b.n++
	return time.Duration(b.n) * 100 * time.Millisecond
}

func (b *stepBackOff) Reset() { b.n = 0 }

// classes are the error classes; every client error matches exactly one.
var classes = []error{
	cloud.ErrUnauthorized, cloud.ErrNotFound, cloud.ErrQuotaExceeded, cloud.ErrHashConflict,
	cloud.ErrInvalidInput, cloud.ErrTransient, cloud.ErrAPI,
}

// checkClass fails unless err is an *Error of class want and of no other.
func checkClass(t *testing.T, err, want error) *cloud.Error {
	t.Helper()
	var ce *cloud.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *cloud.Error", err, err)
	}
	for _, c := range classes {
		if got := errors.Is(err, c); got != (c == want) {
			t.Errorf("errors.Is(%v, %v) = %v", err, c, got)
		}
	}
	return ce
}

// serve runs h on loopback and returns its GraphQL URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + cloudsim.DefaultPath
}

// answer is a tiny stand-in for the API that always gives the same answer.
func answer(t *testing.T, status int, header http.Header, body string) string {
	t.Helper()
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
}

// clientFor returns a client of url that tries once, unless opts say otherwise.
func clientFor(t *testing.T, url string, opts ...cloud.Option) *cloud.Client {
	t.Helper()
	base := []cloud.Option{cloud.WithEndpoint(url), cloud.WithRetry(1, newStepBackOff),
		cloud.WithSleep(func(context.Context, time.Duration) error { return nil })}
	c, err := cloud.New(testPAT, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// firstProject is the first project of that name, or an ErrNotFound error
// when there is none: what most tests ask of ProjectsByName.
func firstProject(c *cloud.Client, ctx context.Context, name string) (*cloud.Project, error) {
	list, err := c.ProjectsByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, &cloud.Error{Op: cloud.OpProjects, Class: cloud.ErrNotFound, Message: "no project named " + name}
	}
	return &list[0], nil
}
