package cloudsim

import (
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// Clock tells the simulator what time it is. Job progress is derived from it
// at request time, so a test that owns the clock owns the pace of every job.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told to (clock.Manual). It is
// safe for concurrent use, so a test can advance it while clients poll.
// Moving it backwards hides job events again but does not undo projects
// already created; tests should only move forward.
type ManualClock = clock.Manual

// NewManualClock returns a ManualClock that reads t until moved.
func NewManualClock(t time.Time) *ManualClock { return clock.NewManual(t) }
