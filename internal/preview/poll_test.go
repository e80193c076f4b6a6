package preview

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// jobOf builds a job whose tasks ran over the given [start, end) spans
// from base; an end of 0 means the task is still running.
func jobOf(base time.Time, spans ...[2]time.Duration) *cloud.Job {
	j := &cloud.Job{ID: "job", Status: "running"}
	for i, s := range spans {
		t := cloud.Task{Name: fmt.Sprintf("task-%d", i)}
		t.Events = append(t.Events, cloud.TaskEvent{EventType: cloud.EventCreated, CreatedAt: base.Add(s[0])})
		if s[1] != 0 {
			t.Events = append(t.Events, cloud.TaskEvent{EventType: cloud.EventSuccess, CreatedAt: base.Add(s[1])})
		}
		j.Tasks = append(j.Tasks, t)
	}
	return j
}

func TestPollPolicyDefaults(t *testing.T) {
	if got := (PollPolicy{}).withDefaults(); got != DefaultPollPolicy() {
		t.Errorf("zero policy = %+v, want the defaults", got)
	}
	none := PollPolicy{Jitter: -1}.withDefaults()
	if none.Jitter >= 0 || none.withDefaults() != none {
		t.Errorf("negative jitter became %v, want it kept (none)", none.Jitter)
	}
	for range 20 {
		if none.backOff(3) != none.backOff(3) {
			t.Fatal("a policy without jitter waits differently for the same poll")
		}
	}
	custom := PollPolicy{Initial: time.Second, Max: 10 * time.Second, Multiplier: 3, Jitter: 0.5, Fraction: 0.2, CreationFraction: 0.4}
	if got := custom.withDefaults(); got != custom {
		t.Errorf("custom policy changed to %+v", got)
	}
}

func TestPollWaitStaysWithinBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	policies := []PollPolicy{DefaultPollPolicy(), {}, {Initial: 5 * time.Second, Max: 20 * time.Second, Jitter: 0.9},
		{Initial: time.Second, Max: time.Second}}
	for _, p := range policies {
		d := p.withDefaults()
		for range 2000 {
			elapsed := time.Duration(rng.Int64N(int64(time.Hour)))
			now := simStart.Add(elapsed)
			var job *cloud.Job
			if rng.IntN(2) == 0 {
				// Some finished tasks and one running, at random times.
				var spans [][2]time.Duration
				at := time.Duration(0)
				for range rng.IntN(5) {
					l := time.Duration(rng.Int64N(int64(5 * time.Minute)))
					spans = append(spans, [2]time.Duration{at, at + l})
					at += l
				}
				spans = append(spans, [2]time.Duration{min(at, elapsed), 0})
				job = jobOf(simStart, spans...)
			}
			w := p.wait(job, false, simStart, now, rng.IntN(100))
			if w < d.Initial || w > d.Max {
				t.Fatalf("policy %+v: wait %v outside [%v, %v]", p, w, d.Initial, d.Max)
			}
		}
	}
}

func TestPollPredictsFromFinishedTasks(t *testing.T) {
	p := steadyPoll()
	// Two tasks took 20 s each; the third started at 40 s. Its end is
	// expected at 60 s, read a fifth of a task later: 64 s.
	job := jobOf(simStart, [2]time.Duration{0, 20 * time.Second}, [2]time.Duration{20 * time.Second, 40 * time.Second},
		[2]time.Duration{40 * time.Second, 0})
	now := simStart.Add(45 * time.Second)
	if w := p.wait(job, false, simStart.Add(-time.Minute), now, 3); w != 19*time.Second {
		t.Errorf("wait = %v, want 19s", w)
	}
	// Close to the expected end the floor applies.
	if w := p.wait(job, false, simStart.Add(-time.Minute), simStart.Add(63*time.Second), 3); w != p.Initial {
		t.Errorf("wait near the end = %v, want %v", w, p.Initial)
	}
	// A long expected task is still capped.
	long := jobOf(simStart, [2]time.Duration{0, 10 * time.Minute}, [2]time.Duration{10 * time.Minute, 0})
	if w := p.wait(long, false, simStart, simStart.Add(10*time.Minute+time.Second), 0); w != p.Max {
		t.Errorf("wait for a long task = %v, want %v", w, p.Max)
	}
}

func TestPollFallsBackWhenLate(t *testing.T) {
	p := steadyPoll().withDefaults()
	job := jobOf(simStart, [2]time.Duration{0, 20 * time.Second}, [2]time.Duration{20 * time.Second, 0})
	// Expected at 41 s; at 90 s the task is late: back off as without a hint.
	now := simStart.Add(90 * time.Second)
	started := simStart.Add(-time.Hour)
	for polls := range 8 {
		want := min(p.backOff(polls), p.Max)
		if w := p.wait(job, false, started, now, polls); w != want {
			t.Errorf("polls %d: wait %v, want the backoff %v", polls, w, want)
		}
	}
	// The backoff grows by Multiplier up to Max.
	if a, b := p.backOff(0), p.backOff(1); a != p.Initial || b != time.Duration(float64(p.Initial)*p.Multiplier) {
		t.Errorf("backoff %v, %v", a, b)
	}
	if w := p.backOff(50); w != p.Max {
		t.Errorf("backoff after 50 polls = %v, want %v", w, p.Max)
	}
}

func TestPollWithoutHint(t *testing.T) {
	p := steadyPoll().withDefaults()
	// No finished task yet (the creation job, the first deployment task):
	// the backoff, capped by CreationFraction of the time spent so far.
	first := jobOf(simStart, [2]time.Duration{0, 0})
	now := simStart.Add(30 * time.Second)
	if w := p.wait(first, false, simStart, now, 10); w != 15*time.Second {
		t.Errorf("wait 30 s into the run after 10 polls = %v, want 15s (50%%)", w)
	}
	// Once a task has ended but the next is late, Fraction caps it.
	late := jobOf(simStart, [2]time.Duration{0, 5 * time.Second}, [2]time.Duration{5 * time.Second, 0})
	if w := p.wait(late, false, simStart, now, 10); w != 3*time.Second {
		t.Errorf("wait for a late task 30 s into the run = %v, want 3s (10%%)", w)
	}
	if w := p.wait(nil, false, simStart, simStart.Add(time.Hour), 10); w != p.backOff(10) {
		t.Errorf("wait an hour into the run = %v, want the backoff %v", w, p.backOff(10))
	}
}

// TestCloudCallsPerPreview bounds what one preview costs in Cloud calls.
// The free tier allows 60 preview-app calls a month; the official action
// reads the deployment job every 2 s (300 reads for a 10-minute job).
//
// Measured with the default policy without jitter (the creation job a
// quarter of the time, then seven equal deployment tasks; jitter changes
// none of these numbers):
//
//	total  jobs_by_pk  projects_by_pk  create  end noticed after
//	30s    12          1               1       0.6s
//	2m     15          1               1       2.6s
//	10m    21          1               1       4.3s
//
// Until the deployment job has finished a task there is nothing to predict
// from; reads are then spaced by CreationFraction (50%) of the time so far,
// since noticing those ends late delays nothing. (With Fraction throughout
// the 10-minute run cost 51 reads; with per-task prediction from the first
// deployment task on, 31.)
func TestCloudCallsPerPreview(t *testing.T) {
	cases := []struct {
		total   time.Duration
		maxJobs int
	}{
		{30 * time.Second, 16},
		{2 * time.Minute, 32},
		{10 * time.Minute, 60},
	}
	for _, c := range cases {
		t.Run(c.total.String(), func(t *testing.T) {
			creation := c.total / 4
			task := (c.total - creation) / 7
			h := newHarness(t, func(o *cloudsim.Options) { o.CreationDuration, o.TaskDuration = creation, task })
			res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-50"), nil)
			if err != nil || res.Status != StatusSuccess {
				t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
			}
			jobs, projects, creates := h.sim.Count(cloud.OpJob), h.sim.Count(cloud.OpProject), h.sim.Count(cloud.OpCreatePreviewApp)
			lag := res.Finished.Sub(simStart.Add(creation + 7*task))
			t.Logf("%v: jobs_by_pk %d, projects_by_pk %d, create %d, noticed %v after the end", c.total, jobs, projects, creates, lag)
			if jobs > c.maxJobs || projects != 1 || creates != 1 {
				t.Errorf("%v: jobs_by_pk %d (bound %d), projects_by_pk %d, create %d", c.total, jobs, c.maxJobs, projects, creates)
			}
			// The end is noticed within Fraction of the run's length.
			if lag < 0 || lag > c.total/10 {
				t.Errorf("the end was noticed %v after it happened", lag)
			}
		})
	}
}
