package preview

import (
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// PollPolicy decides how long to wait between two reads of a job. The free
// tier allows 60 preview-app API calls a month, so every read counts; the
// official action reads every 2 s for as long as the job runs.
type PollPolicy struct {
	// Initial is the first wait and the floor of every wait (default 2 s).
	Initial time.Duration
	// Max caps every wait (default 60 s).
	Max time.Duration
	// Multiplier grows the wait while nothing can be predicted (default 1.5).
	Multiplier float64
	// Jitter spreads waits of many previews apart (default 0.2; negative: none).
	Jitter float64
	// Fraction caps a wait at this share of the run's time so far (default
	// 0.1): a job's end is noticed within about that share of its length.
	Fraction float64
	// CreationFraction is Fraction while the creation job runs (default
	// 0.5): the Cloud starts the deployment by itself, so nobody waits.
	CreationFraction float64
}

// DefaultPollPolicy is the policy an Engine uses when none is set.
func DefaultPollPolicy() PollPolicy {
	return PollPolicy{Initial: 2 * time.Second, Max: 60 * time.Second, Multiplier: 1.5, Jitter: 0.2, Fraction: 0.1, CreationFraction: 0.5}
}

func (p PollPolicy) withDefaults() PollPolicy {
	d := DefaultPollPolicy()
	p.Initial = orDefault(p.Initial, d.Initial)
	p.Max = orDefault(p.Max, d.Max)
	p.Fraction = orDefault(p.Fraction, d.Fraction)
	p.CreationFraction = orDefault(p.CreationFraction, d.CreationFraction)
	if p.Multiplier < 1 {
		p.Multiplier = d.Multiplier
	}
	// Zero takes the default, so that previews do not poll in lockstep.
	if p.Jitter == 0 || p.Jitter >= 1 {
		p.Jitter = d.Jitter
	}
	return p
}

// backOff is cenkalti/backoff's polls-th wait: a run stored between snoozes
// keeps a count, not the object.
func (p PollPolicy) backOff(polls int) time.Duration {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.Initial
	b.MaxInterval = p.Max
	b.Multiplier = p.Multiplier
	b.RandomizationFactor = max(p.Jitter, 0)
	b.MaxElapsedTime = 0
	b.Reset()
	w := b.NextBackOff()
	for range polls {
		w = b.NextBackOff()
	}
	return w
}

// wait returns the pause before the next read of job. Only the deployment
// job's end keeps people waiting, so reads are sparse (CreationFraction)
// until it has finished a task; then the next read is timed for when the
// running task should end, and a late task is watched more closely
// (Fraction).
func (p PollPolicy) wait(job *cloud.Job, creating bool, started, now time.Time, polls int) time.Duration {
	p = p.withDefaults()
	st := statsOf(job)
	fraction := p.Fraction
	if creating || st.ended == 0 {
		fraction = p.CreationFraction
	}
	limit := max(p.Initial, time.Duration(fraction*float64(now.Sub(started))))
	w := min(p.backOff(polls), limit)
	if next, ok := st.predict(now); ok {
		w = max(next.Sub(now), p.Initial)
	}
	return min(max(w, p.Initial), p.Max)
}

// taskStats sums up a job's tasks for the poll policy.
type taskStats struct {
	ended        int
	mean         time.Duration
	runningSince time.Time
}

func statsOf(job *cloud.Job) taskStats {
	var st taskStats
	if job == nil {
		return st
	}
	var total time.Duration
	for i := range job.Tasks {
		start, end, state := taskTimes(&job.Tasks[i])
		switch {
		case state == TaskSuccess && !start.IsZero() && end.After(start):
			total += end.Sub(start)
			st.ended++
		case state == TaskRunning && !start.IsZero():
			st.runningSince = start
		}
	}
	if st.ended > 0 {
		st.mean = total / time.Duration(st.ended)
	}
	return st
}

// predict guesses when the running task will end from the mean length of
// the job's ended tasks; no guess when there is none or the task is late.
func (st taskStats) predict(now time.Time) (time.Time, bool) {
	if st.ended == 0 || st.runningSince.IsZero() {
		return time.Time{}, false
	}
	// A fifth late, so that a task a little slower than the mean has ended.
	next := st.runningSince.Add(st.mean + st.mean/5)
	if !next.After(now) || next.Sub(now) > 4*st.mean {
		return time.Time{}, false
	}
	return next, true
}

// taskTimes reads a task's start, end and state from its events.
func taskTimes(t *cloud.Task) (start, end time.Time, state string) {
	state = TaskPending
	for _, ev := range t.Events {
		switch ev.EventType {
		case cloud.EventCreated:
			if start.IsZero() || ev.CreatedAt.Before(start) {
				start = ev.CreatedAt
			}
			if state == TaskPending {
				state = TaskRunning
			}
		case cloud.EventSuccess:
			end, state = ev.CreatedAt, TaskSuccess
		case cloud.EventFailed:
			end, state = ev.CreatedAt, TaskFailed
		}
	}
	return start, end, state
}
