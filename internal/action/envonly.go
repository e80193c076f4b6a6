package action

import (
	"context"
	"fmt"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

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
