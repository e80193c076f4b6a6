package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

func never(context.Context, string) (time.Duration, error) { return 0, nil }

func TestEnqueueIsUniquePerPR(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		c := newClient(t, open(t), recFunc(never), nil, testOptions())
		first := enqueue(t, c, "o/r#1")
		for range 49 {
			if e := enqueue(t, c, "o/r#1"); !e.Duplicate || e.JobID != first.JobID {
				t.Fatalf("second job for one PR: %+v", e)
			}
		}
		enqueue(t, c, "o/r#2")
		if s := stats(t, c); s["available"] != 2 {
			t.Fatalf("available jobs: %d, want 2 (%v)", s["available"], s)
		}
		pending, err := c.Pending(context.Background())
		if err != nil || len(pending) != 2 || pending[0].Position != 1 || pending[1].Position != 2 || pending[0].PRKey != "o/r#1" {
			t.Fatalf("pending: %+v %v", pending, err)
		}
	})
}

func TestEnqueueWakesSnoozedJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		var calls atomic.Int32
		second := make(chan struct{})
		rec := recFunc(func(ctx context.Context, key string) (time.Duration, error) {
			if calls.Add(1) == 1 {
				return time.Hour, nil // "the Cloud is building; look again in an hour"
			}
			close(second)
			return 0, nil
		})
		c := newClient(t, open(t), rec, nil, testOptions())
		enqueue(t, c, "o/r#1")
		start(t, c)
		eventually(t, "the job to snooze", func() bool { return stats(t, c)["scheduled"] == 1 })
		if e := enqueue(t, c, "o/r#1"); !e.Duplicate || !e.Woken {
			t.Fatalf("enqueue over a snoozed job: %+v", e)
		}
		select {
		case <-second:
		case <-time.After(30 * time.Second):
			t.Fatal("the snoozed job was not woken")
		}
	})
}

// A delivery that arrives while the PR's job runs is swallowed by that job's
// uniqueness; the job must notice and run again.
func TestDeliveryDuringWorkRunsAgain(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		var c *Client
		var calls atomic.Int32
		rec := recFunc(func(ctx context.Context, key string) (time.Duration, error) {
			if calls.Add(1) == 1 {
				recordCommand(t, st, key)
				if e, err := c.Enqueue(ctx, key); err != nil || !e.Duplicate {
					t.Errorf("enqueue during work: %+v %v", e, err)
				}
			}
			return 0, nil
		})
		c = newClient(t, st, rec, nil, testOptions())
		recordCommand(t, st, "o/r#1")
		enqueue(t, c, "o/r#1")
		start(t, c)
		eventually(t, "the queue to drain", func() bool { return calls.Load() > 0 && unfinished(stats(t, c)) == 0 })
		if n := calls.Load(); n != 2 {
			t.Fatalf("reconciled %d times, want 2", n)
		}
		if s := stats(t, c); s["completed"] != 1 {
			t.Fatalf("stats: %v", s)
		}
	})
}

func TestStopCancelsAndRequeuesRunningJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		running := make(chan struct{})
		blocker := recFunc(func(ctx context.Context, key string) (time.Duration, error) {
			close(running)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		a := newClient(t, st, blocker, nil, testOptions())
		enqueue(t, a, "o/r#1")
		start(t, a)
		<-running
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := a.Stop(ctx); err == nil {
			t.Fatal("Stop returned nil while a job ignored the soft stop")
		}
		if s := stats(t, a); s["available"] != 1 || s["running"] != 0 || s["retryable"] != 0 {
			t.Fatalf("after a hard stop: %v, want the job available again", s)
		}
		done := make(chan struct{})
		b := newClient(t, st, recFunc(func(context.Context, string) (time.Duration, error) {
			close(done)
			return 0, nil
		}), nil, testOptions())
		start(t, b)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the fresh client did not pick the job up")
		}
	})
}

func TestLeaseHeldElsewhereDefersWork(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		ctx := context.Background()
		var calls atomic.Int32
		c := newClient(t, st, recFunc(func(context.Context, string) (time.Duration, error) {
			calls.Add(1)
			return 0, nil
		}), nil, testOptions())
		start(t, c) // on SQLite, Start breaks leases of earlier processes: take it after
		if ok, _, err := st.AcquireLease(ctx, "o/r#1", "someone-else", time.Hour); err != nil || !ok {
			t.Fatal(ok, err)
		}
		enqueue(t, c, "o/r#1")
		// Short snoozes stay "available" with a later scheduled_at; River
		// counts them in the job's metadata.
		eventually(t, "the job to back off", func() bool {
			jobs, err := c.pendingJobs(ctx, pendingStates...)
			return err == nil && len(jobs) == 1 && strings.Contains(string(jobs[0].row.Metadata), `"snoozes"`)
		})
		if calls.Load() != 0 {
			t.Fatal("reconciled while another worker held the lease")
		}
		if err := st.ReleaseLease(ctx, "o/r#1", "someone-else"); err != nil {
			t.Fatal(err)
		}
		enqueue(t, c, "o/r#1")
		eventually(t, "the reconcile", func() bool { return calls.Load() == 1 })
	})
}

func TestPermanentErrorCancelsJob(t *testing.T) {
	st := func(t testing.TB) *store.Store { return openSQLite(t) }(t)
	c := newClient(t, st, recFunc(func(context.Context, string) (time.Duration, error) {
		return 0, Permanent(errors.New("repository has no Hasura project"))
	}), nil, testOptions())
	enqueue(t, c, "o/r#1")
	start(t, c)
	eventually(t, "the job to be cancelled", func() bool { return stats(t, c)["cancelled"] == 1 })
}

func TestTransientErrorIsRetried(t *testing.T) {
	st := openSQLite(t)
	c := newClient(t, st, recFunc(func(context.Context, string) (time.Duration, error) {
		return 0, errors.New("cloud: 502")
	}), nil, testOptions())
	enqueue(t, c, "o/r#1")
	start(t, c)
	eventually(t, "the job to wait for a retry", func() bool { return stats(t, c)["retryable"] == 1 })
	pending, err := c.Pending(context.Background())
	if err != nil || len(pending) != 1 || pending[0].Attempt < 1 || pending[0].State != "retryable" {
		t.Fatalf("pending: %+v %v", pending, err)
	}
}

func TestSweepRunsAtStart(t *testing.T) {
	swept := make(chan *Client, 1)
	c := newClient(t, openSQLite(t), recFunc(never), func(_ context.Context, q *Client) error {
		select {
		case swept <- q:
		default:
		}
		return nil
	}, testOptions())
	start(t, c)
	select {
	case q := <-swept:
		if q != c {
			t.Fatal("the sweep was not given the queue that runs it")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no sweep at start")
	}
}

func TestForgetInstallationCancelsQueuedJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		ctx := context.Background()
		for _, pr := range []*store.PullRequest{
			{Key: "a/x#1", InstallationID: 1, BaseOwner: "a", BaseRepo: "x", Number: 1, EventUpdatedAt: time.Now()},
			{Key: "a/x#2", InstallationID: 1, BaseOwner: "a", BaseRepo: "x", Number: 2, EventUpdatedAt: time.Now()},
			{Key: "b/y#1", InstallationID: 2, BaseOwner: "b", BaseRepo: "y", Number: 1, EventUpdatedAt: time.Now()},
		} {
			if err := st.WithTx(ctx, func(tx *store.Tx) error {
				_, err := tx.RecordPullRequest(ctx, pr, true, false)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		c := newClient(t, st, recFunc(never), nil, testOptions())
		for _, k := range []string{"a/x#1", "a/x#2", "b/y#1"} {
			enqueue(t, c, k)
		}
		if err := c.ForgetInstallation(ctx, 1); err != nil {
			t.Fatal(err)
		}
		pending, err := c.Pending(ctx)
		if err != nil || len(pending) != 1 || pending[0].PRKey != "b/y#1" {
			t.Fatalf("pending after forget: %+v %v", pending, err)
		}
		if _, err := st.GetPR(ctx, "a/x#1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("PR not forgotten: %v", err)
		}
	})
}

func TestRegisterMetrics(t *testing.T) {
	c := newClient(t, openSQLite(t), recFunc(never), nil, testOptions())
	enqueue(t, c, "o/r#1")
	reg := prometheus.NewPedanticRegistry()
	if err := c.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "hasura_preview_jobs" && m.GetLabel()[0].GetValue() == "available" {
				found = m.GetGauge().GetValue() == 1
			}
		}
	}
	if !found {
		t.Fatal("hasura_preview_jobs{state=available} is not 1")
	}
}

func TestRetryDelay(t *testing.T) {
	p := &cappedRetry{max: 15 * time.Minute}
	cases := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0.5, time.Second},
		{2, 0.5, 16 * time.Second},
		{3, 0, 81*time.Second - 81*time.Second/10},
		{5, 0.5, 625 * time.Second},
		{6, 0.5, 15 * time.Minute}, // 1296 s, capped
		{199, 0.5, 15 * time.Minute},
		{100000, 0.5, 15 * time.Minute},
	}
	for _, tc := range cases {
		if got := p.delay(tc.n, tc.jitter); got != tc.want {
			t.Errorf("delay(%d, %v) = %s, want %s", tc.n, tc.jitter, got, tc.want)
		}
	}
}

func TestOptionsRejectTimeoutAboveRescue(t *testing.T) {
	_, err := New(openSQLite(t), recFunc(never), nil, Options{JobTimeout: time.Minute, RescueAfter: time.Minute})
	if err == nil {
		t.Fatal("accepted a job timeout equal to the rescue delay")
	}
}

// Two replicas on one PostgreSQL database share the queue: every PR is
// reconciled, never by both at once, even when duplicate jobs (which River's
// uniqueness would normally prevent) race for the same PR.
func TestTwoClientsShareJobsOnPostgres(t *testing.T) {
	url := postgresURL(t)
	st1, st2 := openURL(t, url), openURL(t, url)
	var (
		mu       sync.Mutex
		inflight = map[string]int{}
		done     = map[string]int{}
		overlaps int
	)
	rec := recFunc(func(ctx context.Context, key string) (time.Duration, error) {
		mu.Lock()
		inflight[key]++
		if inflight[key] > 1 {
			overlaps++
		}
		first := done[key] == 0
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // widen the window in which a second worker could overlap
		mu.Lock()
		inflight[key]--
		done[key]++
		mu.Unlock()
		if first && len(key)%3 == 0 {
			return 10 * time.Millisecond, nil // some PRs poll once
		}
		return 0, nil
	})
	a := newClient(t, st1, rec, nil, testOptions())
	b := newClient(t, st2, rec, nil, testOptions())
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = store.PRKey("org", "repo", i+1)
		enqueue(t, a, keys[i])
		if i%5 == 0 {
			// A duplicate job for the same PR, as a rescued attempt would be.
			err := st1.WithTx(ctx, func(tx *store.Tx) error {
				_, err := a.e.insertManyTx(ctx, tx, []river.InsertManyParams{{Args: duplicateArgs{PRKey: keys[i]}}})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if s := stats(t, a); s["available"] != 120 {
		t.Fatalf("queued %d jobs, want 120", s["available"])
	}
	start(t, a)
	start(t, b)
	eventually(t, "the queue to drain", func() bool { return unfinished(stats(t, a)) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if overlaps != 0 {
		t.Fatalf("%d reconciles overlapped on one PR", overlaps)
	}
	for _, k := range keys {
		if done[k] == 0 {
			t.Errorf("%s never reconciled", k)
		}
	}
	if s := stats(t, a); s["completed"] != 120 {
		t.Fatalf("completed %d jobs, want 120 (%v)", s["completed"], s)
	}
}

// duplicateArgs has the reconcile kind and wire shape but no uniqueness.
type duplicateArgs struct {
	PRKey string `json:"pr_key"`
}

func (duplicateArgs) Kind() string { return KindReconcile }
