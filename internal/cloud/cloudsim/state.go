package cloudsim

import (
	"crypto/sha1"
	"encoding/hex"
	"time"
)

// Task names, in the order the real deployment job runs them.
var deploymentTasks = []string{
	"gh-validation", "parse-metadata", "parse-migration",
	"apply-metadata", "apply-migration", "reload-metadata", "check-healthz",
}

// CreationTask is the single task of a preview app creation job.
const CreationTask = "create-github-preview-app"

// Job kinds, as reported by JobInfo.Kind.
const (
	KindCreation   = "creation"
	KindDeployment = "deployment"
)

// Job status values, as the API reports them.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusSuccess = "success"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// project is one Cloud project with its tenant (one to one here).
type project struct {
	id, tenantID, name, endpoint   string
	env                            map[string]string
	owner, repo, branch, directory string
	plan, region, cloud            string
	createdAt, updatedAt           time.Time
	builds                         int
	envUpdates                     int
	nullReads                      int // projects_by_pk answers null this many more times
	lastCreationJob, lastDeployJob string
	seq                            int // insertion order, the default list order
}

// job is a fully scheduled job: every event it will ever have is known when
// it is created, and what a request sees is the part whose time has come.
type job struct {
	id        string
	kind      string
	app       string
	createdAt time.Time
	tasks     []*task
	skipped   bool
	skippedAt time.Time
	nullReads int           // jobs_by_pk answers null this many more times
	create    *creationSpec // creation jobs only
}

type task struct {
	id, name, cloud, region string
	events                  []*event // ascending by time
}

type event struct {
	id, typ     string
	at          time.Time
	public      *ordMap
	err, detail string
}

// creationSpec is what a successful creation job does to the world.
type creationSpec struct {
	name, projectID, tenantID, deployJobID string
	env                                    map[string]string
	owner, repo, branch, directory         string
	plan, region, cloud                    string
	taskDuration                           time.Duration
}

func (j *job) end() time.Time {
	last := j.tasks[len(j.tasks)-1]
	return last.events[len(last.events)-1].at
}

// shows reports whether e has happened by now and before any skip froze the job.
func (j *job) shows(e *event, now time.Time) bool {
	if e.at.After(now) {
		return false
	}
	return !j.skipped || !e.at.After(j.skippedAt)
}

func (j *job) status(now time.Time) string {
	if j.skipped {
		return StatusSkipped
	}
	for _, t := range j.tasks {
		for _, e := range t.events {
			if e.typ == StatusFailed && j.shows(e, now) {
				return StatusFailed
			}
		}
	}
	if !j.end().After(now) {
		return StatusSuccess
	}
	if now.Equal(j.createdAt) {
		return StatusCreated
	}
	return StatusRunning
}

func (j *job) terminal(now time.Time) bool {
	switch j.status(now) {
	case StatusSuccess, StatusFailed, StatusSkipped:
		return true
	}
	return false
}

// jobView is a job as seen at one instant.
type jobView struct {
	j   *job
	now time.Time
}

func (v *jobView) status() string { return v.j.status(v.now) }

func (v *jobView) updatedAt() time.Time {
	latest := v.j.createdAt
	for _, t := range v.j.tasks {
		for _, e := range t.events {
			if v.j.shows(e, v.now) && e.at.After(latest) {
				latest = e.at
			}
		}
	}
	if v.j.skipped && v.j.skippedAt.After(latest) {
		latest = v.j.skippedAt
	}
	return latest
}

// tasks lists the tasks that have started, in insertion order.
func (v *jobView) tasks() []*taskView {
	var out []*taskView
	for _, t := range v.j.tasks {
		tv := &taskView{t: t}
		for _, e := range t.events {
			if v.j.shows(e, v.now) {
				tv.events = append(tv.events, e)
			}
		}
		if len(tv.events) > 0 {
			out = append(out, tv)
		}
	}
	return out
}

type taskView struct {
	t      *task
	events []*event
}

func (t *taskView) updatedAt() time.Time { return t.events[len(t.events)-1].at }

// envHash is the optimistic-concurrency token of an env: a hex SHA-1 of its
// canonical JSON form.
func envHash(env map[string]string) string {
	sum := sha1.Sum(appendJSON(nil, sortedObject(env)))
	return hex.EncodeToString(sum[:])
}

func copyEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// taskGap separates a task's end from the next task's start, so ordering by
// updated_at never ties on the usual durations, as real timestamps do not.
func taskGap(d time.Duration) time.Duration {
	return min(time.Microsecond, d/2)
}

// newCreationJob schedules a creation job: created now, then success or
// failure after d.
func (s *Server) newCreationJob(spec *creationSpec, now time.Time, d time.Duration, failure string) *job {
	j := &job{id: s.newID(), kind: KindCreation, app: spec.name, createdAt: now, create: spec}
	t := &task{id: s.newID(), name: CreationTask, cloud: spec.cloud, region: spec.region}
	t.events = append(t.events, &event{id: s.newID(), typ: StatusCreated, at: now})
	final := &event{id: s.newID(), typ: StatusSuccess, at: now.Add(d)}
	if failure != "" {
		final.typ, final.err = StatusFailed, failure
	} else {
		final.public = newOrdMap()
		final.public.set("projectId", spec.projectID)
		final.public.set("githubDeploymentJobID", spec.deployJobID)
	}
	t.events = append(t.events, final)
	j.tasks = []*task{t}
	return j
}

// newDeploymentJob schedules the seven deployment tasks from start, each
// lasting d; a failing task ends the schedule.
func (s *Server) newDeploymentJob(spec *creationSpec, start time.Time, fail *TaskFailure) *job {
	d := spec.taskDuration
	j := &job{id: spec.deployJobID, kind: KindDeployment, app: spec.name, createdAt: start}
	at := start
	for _, name := range deploymentTasks {
		t := &task{id: s.newID(), name: name, cloud: spec.cloud, region: spec.region}
		t.events = append(t.events, &event{id: s.newID(), typ: StatusCreated, at: at})
		final := &event{id: s.newID(), typ: StatusSuccess, at: at.Add(d - taskGap(d))}
		failed := fail != nil && fail.Task == name
		if failed {
			final.typ, final.err, final.detail = StatusFailed, fail.Error, fail.GitHubDetail
		}
		t.events = append(t.events, final)
		j.tasks = append(j.tasks, t)
		if failed {
			break
		}
		at = at.Add(d)
	}
	return j
}

// lockAt takes the state lock and brings the world up to the clock, for
// requests and inspections alike. The caller unlocks s.mu.
func (s *Server) lockAt() time.Time {
	s.mu.Lock()
	now := s.opts.Clock.Now()
	s.advance(now)
	return now
}

// advance applies every creation job that has finished by now: the project
// appears (or is rebuilt) and its deployment job starts at that instant.
func (s *Server) advance(now time.Time) {
	kept := s.pending[:0]
	for _, j := range s.pending {
		if j.skipped {
			continue
		}
		if j.end().After(now) {
			kept = append(kept, j)
			continue
		}
		if j.status(now) == StatusSuccess {
			s.applyCreation(j)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept
}

func (s *Server) applyCreation(j *job) {
	spec, at := j.create, j.end()
	p := s.byName[spec.name]
	fresh := p == nil
	if fresh {
		p = &project{
			id: spec.projectID, tenantID: spec.tenantID, name: spec.name,
			endpoint: s.endpointOf(spec.name), createdAt: at,
		}
		s.addProject(p)
	}
	p.env = copyEnv(spec.env)
	p.owner, p.repo, p.branch, p.directory = spec.owner, spec.repo, spec.branch, spec.directory
	p.plan, p.region, p.cloud = spec.plan, spec.region, spec.cloud
	p.updatedAt = at
	p.builds++
	p.lastCreationJob, p.lastDeployJob = j.id, spec.deployJobID
	fail := s.takeTaskFailure(spec.name)
	nullReads := 0
	if fresh && s.opts.FirstRun {
		p.nullReads, nullReads = 1, 2
		if fail == nil {
			fail = &TaskFailure{Task: "apply-metadata", Error: WarmingUpText}
		}
	}
	d := s.newDeploymentJob(spec, at, fail)
	d.nullReads = nullReads
	s.addJob(d)
}

// endpointOf is projects.endpoint of a project called name.
func (s *Server) endpointOf(name string) string {
	if s.opts.EndpointWithPath {
		return "https://" + name + ".hasura.app/v1/graphql"
	}
	return "https://" + name + ".hasura.app"
}

// addProject adds p; a create of its name rebuilds the first project of
// that name, so a duplicate does not take the name over.
func (s *Server) addProject(p *project) {
	s.projectSeq++
	p.seq = s.projectSeq
	if s.byName[p.name] == nil {
		s.byName[p.name] = p
	}
	s.byID[p.id] = p
	s.byTenant[p.tenantID] = p
}

// removeProject deletes p. Another project of the same name (a duplicate)
// then becomes the one a create of that name rebuilds; only when none is
// left are the name's unfinished jobs skipped.
func (s *Server) removeProject(p *project, now time.Time) {
	delete(s.byID, p.id)
	delete(s.byTenant, p.tenantID)
	if s.byName[p.name] != p {
		return
	}
	delete(s.byName, p.name)
	for _, q := range s.projectsInOrder() {
		if q.name == p.name {
			s.byName[p.name] = q
		}
	}
	if s.byName[p.name] == nil {
		s.skipUnfinished(p.name, now)
	}
}

func (s *Server) addJob(j *job) {
	s.jobs[j.id] = j
	s.appJobs[j.app] = append(s.appJobs[j.app], j)
	if j.kind == KindCreation {
		s.pending = append(s.pending, j)
	}
}

// skipUnfinished marks every job of app still in progress as skipped, the
// way a newer create or a delete supersedes it.
func (s *Server) skipUnfinished(app string, now time.Time) {
	for _, j := range s.appJobs[app] {
		if !j.terminal(now) {
			j.skipped, j.skippedAt = true, now
		}
	}
}

// takeTaskFailure returns the failure the next deployment of app should
// suffer: a one-shot FailTask first, then a standing Options.FailTasks rule.
func (s *Server) takeTaskFailure(app string) *TaskFailure {
	if q := s.failTask[app]; len(q) > 0 {
		f := q[0]
		s.failTask[app] = q[1:]
		return &f
	}
	for _, f := range s.opts.FailTasks {
		if f.App == "" || f.App == app {
			return &f
		}
	}
	return nil
}
