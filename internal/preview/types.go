package preview

import (
	"context"
	"slices"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// CloudAPI is what the engine needs of the Hasura Cloud client.
type CloudAPI interface {
	CreateGitHubPreviewApp(ctx context.Context, in cloud.PreviewApp) (string, error)
	Job(ctx context.Context, id string) (*cloud.Job, error)
	Project(ctx context.Context, id string) (*cloud.Project, error)
	ProjectsByName(ctx context.Context, name string) ([]cloud.Project, error)
	DeleteTenant(ctx context.Context, tenantID string) error
	TenantEnv(ctx context.Context, tenantID string) (*cloud.TenantEnv, error)
	UpdateTenantEnv(ctx context.Context, tenantID, currentHash string, env []cloud.EnvVar) (*cloud.TenantEnv, error)
	DeleteTenantEnv(ctx context.Context, tenantID, currentHash string, keys []string) (*cloud.TenantEnv, error)
}

// Databases provisions a preview's ephemeral Postgres database (see
// PostgresDatabases); Ensure returns the env vars that point at it.
type Databases interface {
	Ensure(ctx context.Context, app string) ([]EnvVar, error)
	Drop(ctx context.Context, app string) error
	// EnvKeys names the variables Ensure sets; env updates leave them alone.
	EnvKeys() []string
}

// Spec says which preview to build and from what.
type Spec struct {
	Name                string    // already valid (see AppName)
	Owner, Repo, Branch string    // the branch: for a fork, the head repository's
	Directory           string    // the Hasura project's path ("" = root)
	Cloud, Region, Plan string    // as the Cloud names them; Cloud "aws" (default) or "gcp"
	Env                 []EnvVar  // Databases' variables override it
	GitHubToken         string    // lets the Cloud read the branch
	Databases           Databases // when set, makes an ephemeral database for the app
}

// Status is where a preview stands.
type Status string

// Statuses of a Result.
const (
	StatusCreating   Status = "creating"
	StatusDeploying  Status = "deploying"
	StatusSuccess    Status = "success"
	StatusFailed     Status = "failed"
	StatusSuperseded Status = "superseded" // a newer push took over: not a failure
	StatusTimedOut   Status = "timed_out"
	StatusDeleted    Status = "deleted"
)

// Done reports whether the status is final for this run.
func (s Status) Done() bool {
	return s != StatusCreating && s != StatusDeploying && s != ""
}

// Task states.
const (
	TaskPending = "pending"
	TaskRunning = "running"
	TaskSuccess = "success"
	TaskFailed  = "failed"
	TaskSkipped = "skipped"
)

// Jobs a task can belong to.
const (
	JobCreation   = "creation"
	JobDeployment = "deployment"
)

// TaskState is one task of the creation or deployment job as last seen.
type TaskState struct {
	Job          string    `json:"job"`
	Name         string    `json:"name"`
	State        string    `json:"state"`
	Started      time.Time `json:"started,omitzero"`
	Finished     time.Time `json:"finished,omitzero"`
	Error        string    `json:"error,omitempty"`
	GitHubDetail string    `json:"github_detail,omitempty"`
}

// Duration is how long the task ran (so far, for a running task: zero).
func (t TaskState) Duration() time.Duration {
	if t.Started.IsZero() || t.Finished.IsZero() {
		return 0
	}
	return t.Finished.Sub(t.Started)
}

// Result is what a reviewer and a workflow need to know of a preview.
type Result struct {
	Name            string      `json:"name"`
	Status          Status      `json:"status"`
	ProjectID       string      `json:"project_id,omitempty"`
	TenantID        string      `json:"tenant_id,omitempty"`
	Endpoint        string      `json:"endpoint,omitempty"`
	ConsoleURL      string      `json:"console_url,omitempty"`
	CreationJobID   string      `json:"creation_job_id,omitempty"`
	DeploymentJobID string      `json:"deployment_job_id,omitempty"`
	Tasks           []TaskState `json:"tasks,omitempty"`
	Started         time.Time   `json:"started,omitzero"`
	Finished        time.Time   `json:"finished,omitzero"`
	// Message explains a failure, a timeout or a supersession.
	Message string `json:"message,omitempty"`
	// FirstRunFailure marks a deployment refused with the Cloud's first-run
	// error ("If you have just created this project please wait a few
	// moments…", action#91: "Rerun works"); it is rebuilt once.
	FirstRunFailure bool `json:"first_run_failure,omitempty"`
	// AutoRebuilt marks the build that followed such a failure.
	AutoRebuilt bool `json:"auto_rebuilt,omitempty"`
	// EnvUpdate, when set, is an in-place env change made after the build.
	EnvUpdate *EnvUpdate `json:"env_update,omitempty"`
}

// EnvUpdate is an in-place env change: the app restarts, nothing is applied
// again. It names keys only: values are often secrets.
type EnvUpdate struct {
	At      time.Time `json:"at"`
	Set     []string  `json:"set,omitempty"`
	Deleted []string  `json:"deleted,omitempty"`
}

// Masked returns a copy of r with mask applied to every text in it.
func (r Result) Masked(mask func(string) string) Result {
	for _, s := range []*string{&r.Name, &r.ProjectID, &r.TenantID, &r.Endpoint, &r.ConsoleURL,
		&r.CreationJobID, &r.DeploymentJobID, &r.Message} {
		*s = mask(*s)
	}
	r.Tasks = slices.Clone(r.Tasks)
	for i := range r.Tasks {
		t := &r.Tasks[i]
		t.Job, t.Name, t.State, t.Error, t.GitHubDetail = mask(t.Job), mask(t.Name), mask(t.State), mask(t.Error), mask(t.GitHubDetail)
	}
	return r
}

// FailedTask returns the task that failed, or nil.
func (r *Result) FailedTask() *TaskState {
	if i := slices.IndexFunc(r.Tasks, func(t TaskState) bool { return t.State == TaskFailed }); i >= 0 {
		return &r.Tasks[i]
	}
	return nil
}

// ProgressFunc hears about every change of a task's state or of the status.
// It runs on the engine's goroutine: keep it quick.
type ProgressFunc func(Result)
