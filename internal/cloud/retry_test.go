package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestTransientFaultsAreRetried(t *testing.T) {
	steps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	cases := []struct {
		name  string
		fault cloudsim.Fault
		waits []time.Duration
	}{
		{"500 json", cloudsim.Fault{Kind: cloudsim.FaultServerError}, steps},
		{"503 json", cloudsim.Fault{Kind: cloudsim.FaultServerError, Status: 503}, steps},
		{"502 empty", cloudsim.Fault{Kind: cloudsim.FaultEmptyBody}, steps},
		{"200 empty", cloudsim.Fault{Kind: cloudsim.FaultEmptyBody, Status: 200}, steps},
		{"200 html", cloudsim.Fault{Kind: cloudsim.FaultHTML}, steps},
		{"503 html", cloudsim.Fault{Kind: cloudsim.FaultHTML, Status: 503}, steps},
		// Retry-After beats the shorter backoff.
		{"429", cloudsim.Fault{Kind: cloudsim.FaultRateLimit, RetryAfter: 3 * time.Second},
			[]time.Duration{3 * time.Second, 3 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			info := e.built("shop-pr-30")
			f := c.fault
			f.Op, f.Count = cloud.OpProjects, 2
			e.sim.Inject(f)
			p, err := firstProject(e.client, context.Background(), "shop-pr-30")
			if err != nil || p.ID != info.ID {
				t.Fatalf("ProjectByName = %+v, %v", p, err)
			}
			if r, n := e.sim.Requests(cloud.OpProjects), e.sim.Count(cloud.OpProjects); r != 3 || n != 1 {
				t.Errorf("requests %d, executed %d; want 3 and 1", r, n)
			}
			if w := e.sleeps.all(); !slices.Equal(w, c.waits) {
				t.Errorf("waits = %v, want %v", w, c.waits)
			}
		})
	}
}

// Faulted requests do not execute, so retrying the mutation builds once.
func TestRetriedCreateRunsOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpCreatePreviewApp, Kind: cloudsim.FaultServerError, Status: 503, Count: 3})
	if _, err := e.client.CreateGitHubPreviewApp(context.Background(), preview("shop-pr-31")); err != nil {
		t.Fatal(err)
	}
	if r, n, q := e.sim.Requests(cloud.OpCreatePreviewApp), e.sim.Count(cloud.OpCreatePreviewApp), e.sim.QuotaUsed(); r != 4 || n != 1 || q != 1 {
		t.Errorf("requests %d, executed %d, quota used %d; want 4, 1, 1", r, n, q)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	e := newEnv(t, nil, cloud.WithRetry(3, newStepBackOff))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError, Count: 10})
	_, err := firstProject(e.client, context.Background(), "shop-pr-32")
	if ce := checkClass(t, err, cloud.ErrTransient); ce.Status != http.StatusInternalServerError {
		t.Errorf("error = %+v", ce)
	}
	if r, n := e.sim.Requests(cloud.OpProjects), e.sim.Count(cloud.OpProjects); r != 3 || n != 0 {
		t.Errorf("requests %d, executed %d; want 3 and 0", r, n)
	}
	if w := e.sleeps.all(); !slices.Equal(w, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}) {
		t.Errorf("waits = %v", w)
	}
}

func TestBackOffStopEndsRetries(t *testing.T) {
	e := newEnv(t, nil, cloud.WithRetry(5, func() backoff.BackOff { return &backoff.StopBackOff{} }))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError, Count: 10})
	_, err := firstProject(e.client, context.Background(), "x")
	checkClass(t, err, cloud.ErrTransient)
	if r := e.sim.Requests(cloud.OpProjects); r != 1 || len(e.sleeps.all()) != 0 {
		t.Errorf("requests %d, waits %v; want one request, no wait", r, e.sleeps.all())
	}
}

// A wait that would end after the caller's deadline is not worth taking.
func TestRetryAfterPastDeadlineGivesUp(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultRateLimit, RetryAfter: 2 * time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err := firstProject(e.client, ctx, "x")
	if ce := checkClass(t, err, cloud.ErrTransient); ce.RetryAfter != 2*time.Hour || ce.Status != http.StatusTooManyRequests {
		t.Errorf("error = %+v", ce)
	}
	if r := e.sim.Requests(cloud.OpProjects); r != 1 || len(e.sleeps.all()) != 0 {
		t.Errorf("requests %d, waits %v", r, e.sleeps.all())
	}
}

// returns runs call and fails the test if it has not returned within a
// minute: a watchdog, far beyond the milliseconds the call takes, not a
// speed check.
func returns(t *testing.T, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("the call did not return after its context was cancelled")
		return nil
	}
}

func TestCancelDuringSlowAnswer(t *testing.T) {
	clock := clock.NewManual(t0)
	sim, err := cloudsim.New(cloudsim.Options{PAT: testPAT, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultSlow, Delay: time.Hour, Count: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The request is on its way when the caller gives up. The simulator's
	// own counters may lag the client's return, so the wrapper counts.
	var arrived atomic.Int32
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		cancel()
		sim.ServeHTTP(w, r)
	}))
	rec := &sleepRecorder{}
	c := clientFor(t, url, cloud.WithRetry(5, newStepBackOff), cloud.WithSleep(rec.sleep))
	err = returns(t, func() error { _, err := firstProject(c, ctx, "x"); return err })
	checkClass(t, err, cloud.ErrTransient)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	if r := arrived.Load(); r != 1 || len(rec.all()) != 0 {
		t.Errorf("requests %d, waits %v: a cancelled call must not be retried", r, rec.all())
	}
}

func TestCancelDuringBackOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, nil, cloud.WithSleep(func(ctx context.Context, _ time.Duration) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError, Count: 10})
	_, err := firstProject(e.client, ctx, "x")
	if ce := checkClass(t, err, cloud.ErrTransient); !errors.Is(err, context.Canceled) || ce.Message == "" {
		t.Errorf("error = %+v", ce)
	}
	if r := e.sim.Requests(cloud.OpProjects); r != 1 {
		t.Errorf("requests %d, want 1", r)
	}
}

func TestCancelledBeforeTheCall(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.client.Job(ctx, unknownID)
	checkClass(t, err, cloud.ErrTransient)
	if !errors.Is(err, context.Canceled) || e.sim.Requests(cloud.OpJob) != 0 {
		t.Errorf("error %v after %d requests", err, e.sim.Requests(cloud.OpJob))
	}
}

// One slow answer costs one attempt, not the call.
func TestPerAttemptTimeout(t *testing.T) {
	var mu sync.Mutex
	var seen []error
	observe := func(op string, _ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, err)
	}
	e := newEnv(t, nil, cloud.WithTimeout(50*time.Millisecond), cloud.WithObserver(observe))
	info := e.built("shop-pr-33")
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultSlow, Delay: time.Hour})
	p, err := returnsProject(t, func() (*cloud.Project, error) { return firstProject(e.client, context.Background(), "shop-pr-33") })
	if err != nil || p.ID != info.ID {
		t.Fatalf("ProjectByName = %+v, %v", p, err)
	}
	// The abandoned slow request never executes. (The simulator may count
	// its arrival after the client has moved on, so Requests is not used.)
	if n, w := e.sim.Count(cloud.OpProjects), e.sleeps.all(); n != 1 || len(w) != 1 {
		t.Errorf("executed %d, waits %v; want 1 and 1 wait", n, w)
	}
	mu.Lock()
	defer mu.Unlock()
	// seen[0] is the create of e.built.
	if len(seen) != 3 || seen[0] != nil || !errors.Is(seen[1], context.DeadlineExceeded) ||
		!errors.Is(seen[1], cloud.ErrTransient) || seen[2] != nil {
		t.Errorf("observed %v", seen)
	}
}

func returnsProject(t *testing.T, call func() (*cloud.Project, error)) (*cloud.Project, error) {
	t.Helper()
	var p *cloud.Project
	err := returns(t, func() error {
		var err error
		p, err = call()
		return err
	})
	return p, err
}

type countingLimiter struct {
	mu    sync.Mutex
	waits int
	err   error
}

func (l *countingLimiter) Wait(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return l.err
}

func TestLimiterPacesEveryAttempt(t *testing.T) {
	lim := &countingLimiter{}
	e := newEnv(t, nil, cloud.WithLimiter(lim))
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultServerError, Count: 2})
	_, err := e.client.Job(context.Background(), unknownID)
	checkClass(t, err, cloud.ErrNotFound)
	if lim.waits != 3 {
		t.Errorf("limiter asked %d times for 3 attempts", lim.waits)
	}

	lim.err = errors.New("rate: Wait(n=1) would exceed context deadline")
	_, err = e.client.Job(context.Background(), unknownID)
	checkClass(t, err, cloud.ErrTransient)
	if !errors.Is(err, lim.err) || e.sim.Requests(cloud.OpJob) != 3 {
		t.Errorf("error %v after %d requests", err, e.sim.Requests(cloud.OpJob))
	}
}

func TestConcurrentUse(t *testing.T) {
	// Six tries outlast five faults, however they fall on the goroutines.
	e := newEnv(t, nil, cloud.WithRetry(6, newStepBackOff))
	info := e.built("shop-pr-34")
	e.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultServerError, Count: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = firstProject(e.client, context.Background(), "shop-pr-34")
			} else {
				_, err = e.client.Job(context.Background(), info.LastCreationJobID)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := e.sim.Count(cloud.OpProjects) + e.sim.Count(cloud.OpJob); n != 16 {
		t.Errorf("%d calls executed, want 16", n)
	}
}

// cancelOnBackOff cancels the call's context when asked for a wait, so the
// client's own sleep starts with the context already done.
type cancelOnBackOff struct{ cancel context.CancelFunc }

func (b cancelOnBackOff) NextBackOff() time.Duration { b.cancel(); return time.Hour }
func (b cancelOnBackOff) Reset()                     {}

// Without WithSleep the client really sleeps, bounded by the context.
func TestRealSleep(t *testing.T) {
	e := newEnv(t, nil)
	info := e.built("shop-pr-35")
	fast := func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }
	c, err := cloud.New(testPAT, cloud.WithEndpoint(e.url), cloud.WithRetry(3, fast))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError})
	before := e.sim.Requests(cloud.OpProjects)
	if p, err := firstProject(c, context.Background(), "shop-pr-35"); err != nil || p.ID != info.ID {
		t.Fatalf("ProjectByName = %+v, %v", p, err)
	}
	if n := e.sim.Requests(cloud.OpProjects) - before; n != 2 {
		t.Errorf("%d requests, want 2 (a fault, then the retry)", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err = cloud.New(testPAT, cloud.WithEndpoint(e.url),
		cloud.WithRetry(3, func() backoff.BackOff { return cancelOnBackOff{cancel} }))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError})
	err = returns(t, func() error { _, err := firstProject(c, ctx, "shop-pr-35"); return err })
	if ce := checkClass(t, err, cloud.ErrTransient); !errors.Is(err, context.Canceled) || ce.Message == "" {
		t.Errorf("error = %+v", ce)
	}
}
