// Package jobs is the service's durable queue: River on the Store's database
// (riversqlite on SQLite, riverpgxv5 on PostgreSQL). A reconcile job carries
// only a PR key; its worker takes the PR's lease, asks a Reconciler to bring
// the preview in line with the PR's desired state, and snoozes while the
// Cloud works (waits are snoozes, never sleeps inside a job). A periodic
// sweep job runs on the leader.
package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// KindReconcile and KindSweep are the River job kinds.
const (
	KindReconcile = "reconcile_pr"
	KindSweep     = "sweep"
)

// pendingStates is the uniqueness set for both job kinds: at most one job per
// PR (one sweep) that has not finished. River requires available, pending,
// running and scheduled in any custom ByState. We add retryable, so a push
// during a Cloud outage does not queue a second job beside the one waiting
// out its backoff. We leave out completed, cancelled and discarded: with
// River's default (which includes completed) a PR would get no new job until
// the cleaner deleted the old one, a day later. A job that is running when a
// delivery arrives swallows that delivery's insert; the worker sees the PR's
// generation move and runs again (see reconcileWorker).
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// ReconcileArgs asks for one PR's preview to be reconciled.
type ReconcileArgs struct {
	PRKey string `json:"pr_key"`
}

// Kind is River's job kind.
func (ReconcileArgs) Kind() string { return KindReconcile }

// InsertOpts makes the job unique per PR while it is pending.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// SweepArgs asks for one sweep of all PRs and previews.
type SweepArgs struct{}

// Kind is River's job kind.
func (SweepArgs) Kind() string { return KindSweep }

// InsertOpts keeps one sweep pending at a time and gives up early: the next
// period brings another.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: pendingStates}}
}
