package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// This file holds the only calls to River's driver executors, which River
// documents as internal and free to change in any release. Its public API
// has no count of jobs by state and no way to requeue a running job, so
// TestRiverInternalsFenced fails when River's version changes: re-read these
// two functions against the new release, then update riverVerified.

// riverVerified is the River release these calls were checked against.
const riverVerified = "v0.51.2"

// countByState counts jobs of every kind by state, in one query.
func countByState(ctx context.Context, exec riverdriver.Executor) (map[rivertype.JobState]int, error) {
	return exec.JobCountByAllStates(ctx, &riverdriver.JobCountByAllStatesParams{})
}

// rescueRunning returns every job left "running" to the queue, recording an
// attempt error on each. Call it only when no other process can be working
// jobs (SQLite, at start).
func rescueRunning(ctx context.Context, exec riverdriver.Executor) (int, error) {
	now := time.Now().UTC()
	// River's SQLite driver stores times at millisecond precision; anything
	// attempted before "a little from now" was attempted by someone else.
	horizon := now.Add(time.Hour)
	total := 0
	for {
		stuck, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{Max: 500, StuckHorizon: horizon})
		if err != nil || len(stuck) == 0 {
			return total, err
		}
		p := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
		for _, j := range stuck {
			msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0), Error: "process stopped while the job was running; requeued at start"})
			p.ID = append(p.ID, j.ID)
			p.Error = append(p.Error, msg)
			p.FinalizedAt = append(p.FinalizedAt, nil)
			p.ScheduledAt = append(p.ScheduledAt, now)
			p.State = append(p.State, string(rivertype.JobStateAvailable))
		}
		if _, err := exec.JobRescueMany(ctx, p); err != nil {
			return total, err
		}
		total += len(stuck)
	}
}
