package cloud

import (
	"cmp"
	"context"
	"errors"
	"strings"
)

// Operation names, as counted by cloudsim and reported to observers.
const (
	OpCreatePreviewApp = "createGitHubPreviewApp"
	OpJob              = "jobs_by_pk"
	OpProjects         = "projects"
	OpProject          = "projects_by_pk"
	OpDeleteTenant     = "deleteTenant"
	OpGetTenantEnv     = "getTenantEnv"
	OpUpdateTenantEnv  = "updateTenantEnv"
	OpDeleteTenantEnv  = "deleteTenantEnv"
)

// createPreviewAppQuery follows Hasura's console code generated from the
// Cloud schema: createGitHubPreviewApp(payload: CreateGithubPreviewAppInputPayload)
// returns PreviewAppResponse { githubPreviewAppJobID github_preview_app_job },
// with githubRepoDetails: GithubRepoDetails and projectOptions: ProjectOptions
// (plan nullable, envVars: [UpdateEnvsObject]). Only the job id is read: the
// project comes from the job's success event.
const createPreviewAppQuery = `mutation createGitHubPreviewApp(
  $githubPAT: String!, $owner: String!, $repo: String!, $branch: String!, $directory: String!,
  $name: String!, $cloud: String!, $region: String!, $plan: String!, $envVars: [UpdateEnvsObject]
) {
  createGitHubPreviewApp(payload: {
    githubPersonalAccessToken: $githubPAT,
    githubRepoDetails: {owner: $owner, repo: $repo, branch: $branch, directory: $directory},
    projectOptions: {name: $name, cloud: $cloud, region: $region, plan: $plan, envVars: $envVars}
  }) {
    githubPreviewAppJobID
  }
}`

// CreateGitHubPreviewApp schedules the creation (or, for an existing name,
// the rebuild) of a preview app and returns the creation job's id.
func (c *Client) CreateGitHubPreviewApp(ctx context.Context, in PreviewApp) (string, error) {
	envVars := in.Env
	if envVars == nil {
		envVars = []EnvVar{}
	}
	var out struct {
		Create struct {
			JobID string `json:"githubPreviewAppJobID"`
		} `json:"createGitHubPreviewApp"`
	}
	err := c.run(ctx, OpCreatePreviewApp, createPreviewAppQuery, map[string]any{
		"githubPAT": in.GitHubToken, "owner": in.Owner, "repo": in.Repo, "branch": in.Branch,
		"directory": in.Directory, "name": in.Name, "cloud": cmp.Or(in.Cloud, "aws"), "region": in.Region,
		"plan": in.Plan, "envVars": envVars,
	}, &out)
	if err != nil {
		return "", err
	}
	if out.Create.JobID == "" {
		return "", &Error{Op: OpCreatePreviewApp, Class: ErrAPI, Message: "the answer has no job id"}
	}
	return out.Create.JobID, nil
}

// jobQuery selects only what a personal access token is shown to read: the
// official action (v0.1.10, src/tasks.ts) asks for "jobs_by_pk(id: $jobId) {
// status tasks(order_by: { updated_at: asc }) { id name cloud region
// task_events(order_by: { updated_at: desc }, limit: 1) { event_type id error
// github_detail } } }", and its creation poll reads public_event_data and
// created_at of the events. jobs.created_at, jobs.updated_at and
// tasks.created_at exist in the admin schema, but no PAT client reads them.
const jobQuery = `query getJob($id: uuid!) {
  jobs_by_pk(id: $id) {
    id
    status
    tasks(order_by: {updated_at: asc}) {
      id
      name
      cloud
      region
      updated_at
      task_events(order_by: {created_at: asc}) {
        id
        event_type
        public_event_data
        error
        github_detail
        created_at
      }
    }
  }
}`

// Job reads a creation or deployment job with its tasks and events. A job
// the API does not (yet) know is ErrNotFound: right after creation the
// Cloud answers null for a while.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	return one[Job](ctx, c, OpJob, jobQuery, map[string]any{"id": id}, "no job "+id)
}

// one runs a query answering one object named op; null is ErrNotFound.
func one[T any](ctx context.Context, c *Client, op, query string, vars map[string]any, missing string) (*T, error) {
	var out map[string]*T
	if err := c.run(ctx, op, query, vars, &out); err != nil {
		return nil, err
	}
	if out[op] == nil {
		return nil, &Error{Op: op, Class: ErrNotFound, Message: missing}
	}
	return out[op], nil
}

const projectFields = `id
    name
    endpoint
    tenant {
      id
    }`

const projectsByNameQuery = `query getProjectByName($name: String!) {
  projects(where: {name: {_eq: $name}}) {
    ` + projectFields + `
  }
}`

// ProjectsByName lists every project of that name: names are not unique in
// the Cloud (graphql-engine#10287), so a delete must take them all. An empty
// list is not an error.
func (c *Client) ProjectsByName(ctx context.Context, name string) ([]Project, error) {
	var out struct {
		Projects []Project `json:"projects"`
	}
	if err := c.run(ctx, OpProjects, projectsByNameQuery, map[string]any{"name": name}, &out); err != nil {
		return nil, err
	}
	return out.Projects, nil
}

const projectByIDQuery = `query getProject($id: uuid!) {
  projects_by_pk(id: $id) {
    ` + projectFields + `
  }
}`

// Project reads a project by id; ErrNotFound when there is none.
func (c *Client) Project(ctx context.Context, id string) (*Project, error) {
	return one[Project](ctx, c, OpProject, projectByIDQuery, map[string]any{"id": id}, "no project "+id)
}

const deleteTenantQuery = `mutation deleteTenant($tenantId: uuid!) {
  deleteTenant(tenantId: $tenantId) {
    status
  }
}`

// DeleteTenant deletes a tenant and its project. A tenant that is already
// gone is ErrNotFound; callers that want idempotence test for it.
func (c *Client) DeleteTenant(ctx context.Context, tenantID string) error {
	var out struct {
		Delete struct {
			Status string `json:"status"`
		} `json:"deleteTenant"`
	}
	return c.run(ctx, OpDeleteTenant, deleteTenantQuery, map[string]any{"tenantId": tenantID}, &out)
}

const getTenantEnvQuery = `query getTenantEnv($tenantId: uuid!) {
  getTenantEnv(tenantId: $tenantId) {
    hash
    envVars
  }
}`

// TenantEnv reads a tenant's environment and the hash that guards changes.
func (c *Client) TenantEnv(ctx context.Context, tenantID string) (*TenantEnv, error) {
	return one[TenantEnv](ctx, c, OpGetTenantEnv, getTenantEnvQuery, map[string]any{"tenantId": tenantID}, "no environment for tenant "+tenantID)
}

// updateTenantEnv takes UpdateEnvObject, a type distinct from the
// UpdateEnvsObject of createGitHubPreviewApp and createTenant: Hasura's
// console code generated from the Cloud schema declares
// "updateTenantEnv(currentHash: String!, envs: [UpdateEnvObject!]!,
// tenantId: uuid!)", and a variable of the other type is refused.
const updateTenantEnvQuery = `mutation updateTenantEnv($tenantId: uuid!, $currentHash: String!, $envs: [UpdateEnvObject!]!) {
  updateTenantEnv(tenantId: $tenantId, currentHash: $currentHash, envs: $envs) {
    hash
    envVars
  }
}`

// UpdateTenantEnv upserts env into the tenant's environment (keys not sent
// are kept), guarded by the hash read before (ErrHashConflict when it
// changed). The app restarts; metadata and migrations are not applied.
func (c *Client) UpdateTenantEnv(ctx context.Context, tenantID, currentHash string, env []EnvVar) (*TenantEnv, error) {
	if env == nil {
		env = []EnvVar{}
	}
	return c.changeEnv(ctx, OpUpdateTenantEnv, updateTenantEnvQuery,
		map[string]any{"tenantId": tenantID, "currentHash": currentHash, "envs": env})
}

const deleteTenantEnvQuery = `mutation deleteTenantEnv($tenantId: uuid!, $currentHash: String!, $deleteEnvs: [String!]!) {
  deleteTenantEnv(tenantId: $tenantId, currentHash: $currentHash, deleteEnvs: $deleteEnvs) {
    hash
    envVars
  }
}`

// DeleteTenantEnv removes keys from the tenant's environment, like UpdateTenantEnv.
func (c *Client) DeleteTenantEnv(ctx context.Context, tenantID, currentHash string, keys []string) (*TenantEnv, error) {
	if keys == nil {
		keys = []string{}
	}
	return c.changeEnv(ctx, OpDeleteTenantEnv, deleteTenantEnvQuery,
		map[string]any{"tenantId": tenantID, "currentHash": currentHash, "deleteEnvs": keys})
}

// changeEnv runs an env mutation. The Cloud refuses a change that changes
// nothing, in undocumented words: such a refusal is read as success and
// the environment is read back.
func (c *Client) changeEnv(ctx context.Context, op, query string, vars map[string]any) (*TenantEnv, error) {
	var out map[string]*TenantEnv
	err := c.run(ctx, op, query, vars, &out)
	var ce *Error
	if errors.As(err, &ce) && ce.Class != ErrHashConflict && nothingChanged(ce.Message) {
		return c.TenantEnv(ctx, vars["tenantId"].(string))
	}
	if err != nil {
		return nil, err
	}
	if out[op] == nil {
		return nil, &Error{Op: op, Class: ErrAPI, Message: "the answer has no environment"}
	}
	return out[op], nil
}

// nothingChanged recognises the Cloud's "no change" refusal in the forms it
// plausibly takes ("nothing changed in config", "no changes", "unchanged").
func nothingChanged(msg string) bool {
	return containsAny(strings.ToLower(msg), "nothing changed", "nothing to change", "no change", "unchanged", "not changed")
}
