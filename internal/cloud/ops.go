package cloud

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Operation names, as counted by cloudsim and reported to observers.
const (
	OpCreatePreviewApp = "createGitHubPreviewApp"
	OpJob              = "jobs_by_pk"
	OpProjects         = "projects"
	OpProject          = "projects_by_pk"
	OpTenant           = "tenant_by_pk"
	OpCreateTenant     = "createTenant"
	OpDeleteTenant     = "deleteTenant"
	OpGetTenantEnv     = "getTenantEnv"
	OpUpdateTenantEnv  = "updateTenantEnv"
)

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
	cloudName := in.Cloud
	if cloudName == "" {
		cloudName = "aws"
	}
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
		"directory": in.Directory, "name": in.Name, "cloud": cloudName, "region": in.Region,
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

const jobQuery = `query getJob($id: uuid!) {
  jobs_by_pk(id: $id) {
    id
    status
    created_at
    updated_at
    tasks(order_by: {created_at: asc}) {
      id
      name
      cloud
      region
      created_at
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
	var out struct {
		Job *Job `json:"jobs_by_pk"`
	}
	if err := c.run(ctx, OpJob, jobQuery, map[string]any{"id": id}, &out); err != nil {
		return nil, err
	}
	if out.Job == nil {
		return nil, &Error{Op: OpJob, Class: ErrNotFound, Message: fmt.Sprintf("no job %s", id)}
	}
	return out.Job, nil
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

// ProjectByName looks a project up by its name; ErrNotFound when there is
// none.
func (c *Client) ProjectByName(ctx context.Context, name string) (*Project, error) {
	var out struct {
		Projects []Project `json:"projects"`
	}
	if err := c.run(ctx, OpProjects, projectsByNameQuery, map[string]any{"name": name}, &out); err != nil {
		return nil, err
	}
	if len(out.Projects) == 0 {
		return nil, &Error{Op: OpProjects, Class: ErrNotFound, Message: fmt.Sprintf("no project named %q", name)}
	}
	return &out.Projects[0], nil
}

const projectByIDQuery = `query getProject($id: uuid!) {
  projects_by_pk(id: $id) {
    ` + projectFields + `
  }
}`

// Project reads a project by id; ErrNotFound when there is none.
func (c *Client) Project(ctx context.Context, id string) (*Project, error) {
	var out struct {
		Project *Project `json:"projects_by_pk"`
	}
	if err := c.run(ctx, OpProject, projectByIDQuery, map[string]any{"id": id}, &out); err != nil {
		return nil, err
	}
	if out.Project == nil {
		return nil, &Error{Op: OpProject, Class: ErrNotFound, Message: fmt.Sprintf("no project %s", id)}
	}
	return out.Project, nil
}

const tenantQuery = `query getTenant($id: uuid!) {
  tenant_by_pk(id: $id) {
    id
    slug
    project {
      id
      name
      endpoint
    }
  }
}`

// Tenant reads a tenant and its project; ErrNotFound when there is none.
func (c *Client) Tenant(ctx context.Context, id string) (*Tenant, error) {
	var out struct {
		Tenant *Tenant `json:"tenant_by_pk"`
	}
	if err := c.run(ctx, OpTenant, tenantQuery, map[string]any{"id": id}, &out); err != nil {
		return nil, err
	}
	if out.Tenant == nil {
		return nil, &Error{Op: OpTenant, Class: ErrNotFound, Message: fmt.Sprintf("no tenant %s", id)}
	}
	return out.Tenant, nil
}

const createTenantQuery = `mutation createTenant($cloud: String!, $region: String!, $envs: [UpdateEnvsObject]) {
  createTenant(cloud: $cloud, region: $region, envs: $envs) {
    id
    name
  }
}`

// CreateTenant creates a plain project (not a preview app).
func (c *Client) CreateTenant(ctx context.Context, cloudName, region string, env []EnvVar) (*Tenant, error) {
	if env == nil {
		env = []EnvVar{}
	}
	var out struct {
		Tenant *Tenant `json:"createTenant"`
	}
	err := c.run(ctx, OpCreateTenant, createTenantQuery, map[string]any{"cloud": cloudName, "region": region, "envs": env}, &out)
	if err != nil {
		return nil, err
	}
	// A tenant without an id could be neither used nor deleted.
	if out.Tenant == nil || out.Tenant.ID == "" {
		return nil, &Error{Op: OpCreateTenant, Class: ErrAPI, Message: "the answer has no tenant id"}
	}
	return out.Tenant, nil
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

// TenantEnv reads a tenant's environment and its hash.
func (c *Client) TenantEnv(ctx context.Context, tenantID string) (*TenantEnv, error) {
	var out struct {
		Env *TenantEnv `json:"getTenantEnv"`
	}
	if err := c.run(ctx, OpGetTenantEnv, getTenantEnvQuery, map[string]any{"tenantId": tenantID}, &out); err != nil {
		return nil, err
	}
	if out.Env == nil {
		return nil, &Error{Op: OpGetTenantEnv, Class: ErrNotFound, Message: fmt.Sprintf("no environment for tenant %s", tenantID)}
	}
	return out.Env, nil
}

const updateTenantEnvQuery = `mutation updateTenantEnv($tenantId: uuid!, $currentHash: String!, $envs: [UpdateEnvsObject]!) {
  updateTenantEnv(tenantId: $tenantId, currentHash: $currentHash, envs: $envs) {
    hash
    envVars
  }
}`

// UpdateTenantEnv merges env into the tenant's environment, guarded by the
// hash read before (ErrHashConflict when it changed meanwhile). When the
// values are already set the Cloud answers "nothing changed in config":
// that is success, and the current environment is returned.
func (c *Client) UpdateTenantEnv(ctx context.Context, tenantID, currentHash string, env []EnvVar) (*TenantEnv, error) {
	if env == nil {
		env = []EnvVar{}
	}
	var out struct {
		Env *TenantEnv `json:"updateTenantEnv"`
	}
	err := c.run(ctx, OpUpdateTenantEnv, updateTenantEnvQuery,
		map[string]any{"tenantId": tenantID, "currentHash": currentHash, "envs": env}, &out)
	var ce *Error
	if errors.As(err, &ce) && strings.Contains(strings.ToLower(ce.Message), "nothing changed") {
		return c.TenantEnv(ctx, tenantID)
	}
	if err != nil {
		return nil, err
	}
	if out.Env == nil {
		return nil, &Error{Op: OpUpdateTenantEnv, Class: ErrAPI, Message: "the answer has no environment"}
	}
	return out.Env, nil
}
