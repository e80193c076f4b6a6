package jobs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// workOnce runs the reconcile worker on one job with rivertest.NewWorker, on
// a River database of its own so that the job's transaction never holds the
// connection that the worker's Store needs (SQLite has one). It covers the
// paths that end before the worker completes the job in the Store's own
// transaction: snoozes, cancellation and retries. (A shutdown's snooze needs
// River to cancel the job's context: TestStopCancelsAndRequeuesRunningJob.)
func workOnce(t *testing.T, ctx context.Context, st *store.Store, rec Reconciler, key string) *rivertest.WorkResult {
	t.Helper()
	riverDB := openSQLite(t).DB()
	w := &reconcileWorker{st: st, rec: rec, log: quietLogger(), owner: "test", leaseTTL: time.Minute}
	tw := rivertest.NewWorker(t, riversqlite.New(riverDB), &river.Config{Logger: quietLogger()}, w)
	tx, err := riverDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	// The error returned is the Reconcile's own, which the callers judge by
	// the job's new state.
	res, _ := tw.Work(ctx, t, tx, ReconcileArgs{PRKey: key}, nil)
	return res
}

func TestWorkerSnoozesWhileTheCloudWorks(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		res := workOnce(t, context.Background(), st, recFunc(func(context.Context, string) (time.Duration, error) {
			return time.Hour, nil
		}), "o/r#1")
		if res.EventKind != river.EventKindJobSnoozed || res.Job.State != rivertype.JobStateScheduled {
			t.Fatalf("got %s, job %s; want a snooze", res.EventKind, res.Job.State)
		}
		if ok, _, err := st.AcquireLease(context.Background(), "o/r#1", "another", time.Minute); err != nil || !ok {
			t.Fatalf("the snoozed job kept its lease: %v %v", ok, err)
		}
	})
}

func TestWorkerRunsAgainAtOnceWhenNewsArrivedDuringAPoll(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		res := workOnce(t, context.Background(), st, recFunc(func(_ context.Context, key string) (time.Duration, error) {
			recordCommand(t, st, key) // a delivery while the job ran
			return time.Hour, nil
		}), "o/r#1")
		if res.EventKind != river.EventKindJobSnoozed || res.Job.ScheduledAt.After(time.Now().Add(time.Minute)) {
			t.Fatalf("got %s at %s; want a snooze of no length", res.EventKind, res.Job.ScheduledAt)
		}
	})
}

func TestWorkerSnoozesWhileAnotherHoldsTheLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func(testing.TB) *store.Store) {
		st := open(t)
		if ok, _, err := st.AcquireLease(context.Background(), "o/r#1", "someone-else", time.Hour); err != nil || !ok {
			t.Fatal(ok, err)
		}
		called := false
		res := workOnce(t, context.Background(), st, recFunc(func(context.Context, string) (time.Duration, error) {
			called = true
			return 0, nil
		}), "o/r#1")
		if called || res.EventKind != river.EventKindJobSnoozed {
			t.Fatalf("reconciled: %t, event %s; want a snooze without reconciling", called, res.EventKind)
		}
		if wait := time.Until(res.Job.ScheduledAt); wait > 3*time.Second {
			t.Fatalf("snoozed %s; a lease is looked at again within 2 s", wait)
		}
	})
}

func TestWorkerCancelsOnPermanentError(t *testing.T) {
	st := openSQLite(t)
	res := workOnce(t, context.Background(), st, recFunc(func(context.Context, string) (time.Duration, error) {
		return 0, Permanent(errors.New("repository has no Hasura project"))
	}), "o/r#1")
	if res.EventKind != river.EventKindJobCancelled || res.Job.State != rivertype.JobStateCancelled {
		t.Fatalf("got %s, job %s; want cancelled", res.EventKind, res.Job.State)
	}
}

func TestWorkerRetriesATransientError(t *testing.T) {
	st := openSQLite(t)
	res := workOnce(t, context.Background(), st, recFunc(func(context.Context, string) (time.Duration, error) {
		return 0, errors.New("cloud: 502")
	}), "o/r#1")
	// A first retry is due within River's scheduler interval, so the job is
	// "available" at a later time rather than "retryable".
	if res.EventKind != river.EventKindJobFailed || len(res.Job.Errors) != 1 || res.Job.FinalizedAt != nil {
		t.Fatalf("got %s, job %s with errors %v; want a retry", res.EventKind, res.Job.State, res.Job.Errors)
	}
}
