package cloud

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// EnvVar is one environment variable of a project: the Cloud's
// UpdateEnvsObject (createGitHubPreviewApp) and UpdateEnvObject
// (updateTenantEnv) both have exactly these two fields.
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// PreviewApp is the input of createGitHubPreviewApp.
type PreviewApp struct {
	// GitHubToken lets the Cloud read the branch (a PAT or an installation
	// token narrowed to the repository with contents: read).
	GitHubToken string
	Owner       string
	Repo        string
	Branch      string
	Directory   string // the Hasura project's path in the repository; "" is the root
	Name        string
	Cloud       string // "aws" or "gcp"
	Region      string
	Plan        string
	Env         []EnvVar
}

// Job statuses. Anything else means the job is still in progress.
const (
	JobSuccess = "success"
	JobFailed  = "failed"
	JobSkipped = "skipped"
)

// Task event types.
const (
	EventCreated = "created"
	EventSuccess = "success"
	EventFailed  = "failed"
)

// Job is a creation or deployment job as jobs_by_pk returns it, tasks in
// the order they last changed and events oldest first.
type Job struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Tasks  []Task `json:"tasks"`
}

// Done reports whether the job reached a terminal status.
func (j *Job) Done() bool {
	return j.Status == JobSuccess || j.Status == JobFailed || j.Status == JobSkipped
}

// Task is one step of a job, such as "apply-migration".
type Task struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Cloud     string      `json:"cloud"`
	Region    string      `json:"region"`
	UpdatedAt time.Time   `json:"updated_at"`
	Events    []TaskEvent `json:"task_events"`
}

// Last returns the newest event of the task, or nil.
func (t *Task) Last() *TaskEvent {
	if len(t.Events) == 0 {
		return nil
	}
	return &t.Events[len(t.Events)-1]
}

// TaskEvent is one state change of a task; a failed one has Error.
type TaskEvent struct {
	ID              string          `json:"id"`
	EventType       string          `json:"event_type"`
	PublicEventData json.RawMessage `json:"public_event_data"`
	Error           string          `json:"error"`
	GitHubDetail    string          `json:"github_detail"`
	CreatedAt       time.Time       `json:"created_at"`
}

// UnmarshalJSON accepts error and github_detail as strings, null, or any
// other JSON (kept as its text): the Cloud has sent objects there.
func (e *TaskEvent) UnmarshalJSON(b []byte) error {
	type plain TaskEvent
	var raw struct {
		plain
		Error        json.RawMessage `json:"error"`
		GitHubDetail json.RawMessage `json:"github_detail"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = TaskEvent(raw.plain)
	e.Error, e.GitHubDetail = looseString(raw.Error), looseString(raw.GitHubDetail)
	if string(e.PublicEventData) == "null" {
		e.PublicEventData = nil
	}
	return nil
}

// CreationResult is the public_event_data of a creation job's success event.
type CreationResult struct {
	ProjectID             string `json:"projectId"`
	GitHubDeploymentJobID string `json:"githubDeploymentJobID"`
}

// CreationResult reads the success event of a finished creation job.
func (j *Job) CreationResult() (CreationResult, error) {
	for _, t := range j.Tasks {
		for _, ev := range t.Events {
			if ev.EventType != EventSuccess || len(ev.PublicEventData) == 0 {
				continue
			}
			var r CreationResult
			if err := json.Unmarshal(ev.PublicEventData, &r); err != nil {
				return CreationResult{}, fmt.Errorf("reading the creation result of job %s: %w", j.ID, err)
			}
			if r.ProjectID != "" || r.GitHubDeploymentJobID != "" {
				return r, nil
			}
		}
	}
	return CreationResult{}, fmt.Errorf("job %s has no success event with a project id", j.ID)
}

// Failure returns the first failed task and its failing event, if any.
func (j *Job) Failure() (*Task, *TaskEvent) {
	for i := range j.Tasks {
		t := &j.Tasks[i]
		for k := range t.Events {
			if t.Events[k].EventType == EventFailed {
				return t, &t.Events[k]
			}
		}
	}
	return nil, nil
}

// Project is a Cloud project with its tenant.
type Project struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	TenantID string `json:"-"`
}

// UnmarshalJSON flattens tenant { id } into TenantID.
func (p *Project) UnmarshalJSON(b []byte) error {
	type plain Project
	var raw struct {
		plain
		Tenant struct {
			ID string `json:"id"`
		} `json:"tenant"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*p = Project(raw.plain)
	p.TenantID = raw.Tenant.ID
	return nil
}

// GraphQLURL is the app's GraphQL endpoint. projects.endpoint is most
// likely the bare origin (https://<name>.hasura.app): public PAT clients
// append "/healthz" and "/v1/metadata" to it, and the official action
// builds "https://<name>.hasura.app/v1/graphql" itself. Any plausible form
// (an origin, with or without scheme or trailing slash, the GraphQL URL
// itself) is accepted; "" stays "".
func (p *Project) GraphQLURL() string {
	e := strings.TrimSpace(p.Endpoint)
	if e == "" {
		return ""
	}
	if !strings.Contains(e, "://") {
		e = "https://" + e
	}
	e = strings.TrimRight(e, "/")
	if strings.HasSuffix(e, "/v1/graphql") {
		return e
	}
	return e + "/v1/graphql"
}

// ConsoleURL is where a person opens the project's console. The id comes
// from the API's answer: escaped, it stays one path segment.
func ConsoleURL(projectID string) string {
	return "https://cloud.hasura.io/project/" + url.PathEscape(projectID) + "/console"
}

// TenantEnv is a tenant's environment and the hash that guards changes.
type TenantEnv struct {
	Hash string
	Vars map[string]string
}

// UnmarshalJSON reads envVars. Hasura's console reads the variables under
// "environment" (envVars: {"environment": {"KEY": "value"}}); a flat object
// of variables is accepted too, since no public source rules it out. A
// value of another JSON type is kept as its JSON text rather than failing
// the call.
func (t *TenantEnv) UnmarshalJSON(b []byte) error {
	var raw struct {
		Hash    string          `json:"hash"`
		EnvVars json.RawMessage `json:"envVars"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	t.Hash = raw.Hash
	t.Vars = map[string]string{}
	if len(raw.EnvVars) == 0 || string(raw.EnvVars) == "null" {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw.EnvVars, &obj); err != nil {
		// Some Hasura jsonb answers arrive as a JSON string holding JSON.
		var text string
		if json.Unmarshal(raw.EnvVars, &text) != nil || json.Unmarshal([]byte(text), &obj) != nil {
			return fmt.Errorf("envVars is neither an object nor a JSON string of one: %w", err)
		}
	}
	if nested, ok := obj["environment"]; ok && len(nested) > 0 && nested[0] == '{' {
		obj = nil
		if err := json.Unmarshal(nested, &obj); err != nil {
			return err
		}
	}
	for k, v := range obj {
		t.Vars[k] = looseString(v)
	}
	return nil
}

// looseString reads a JSON string as itself, null as "", else its text.
func looseString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return string(raw)
}
