package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	st       *store.Store
	rec      Reconciler
	log      *slog.Logger
	e        engine
	owner    string        // River client id
	leaseTTL time.Duration // > JobTimeout, so a timed-out attempt stops before its lease ends
}

// Work runs one reconcile under the PR's lease. Ending it is the delicate
// part: a delivery that arrives while the job runs is deduplicated into this
// very job, so the job may only complete if the PR's generation is still the
// one it started with, checked and completed in one transaction that locks
// the PR row against such a delivery.
func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	key := job.Args.PRKey
	owner := fmt.Sprintf("%s/%d/%d", w.owner, job.ID, job.Attempt)
	ok, until, err := w.st.AcquireLease(ctx, key, owner, w.leaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		// Another attempt (rescued, or a duplicate) is still acting on the PR.
		// Look again soon rather than at expiry: it usually ends well before.
		wait := min(max(until.Sub(w.st.Now()), 250*time.Millisecond), 2*time.Second)
		w.log.InfoContext(ctx, "PR is leased by another worker; waiting", "pr", key, "wait", wait)
		return river.JobSnooze(wait)
	}
	release := func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.st.ReleaseLease(rctx, key, owner); err != nil {
			w.log.WarnContext(rctx, "releasing lease", "pr", key, "error", err)
		}
	}

	defer func() {
		if r := recover(); r != nil {
			release()
			panic(r) // River records it as a failed attempt
		}
	}()

	gen, err := w.st.Generation(ctx, key)
	if err != nil {
		release()
		return err
	}
	again, err := w.rec.Reconcile(ctx, key)
	if err != nil {
		release()
		return w.failure(ctx, key, err)
	}
	if again > 0 {
		release()
		if now, err := w.st.Generation(ctx, key); err == nil && now != gen {
			again = 0 // news arrived: act on it now rather than after the poll interval
		}
		return river.JobSnooze(again)
	}

	changed := false
	err = w.st.WithTx(ctx, func(tx *store.Tx) error {
		now, err := tx.LockGeneration(ctx, key)
		if err != nil {
			return err
		}
		if err := tx.ReleaseLease(ctx, key, owner); err != nil {
			return err
		}
		if changed = now != gen; changed {
			return nil
		}
		return w.e.completeTx(ctx, tx, job)
	})
	if err != nil {
		release()
		return err
	}
	if changed {
		return river.JobSnooze(0)
	}
	return nil
}

// failure maps a Reconcile error onto River: cancelled for Permanent, a
// snooze (not an attempt) when this process is stopping, else a retry.
func (w *reconcileWorker) failure(ctx context.Context, key string, err error) error {
	if IsPermanent(err) {
		w.log.ErrorContext(ctx, "reconcile failed permanently", "pr", key, "error", err)
		return river.JobCancel(err)
	}
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if !errors.Is(cause, context.DeadlineExceeded) && !errors.Is(cause, river.ErrJobCancelledRemotely) {
			// Shutdown: a snooze keeps the attempt count and makes the job
			// available at once for the next process.
			return river.JobSnooze(0)
		}
	}
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	sweep SweepFunc
	q     *Client
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.sweep(ctx, w.q)
}

// cappedRetry is River's attempt⁴-seconds backoff with ±10% jitter, capped,
// so a job keeps trying through a long outage at a bounded interval.
type cappedRetry struct {
	max time.Duration
	now func() time.Time
}

func (p *cappedRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return p.now().Add(p.delay(len(job.Errors)+1, rand.Float64()))
}

// delay is the wait after the n-th error; jitter is in [0, 1).
func (p *cappedRetry) delay(n int, jitter float64) time.Duration {
	secs := float64(n) * float64(n) * float64(n) * float64(n)
	d := p.max
	if secs < p.max.Seconds() {
		d = time.Duration(secs * float64(time.Second))
	}
	return d + time.Duration(float64(d)*0.2*(jitter-0.5))
}
