package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Reconciler brings one PR's preview in line with its desired state. It
// returns again > 0 to be called again after that long (while the Cloud
// builds), or an error to be retried with backoff. Wrap an error in
// Permanent when retrying cannot help. Reconcile must return soon after ctx
// is done, and a PR the Store does not know must be a quick no-op.
type Reconciler interface {
	Reconcile(ctx context.Context, prKey string) (again time.Duration, err error)
}

// SweepFunc is the periodic pass: delete previews whose PR closed or whose
// TTL passed, re-enqueue PRs whose job got lost, prune old deliveries. It
// gets the queue that runs it, to enqueue into. Runs on the leader only;
// River does not persist its schedule, so it must be idempotent.
type SweepFunc func(ctx context.Context, q *Client) error

// Options tunes New. Zero fields take the defaults in brackets.
type Options struct {
	// Workers is the number of jobs worked at once by this process [4].
	Workers int
	// SweepEvery is the sweep period [5m]; the first sweep runs at start.
	SweepEvery time.Duration
	// JobTimeout cancels a Reconcile that runs longer [45s]. It must stay
	// below RescueAfter.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay "running" before the leader
	// assumes its process died and retries it [1m].
	RescueAfter time.Duration
	// MaxAttempts is how many failed attempts a job gets before River
	// discards it [200: with RetryCap, about two days of outage]. The sweep
	// re-enqueues discarded PRs anyway.
	MaxAttempts int
	// RetryCap caps the backoff between failed attempts [15m].
	RetryCap time.Duration
	// Logger is River's and the workers' logger [slog.Default()].
	Logger *slog.Logger
	// Configure, when set, gets the last word on River's configuration
	// (tests set TestOnly and fetch intervals).
	Configure func(*river.Config)
}

func (o *Options) defaults() error {
	orDefault(&o.Workers, 4)
	orDefault(&o.SweepEvery, 5*time.Minute)
	orDefault(&o.JobTimeout, 45*time.Second)
	orDefault(&o.RescueAfter, time.Minute)
	orDefault(&o.MaxAttempts, 200)
	orDefault(&o.RetryCap, 15*time.Minute)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.JobTimeout >= o.RescueAfter {
		return fmt.Errorf("job timeout %s must be below the rescue delay %s", o.JobTimeout, o.RescueAfter)
	}
	return nil
}

func orDefault[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Client is the queue: it enqueues reconcile jobs and, once started, works
// them.
type Client struct {
	st  *store.Store
	e   engine
	log *slog.Logger
}

// New builds a Client on st's database. rec is required; sweep may be nil
// (no periodic sweep in this process).
func New(st *store.Store, rec Reconciler, sweep SweepFunc, opts Options) (*Client, error) {
	if rec == nil {
		return nil, errors.New("jobs: a Reconciler is required")
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	rw := &reconcileWorker{st: st, rec: rec, log: opts.Logger, leaseTTL: opts.JobTimeout + opts.RescueAfter}
	workers := river.NewWorkers()
	river.AddWorker(workers, rw)
	cfg := &river.Config{
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		MaxAttempts:          opts.MaxAttempts,
		RetryPolicy:          &cappedRetry{max: opts.RetryCap, now: st.Now},
		Logger:               opts.Logger,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opts.Workers}},
		Workers:              workers,
	}
	sw := &sweepWorker{sweep: sweep}
	if sweep != nil {
		river.AddWorker(workers, sw)
		cfg.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(opts.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true},
		)}
	}
	if opts.Configure != nil {
		opts.Configure(cfg)
	}
	e, err := newEngine(st, cfg)
	if err != nil {
		return nil, fmt.Errorf("building the River client: %w", err)
	}
	rw.e, rw.owner = e, e.ID()
	c := &Client{st: st, e: e, log: opts.Logger}
	sw.q = c
	return c, nil
}

// Start works jobs until ctx is done or Stop is called. On SQLite (one
// replica by definition) it first requeues every job a previous process left
// "running" and breaks its leases, rather than wait RescueAfter for River.
func (c *Client) Start(ctx context.Context) error {
	if c.st.Backend() == store.SQLite {
		n, err := rescueRunning(ctx, c.e.executor())
		if err != nil {
			return fmt.Errorf("rescuing jobs of a previous process: %w", err)
		}
		if n > 0 {
			c.log.InfoContext(ctx, "requeued jobs left running by a previous process", "jobs", n)
		}
		if _, err := c.st.BreakAllLeases(ctx); err != nil {
			return err
		}
	}
	return c.e.Start(ctx)
}

// Stop stops fetching jobs and waits for running ones to finish. When ctx
// ends first, it cancels them (they snooze, to run again at once on the next
// start) and returns ctx's error.
func (c *Client) Stop(ctx context.Context) error {
	err := c.e.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err2 := c.e.StopAndCancel(hard); err2 != nil {
		return fmt.Errorf("stopping jobs: %w (then: %w)", err, err2)
	}
	return fmt.Errorf("jobs still running when the stop deadline came were cancelled: %w", err)
}

// Enqueued tells what an enqueue did.
type Enqueued struct {
	JobID int64
	// Duplicate: a job for the PR was already pending and took the request.
	Duplicate bool
	// Woken: that job was snoozed and now runs at once.
	Woken bool
}

// EnqueueTx enqueues a reconcile job for prKey within tx, or relies on the
// one pending, waking it if it is snoozed so that a push does not wait out a
// Cloud poll. A job in an error backoff is left alone.
func (c *Client) EnqueueTx(ctx context.Context, tx *store.Tx, prKey string) (Enqueued, error) {
	out, err := c.EnqueueManyTx(ctx, tx, []string{prKey})
	if err != nil {
		return Enqueued{}, err
	}
	return out[0], nil
}

// wake turns an insert result into an Enqueued, waking a snoozed duplicate.
func (c *Client) wake(ctx context.Context, tx *store.Tx, prKey string, res *rivertype.JobInsertResult) (Enqueued, error) {
	out := Enqueued{JobID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}
	// A long snooze leaves the job "scheduled"; a short one (below River's
	// scheduler interval) leaves it "available" with a later scheduled_at.
	snoozed := res.Job.State == rivertype.JobStateScheduled ||
		(res.Job.State == rivertype.JobStateAvailable && res.Job.ScheduledAt.After(time.Now()))
	if res.UniqueSkippedAsDuplicate && snoozed {
		if err := c.e.retryTx(ctx, tx, res.Job.ID); err != nil {
			return out, fmt.Errorf("waking the job of %s: %w", prKey, err)
		}
		out.Woken = true
	}
	return out, nil
}

// EnqueueManyTx is EnqueueTx for several PRs in one River insert (an
// uninstall queues every PR of the installation). The answer is in the order
// of keys; a key given twice gets one job.
func (c *Client) EnqueueManyTx(ctx context.Context, tx *store.Tx, prKeys []string) ([]Enqueued, error) {
	if len(prKeys) == 0 {
		return nil, nil
	}
	// River refuses a batch that names one unique job twice.
	params := make([]river.InsertManyParams, 0, len(prKeys))
	seen := make(map[string]bool, len(prKeys))
	for _, k := range prKeys {
		if !seen[k] {
			seen[k] = true
			params = append(params, river.InsertManyParams{Args: ReconcileArgs{PRKey: k}})
		}
	}
	results, err := c.e.insertManyTx(ctx, tx, params)
	if err != nil {
		what := fmt.Sprintf("%d PRs", len(params))
		if len(params) == 1 {
			what = prKeys[0] // the sweep's error names the PR
		}
		return nil, fmt.Errorf("enqueuing %s: %w", what, err)
	}
	// River returns rows as the database does, which need not be the order
	// of the batch: match them by their arguments.
	byKey := make(map[string]Enqueued, len(results))
	for _, res := range results {
		var args ReconcileArgs
		if err := json.Unmarshal(res.Job.EncodedArgs, &args); err != nil {
			return nil, fmt.Errorf("reading the arguments of job %d: %w", res.Job.ID, err)
		}
		e, err := c.wake(ctx, tx, args.PRKey, res)
		if err != nil {
			return nil, err
		}
		byKey[args.PRKey] = e
	}
	out := make([]Enqueued, len(prKeys))
	for i, k := range prKeys {
		e, ok := byKey[k]
		if !ok {
			return nil, fmt.Errorf("enqueuing %s: River returned no job for it", k)
		}
		out[i] = e
	}
	return out, nil
}

// Enqueue is EnqueueTx in a transaction of its own. On SQLite never call it
// while holding a Tx: use EnqueueTx.
func (c *Client) Enqueue(ctx context.Context, prKey string) (Enqueued, error) {
	var out Enqueued
	err := c.st.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = c.EnqueueTx(ctx, tx, prKey)
		return err
	})
	return out, err
}

// ForgetInstallation drops the bookkeeping of an uninstalled installation
// (store.ForgetInstallation) and cancels its PRs' queued jobs. Running jobs
// are left to finish: they find nothing to do.
func (c *Client) ForgetInstallation(ctx context.Context, id int64) error {
	keys, err := c.st.ForgetInstallation(ctx, id)
	if err != nil || len(keys) == 0 {
		return err
	}
	forgot := make(map[string]bool, len(keys))
	for _, k := range keys {
		forgot[k] = true
	}
	jobs, err := c.pendingJobs(ctx, rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateScheduled)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if forgot[j.key] {
			if _, err := c.e.JobCancel(ctx, j.row.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancelling the job of %s: %w", j.key, err)
			}
		}
	}
	return nil
}

// Permanent marks a Reconcile error that retrying cannot fix: the job is
// cancelled instead of retried.
func Permanent(err error) error { return &permanentError{err} }

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }
