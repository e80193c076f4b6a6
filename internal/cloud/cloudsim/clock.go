package cloudsim

import "time"

// Clock tells the simulator what time it is. Job progress is derived from it
// at request time, so a test that owns the clock (a *clock.Manual) owns the
// pace of every job. Moving a clock.Manual backwards hides job events again
// but does not undo projects already created; tests should only move forward.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
