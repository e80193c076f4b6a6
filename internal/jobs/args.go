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

// pendingStates is the uniqueness set for both job kinds: at most one
// unfinished job per PR (one sweep). River requires available, pending,
// running and scheduled; retryable keeps a push during an outage from
// queueing a second job; without completed (River's default has it) a PR
// gets a new job before the cleaner deletes the old one, a day later.
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
