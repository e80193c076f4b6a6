package cloudsim

import (
	"sort"
	"strings"
	"time"
)

// ProjectInfo is a snapshot of one live project, for test assertions.
type ProjectInfo struct {
	Name, ID, TenantID, Endpoint string
	// GraphQLURL is the app's GraphQL endpoint, what a client should show
	// whichever form Endpoint takes.
	GraphQLURL                     string
	Env                            map[string]string
	Owner, Repo, Branch, Directory string
	Plan, Region, Cloud            string
	CreatedAt, UpdatedAt           time.Time
	// Builds counts successful preview app creations applied to it: 1 after
	// the first, 2 after one rebuild; 0 for a createTenant project.
	Builds int
	// EnvUpdates counts env changes made in place (updateTenantEnv,
	// deleteTenantEnv) since the project was created.
	EnvUpdates int
	// LastCreationJobID and LastDeploymentJobID are the jobs of the latest
	// successful creation; empty for a createTenant project.
	LastCreationJobID, LastDeploymentJobID string
}

// JobInfo is a snapshot of a job at the clock's current time.
type JobInfo struct {
	ID, Kind, App, Status string
	CreatedAt, UpdatedAt  time.Time
	Tasks                 []TaskInfo // started tasks, in run order
}

// TaskInfo is one started task of a job.
type TaskInfo struct {
	ID, Name, Cloud, Region string
	Events                  []EventInfo
}

// EventInfo is one task event that has happened.
type EventInfo struct {
	ID, Type            string
	Error, GitHubDetail string
	// PublicData is the creation success payload (projectId,
	// githubDeploymentJobID); nil otherwise.
	PublicData map[string]string
	At         time.Time
}

func (p *project) info() ProjectInfo {
	return ProjectInfo{
		Name: p.name, ID: p.id, TenantID: p.tenantID, Endpoint: p.endpoint, Env: copyEnv(p.env),
		GraphQLURL: strings.TrimSuffix(p.endpoint, "/v1/graphql") + "/v1/graphql",
		Owner:      p.owner, Repo: p.repo, Branch: p.branch, Directory: p.directory,
		Plan: p.plan, Region: p.region, Cloud: p.cloud,
		CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, Builds: p.builds, EnvUpdates: p.envUpdates,
		LastCreationJobID: p.lastCreationJob, LastDeploymentJobID: p.lastDeployJob,
	}
}

func jobInfo(j *job, now time.Time) JobInfo {
	v := &jobView{j: j, now: now}
	info := JobInfo{ID: j.id, Kind: j.kind, App: j.app, Status: v.status(), CreatedAt: j.createdAt, UpdatedAt: v.updatedAt()}
	for _, t := range v.tasks() {
		ti := TaskInfo{ID: t.t.id, Name: t.t.name, Cloud: t.t.cloud, Region: t.t.region}
		for _, e := range t.events {
			ei := EventInfo{ID: e.id, Type: e.typ, Error: e.err, GitHubDetail: e.detail, At: e.at}
			if e.public != nil {
				ei.PublicData = map[string]string{}
				for _, k := range e.public.keys {
					ei.PublicData[k], _ = e.public.vals[k].(string)
				}
			}
			ti.Events = append(ti.Events, ei)
		}
		info.Tasks = append(info.Tasks, ti)
	}
	return info
}

// Project returns the live project called name.
func (s *Server) Project(name string) (ProjectInfo, bool) {
	s.lockAt()
	defer s.mu.Unlock()
	p := s.byName[name]
	if p == nil {
		return ProjectInfo{}, false
	}
	return p.info(), true
}

// Projects returns every live project, duplicates included, sorted by name.
func (s *Server) Projects() []ProjectInfo {
	s.lockAt()
	defer s.mu.Unlock()
	out := make([]ProjectInfo, 0, len(s.byID))
	for _, p := range s.projectsInOrder() {
		out = append(out, p.info())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Duplicate adds another project called name, as the Cloud can hold
// several projects of one name (graphql-engine#10287): a create of that
// name still rebuilds the first. It returns the duplicate.
func (s *Server) Duplicate(name string) ProjectInfo {
	now := s.lockAt()
	defer s.mu.Unlock()
	first := s.byName[name]
	p := &project{id: s.newID(), tenantID: s.newID(), name: name, endpoint: s.endpointOf(name),
		createdAt: now, updatedAt: now, env: map[string]string{}}
	if first != nil {
		p.env = copyEnv(first.env)
		p.owner, p.repo, p.branch, p.directory = first.owner, first.repo, first.branch, first.directory
		p.plan, p.region, p.cloud = first.plan, first.region, first.cloud
	}
	s.addProject(p)
	return p.info()
}

// Job returns a job as the API would show it now. A deployment job exists
// only once its creation job has succeeded.
func (s *Server) Job(id string) (JobInfo, bool) {
	now := s.lockAt()
	defer s.mu.Unlock()
	j := s.jobs[id]
	if j == nil || j.createdAt.After(now) {
		return JobInfo{}, false
	}
	return jobInfo(j, now), true
}

// Jobs returns every job of the app called name, oldest first, including
// those of earlier incarnations of the name.
func (s *Server) Jobs(name string) []JobInfo {
	now := s.lockAt()
	defer s.mu.Unlock()
	var out []JobInfo
	for _, j := range s.appJobs[name] {
		out = append(out, jobInfo(j, now))
	}
	return out
}

// DeleteByHand removes the project called name without an API call, as
// someone using the Cloud console would: drift for a reconciler to find.
// Its unfinished jobs become skipped. It reports whether the project existed.
func (s *Server) DeleteByHand(name string) bool {
	now := s.lockAt()
	defer s.mu.Unlock()
	p := s.byName[name]
	if p == nil {
		return false
	}
	s.removeProject(p, now)
	return true
}

// SetDurations overrides, for the app called name, how long its creation
// job and each deployment task take; zero keeps the server's default. It
// applies to creations requested afterwards.
func (s *Server) SetDurations(name string, creation, task time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appDurations[name] = [2]time.Duration{creation, task}
}

// FailTask makes the next deployment job of appName fail at taskName with
// errMsg and githubDetail. Calls queue: each deployment takes one.
func (s *Server) FailTask(appName, taskName, errMsg, githubDetail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failTask[appName] = append(s.failTask[appName],
		TaskFailure{App: appName, Task: taskName, Error: errMsg, GitHubDetail: githubDetail})
}

// FailCreation makes the next creation job of appName fail with errMsg.
// Calls queue: each creation takes one.
func (s *Server) FailCreation(appName, errMsg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCreation[appName] = append(s.failCreation[appName], errMsg)
}

// QuotaUsed returns the accepted createGitHubPreviewApp calls in the
// clock's current calendar month.
func (s *Server) QuotaUsed() int {
	now := s.lockAt()
	defer s.mu.Unlock()
	return s.quotaUsed(now)
}
