package preview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// DefaultDeadline bounds one Ensure, creation and deployment together. The
// official action polls the deployment job forever.
const DefaultDeadline = 20 * time.Minute

// DefaultNullJobGrace is how long jobs_by_pk may answer null for a job that
// was just created before the run gives up on it.
const DefaultNullJobGrace = 2 * time.Minute

// Engine builds and deletes preview apps on Hasura Cloud; set Cloud. The
// service calls Start, then Step until done; the action calls Ensure.
type Engine struct {
	Cloud CloudAPI
	// Now and Sleep default to the real clock.
	Now          func() time.Time
	Sleep        func(ctx context.Context, d time.Duration) error
	Poll         PollPolicy    // paces job reads; zero fields take DefaultPollPolicy's
	Deadline     time.Duration // bounds a run (default DefaultDeadline)
	NullJobGrace time.Duration // tolerates a job the API does not know yet
	Log          *slog.Logger
}

// Run is the state of one Ensure between steps, plain data (JSON) that a
// service keeps across restarts.
type Run struct {
	Result   Result    `json:"result"`
	Polls    int       `json:"polls"`     // reads of the run's jobs (the backoff's position)
	JobSince time.Time `json:"job_since"` // when the current job was first asked for
	// ProjectSince is when the new project was first read and found
	// missing: right after a creation the Cloud can answer null a while.
	ProjectSince time.Time `json:"project_since,omitzero"`
	Deadline     time.Time `json:"deadline"` // when the run gives up
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Start provisions the database (if any) and asks the Cloud to create or
// rebuild the app. The returned run is in StatusCreating.
func (e *Engine) Start(ctx context.Context, spec Spec) (*Run, error) {
	if err := ValidName(spec.Name); err != nil {
		return nil, err
	}
	env := spec.Env
	if spec.Databases != nil {
		dbEnv, err := spec.Databases.Ensure(ctx, spec.Name)
		if err != nil {
			return nil, fmt.Errorf("preparing the database of %q: %w", spec.Name, err)
		}
		env = MergeEnv(env, dbEnv)
	}
	vars := make([]cloud.EnvVar, 0, len(env))
	for _, v := range env {
		vars = append(vars, cloud.EnvVar{Key: v.Key, Value: v.Value})
	}
	jobID, err := e.Cloud.CreateGitHubPreviewApp(ctx, cloud.PreviewApp{
		GitHubToken: spec.GitHubToken, Owner: spec.Owner, Repo: spec.Repo, Branch: spec.Branch,
		Directory: spec.Directory, Name: spec.Name, Cloud: spec.Cloud, Region: spec.Region, Plan: spec.Plan, Env: vars,
	})
	if err != nil {
		return nil, fmt.Errorf("creating preview app %q: %w", spec.Name, err)
	}
	now := e.now()
	e.log().Info("preview app creation scheduled", "app", spec.Name, "job", jobID)
	return &Run{
		Result:   Result{Name: spec.Name, Status: StatusCreating, CreationJobID: jobID, Started: now},
		JobSince: now,
		Deadline: now.Add(orDefault(e.Deadline, DefaultDeadline)),
	}, nil
}

// Step reads the current job once, moves the run on and returns the wait
// before the next step, until run.Result.Status.Done(). progress (may be
// nil) hears every change. A transient Cloud failure only asks for another
// step; a permanent one is returned, with the run failed.
func (e *Engine) Step(ctx context.Context, run *Run, progress ProgressFunc) (time.Duration, error) {
	if run.Result.Status.Done() {
		return 0, nil
	}
	now := e.now()
	emit := func() {
		if progress != nil {
			progress(run.Result)
		}
	}
	end := func(s Status, msg string, err error) (time.Duration, error) {
		run.finish(s, now, msg)
		emit()
		return 0, err
	}
	fail := func(err error) (time.Duration, error) {
		return end(StatusFailed, err.Error(), fmt.Errorf("following preview app %q: %w", run.Result.Name, err))
	}
	// Past the deadline the job is still read once, as it may have ended
	// since the last read: only a job still running times out.
	late := !now.Before(run.Deadline)
	again := func(job *cloud.Job, changed bool) (time.Duration, error) {
		if late {
			phase, id := run.current()
			return end(StatusTimedOut, fmt.Sprintf("gave up after %s waiting for the %s job %s",
				run.Deadline.Sub(run.Result.Started).Round(time.Second), phase, id), nil)
		}
		if changed {
			emit()
		}
		return e.next(run, job, now), nil
	}
	phase, id := run.current()
	job, err := e.Cloud.Job(ctx, id)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		if grace := orDefault(e.NullJobGrace, DefaultNullJobGrace); !late && now.Sub(run.JobSince) >= grace {
			return end(StatusFailed, fmt.Sprintf("the Cloud does not know the %s job %s (waited %s)",
				phase, id, grace), nil)
		}
		return again(nil, false)
	case errors.Is(err, cloud.ErrTransient):
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !late {
			e.log().Warn("reading a job failed; will try again", "app", run.Result.Name, "error", err)
		}
		return again(nil, false)
	case err != nil:
		return fail(err)
	}

	changed := run.absorb(job)
	switch {
	case job.Status == cloud.JobSkipped:
		return end(StatusSuperseded, "a newer build of this preview replaced this one", nil)
	case job.Status == cloud.JobFailed:
		_, ev := job.Failure()
		run.Result.FirstRunFailure = ev != nil && (cloud.IsWarmingUp(ev.Error) || cloud.IsWarmingUp(ev.GitHubDetail))
		return end(StatusFailed, failureMessage(job), nil)
	case job.Status == cloud.JobSuccess && run.Result.Status == StatusCreating:
		err := e.deploying(ctx, run, job, now)
		if errors.Is(err, cloud.ErrTransient) || e.projectPending(run, err, now) {
			return again(nil, changed)
		}
		if err != nil {
			return fail(err)
		}
		// An app with nothing to deploy is up, deadline or not.
		late = late && !run.Result.Status.Done()
		return again(nil, true)
	case job.Status == cloud.JobSuccess:
		return end(StatusSuccess, "", nil)
	}
	return again(job, changed)
}

// deploying moves a run on to the deployment job, reading the endpoint
// from the API rather than guessing it from the name.
func (e *Engine) deploying(ctx context.Context, run *Run, job *cloud.Job, now time.Time) error {
	cr, err := job.CreationResult()
	if err != nil {
		return err
	}
	proj, err := e.Cloud.Project(ctx, cr.ProjectID)
	if err != nil {
		return fmt.Errorf("reading project %s: %w", cr.ProjectID, err)
	}
	run.ProjectSince = time.Time{}
	r := &run.Result
	r.ProjectID, r.TenantID, r.Endpoint = proj.ID, proj.TenantID, proj.GraphQLURL()
	r.ConsoleURL = cloud.ConsoleURL(proj.ID)
	r.DeploymentJobID = cr.GitHubDeploymentJobID
	r.Status = StatusDeploying
	// Polls goes on: the deployment's first task has nothing to predict from.
	run.JobSince = now
	if r.DeploymentJobID == "" {
		// Nothing to deploy: the app is up.
		run.finish(StatusSuccess, now, "")
	}
	return nil
}

// projectPending reports whether err is the null projects_by_pk of a fresh
// creation within the grace period, which the first such answer starts.
func (e *Engine) projectPending(run *Run, err error, now time.Time) bool {
	if !errors.Is(err, cloud.ErrNotFound) {
		return false
	}
	if run.ProjectSince.IsZero() {
		run.ProjectSince = now
	}
	return now.Sub(run.ProjectSince) < orDefault(e.NullJobGrace, DefaultNullJobGrace)
}

// orDefault is v if positive, else d.
func orDefault[T time.Duration | float64](v, d T) T {
	if v > 0 {
		return v
	}
	return d
}

// Ensure creates or rebuilds the app and follows both jobs to the end (read
// Result.Status; errors are for a refused token or a cancelled context). A
// deployment failing with the Cloud's first-run error is rebuilt once.
func (e *Engine) Ensure(ctx context.Context, spec Spec, progress ProgressFunc) (Result, error) {
	var deadline time.Time
	for rebuilt := false; ; rebuilt = true {
		run, err := e.Start(ctx, spec)
		if err != nil {
			return Result{Name: spec.Name, Status: StatusFailed, Message: err.Error(), AutoRebuilt: rebuilt}, err
		}
		if rebuilt {
			run.Deadline = deadline // the caller's timeout covers both builds
		}
		deadline = run.Deadline
		run.Result.AutoRebuilt = rebuilt
		if progress != nil {
			progress(run.Result)
		}
		res, err := e.Follow(ctx, run, progress)
		if err != nil || !res.FirstRunFailure || rebuilt {
			return res, err
		}
		e.log().Warn("the first deployment met the Cloud's first-run error; rebuilding once", "app", spec.Name)
	}
}

// Follow steps a started run until it is over.
func (e *Engine) Follow(ctx context.Context, run *Run, progress ProgressFunc) (Result, error) {
	sleep := e.Sleep
	if sleep == nil {
		sleep = clock.Sleep
	}
	for {
		wait, err := e.Step(ctx, run, progress)
		if err != nil || run.Result.Status.Done() {
			return run.Result, err
		}
		if err := sleep(ctx, wait); err != nil {
			return run.Result, err
		}
	}
}

func (e *Engine) next(run *Run, job *cloud.Job, now time.Time) time.Duration {
	w := e.Poll.wait(job, run.Result.Status == StatusCreating, run.Result.Started, now, run.Polls)
	run.Polls++
	if left := run.Deadline.Sub(now); w > left {
		w = max(left, 0)
	}
	return w
}

// current is the phase and id of the job the run follows.
func (r *Run) current() (phase, id string) {
	if r.Result.Status == StatusDeploying {
		return JobDeployment, r.Result.DeploymentJobID
	}
	return JobCreation, r.Result.CreationJobID
}

func (r *Run) finish(s Status, now time.Time, msg string) {
	r.Result.Status, r.Result.Finished, r.Result.Message = s, now, msg
	if s == StatusSuperseded || s == StatusTimedOut {
		for i := range r.Result.Tasks {
			if t := &r.Result.Tasks[i]; t.State == TaskRunning || t.State == TaskPending {
				t.State = TaskSkipped
			}
		}
	}
}

// absorb folds the job's tasks into the result and reports whether any
// task's state changed.
func (r *Run) absorb(job *cloud.Job) bool {
	phase, _ := r.current()
	var kept, old []TaskState
	for _, t := range r.Result.Tasks {
		if t.Job == phase {
			old = append(old, t)
		} else {
			kept = append(kept, t)
		}
	}
	var fresh []TaskState
	for i := range job.Tasks {
		t := &job.Tasks[i]
		start, end, state := taskTimes(t)
		ts := TaskState{Job: phase, Name: t.Name, State: state, Started: start, Finished: end}
		if ev := t.Last(); ev != nil && state == TaskFailed {
			ts.Error, ts.GitHubDetail = ev.Error, ev.GitHubDetail
		}
		fresh = append(fresh, ts)
	}
	r.Result.Tasks = append(kept, fresh...)
	return !slices.EqualFunc(old, fresh, func(a, b TaskState) bool { return a.State == b.State && a.Name == b.Name })
}

// failureMessage names the failing task and its error.
func failureMessage(job *cloud.Job) string {
	t, ev := job.Failure()
	if t == nil {
		return "the job failed without saying why"
	}
	if ev.Error == "" {
		return fmt.Sprintf("task %s failed", t.Name)
	}
	return fmt.Sprintf("task %s failed: %s", t.Name, ev.Error)
}
