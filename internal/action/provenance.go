package action

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// source names what a run builds from, as each deployment records it: the
// head repository and branch.
func (r *runner) source() string {
	return strings.ToLower(r.t.Owner+"/"+r.t.Name) + "@" + r.t.Branch
}

// lastBuild is what the newest GitHub deployment of the app's environment
// records; the zero value when there is none (or deployments are off).
type lastBuild struct {
	sha, state string
	payload    deployPayload
}

// lookUp lists the app's projects and, when there is one, reads its last
// build: the ownership check and the env-only update pass over a new app.
func (r *runner) lookUp(ctx context.Context, engine *preview.Engine) ([]cloud.Project, lastBuild, error) {
	projects, err := engine.Cloud.ProjectsByName(ctx, r.name)
	if err != nil || len(projects) == 0 {
		return projects, lastBuild{}, err
	}
	return projects, r.readLastBuild(ctx), nil
}

// readLastBuild reads the newest deployment of the app's environment, for
// the ownership check and the env-only update.
func (r *runner) readLastBuild(ctx context.Context) lastBuild {
	if !r.deploy {
		return lastBuild{}
	}
	last, ok, err := r.rep.LastDeployment(ctx, ghreport.EnvironmentName(r.name))
	if err != nil || !ok {
		return lastBuild{}
	}
	b := lastBuild{sha: last.SHA, state: last.State}
	if json.Unmarshal(last.Payload, &b.payload) != nil {
		b.payload = deployPayload{}
	}
	return b
}

// explicitName reports whether the workflow's author fixed the app name:
// a name input that the pull request's author cannot steer ({branch} is
// the head branch's name, which a fork picks).
func (r *runner) explicitName() bool {
	return !preview.IsUnsetName(r.in.NameTemplate) && !strings.Contains(r.in.NameTemplate, "{branch}")
}

// mayTouch reports whether this run may rebuild or delete the existing app
// of its name. A templated name can name another branch's app (a fork
// picks its branch name; repositories can share a Cloud account), so the
// newest deployment of the app's environment must record this repository
// and branch as its source. Without that record only a fork is refused.
func (r *runner) mayTouch(exists bool, last lastBuild) (bool, string) {
	if !exists || r.explicitName() {
		return true, ""
	}
	if src := last.payload.Source; src != "" {
		if src == r.source() {
			return true, ""
		}
		return false, fmt.Sprintf("the app %s was built from %s, not from this pull request's %s", r.name, src, r.source())
	}
	if r.isFork() {
		return false, fmt.Sprintf("nothing shows that this fork's branch built the app %s", r.name)
	}
	return true, ""
}

// deployPayload is what each GitHub deployment of a preview records for a
// later run. EnvSig is keyed with the Cloud token: anyone who can read the
// repository can read deployment payloads.
type deployPayload struct {
	EnvSig  string   `json:"hasura_preview_env_sig"`
	EnvKeys []string `json:"hasura_preview_env_keys"`
	// Source is the head repository and branch the app was built from.
	Source string `json:"hasura_preview_source"`
}

func (r *runner) payload() deployPayload {
	return deployPayload{EnvSig: preview.EnvSig(r.in.CloudToken, r.in.Env), EnvKeys: preview.EnvKeys(r.in.Env), Source: r.source()}
}

// envOnly updates the live app's env in place when only the env changed
// since the deployment of this commit. Whenever anything is unsure it
// reports false and the caller rebuilds.
func (r *runner) envOnly(ctx context.Context, engine *preview.Engine, dbs preview.Databases,
	projects []cloud.Project, last lastBuild) (preview.Result, bool) {
	if r.t.SHA == "" || last.sha != r.t.SHA || last.state != ghreport.DeploySuccess {
		return preview.Result{}, false
	}
	was := last.payload
	if was.EnvSig == "" || was.EnvSig == r.payload().EnvSig {
		// The same env again: a re-run asks for a rebuild.
		return preview.Result{}, false
	}
	if len(projects) != 1 || projects[0].TenantID == "" {
		return preview.Result{}, false
	}
	proj := projects[0]
	started := r.d.Now()
	up, err := engine.UpdateEnv(ctx, preview.EnvSpec{
		Name: r.name, TenantID: proj.TenantID, Env: r.in.Env, Managed: was.EnvKeys, Databases: dbs,
	})
	if err != nil {
		r.gha.Warningf("%s", r.secrets.Mask(fmt.Sprintf("Updating the env of %s in place failed, rebuilding instead: %v", r.name, err)))
		return preview.Result{}, false
	}
	if len(up.Set)+len(up.Deleted) == 0 {
		return preview.Result{}, false
	}
	r.gha.Noticef("Preview app %s: only the env changed, so it was updated in place (no rebuild)", r.name)
	return preview.Result{
		Name: r.name, Status: preview.StatusSuccess, ProjectID: proj.ID, TenantID: proj.TenantID,
		Endpoint: proj.GraphQLURL(), ConsoleURL: cloud.ConsoleURL(proj.ID), Started: started, Finished: r.d.Now(), EnvUpdate: &up,
	}, true
}
