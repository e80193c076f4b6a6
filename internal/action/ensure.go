package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// ensure creates or rebuilds the preview and follows it to the end.
func (r *runner) ensure(ctx context.Context, engine *preview.Engine, dbs preview.Databases) error {
	spec := preview.Spec{
		Name: r.name, Owner: r.t.Owner, Repo: r.t.Name, Branch: r.t.Branch,
		Directory: r.in.ProjectDir, Cloud: r.in.Cloud, Region: r.in.Region, Plan: r.in.Tier,
		Env: r.in.Env, GitHubToken: r.in.GitHubToken, Databases: dbs,
	}
	r.gha.Group(fmt.Sprintf("Preview app %s: build from %s/%s@%s", r.name, r.t.Owner, r.t.Name, r.t.Branch))
	existing, last, err := r.lookUp(ctx, engine)
	if err == nil {
		if ok, why := r.mayTouch(len(existing) > 0, last); !ok {
			err = fmt.Errorf("not rebuilding an app this pull request does not own: %s; set the name input to choose another app", why)
		}
	}
	if err != nil {
		r.gha.EndGroup()
		if oerr := r.outputs(map[string]string{"status": string(preview.StatusFailed), "projectName": r.name}); oerr != nil {
			return oerr
		}
		return r.fail("Preview app "+r.name, err)
	}
	r.api = r.startAPIReview(ctx)
	envRes, envOnly := r.envOnly(ctx, engine, dbs, existing, last)
	r.startDeployment(ctx)
	seen := map[string]string{}
	waitForReview := sync.OnceFunc(func() { r.api.wait(ctx, apiReviewFirstWait) })
	progress := func(res preview.Result) {
		waitForReview()
		for _, t := range res.Tasks {
			key := t.Job + "/" + t.Name
			if seen[key] == t.State {
				continue
			}
			seen[key] = t.State
			line := fmt.Sprintf("%s job: %s %s", t.Job, t.Name, t.State)
			if d := t.Duration(); d > 0 {
				line += fmt.Sprintf(" (%s)", d.Round(100*time.Millisecond))
			}
			r.gha.Infof("%s", r.secrets.Mask(line))
		}
		if !res.Status.Done() {
			r.updateComment(ctx, res)
		}
	}
	res, err := envRes, error(nil)
	if !envOnly {
		res, err = engine.Ensure(ctx, spec, progress)
	}
	r.gha.EndGroup()
	if ctx.Err() != nil && (!res.Status.Done() || errors.Is(err, ctx.Err())) {
		return r.cancelled(ctx, res)
	}
	r.api.wait(ctx, apiReviewWait)

	if res.Status != preview.StatusSuperseded {
		// The comment is the newer run's now, perhaps already "ready".
		r.updateComment(ctx, res)
	}
	r.finishDeployment(ctx, res)
	out := map[string]string{
		"graphQLEndpoint": res.Endpoint, "endpoint": res.Endpoint, "consoleURL": res.ConsoleURL,
		"projectName": r.name, "projectId": res.ProjectID, "status": string(res.Status),
		"jobId": res.CreationJobID, "deploymentJobId": res.DeploymentJobID,
	}
	if r.api.finished() {
		out["apiChanges"] = r.api.json
		r.gha.Infof("API review: %s", r.api.summary)
	}
	if oerr := r.outputs(out); oerr != nil {
		return oerr
	}
	r.summary(res)

	switch {
	case err != nil && res.Status != preview.StatusFailed:
		return r.fail("Preview app "+r.name, err)
	case res.Status == preview.StatusSuccess:
		r.gha.Noticef("Preview app %s is up: %s", r.name, res.Endpoint)
		return nil
	case res.Status == preview.StatusSuperseded:
		r.gha.Noticef("Preview app %s: %s", r.name, res.Message)
		return nil
	}
	title := "Preview app " + r.name + " " + strings.ReplaceAll(string(res.Status), "_", " ")
	if t := res.FailedTask(); t != nil {
		title = fmt.Sprintf("Preview app %s: task %s failed", r.name, t.Name)
		if t.GitHubDetail != "" {
			r.gha.Errorf("%s", r.secrets.Mask(t.GitHubDetail))
		}
	}
	msg := res.Message
	if err != nil {
		msg = err.Error()
	}
	r.gha.WithFieldsMap(map[string]string{"title": title}).Errorf("%s", r.secrets.Mask(msg))
	return fmt.Errorf("the preview app failed: %s", r.secrets.Mask(msg))
}

// cancelGrace bounds the writes of a cancelled run: the runner stops a
// cancelled step with SIGINT and kills it about 7.5 s later.
const cancelGrace = 5 * time.Second

// cancelled reports a run stopped before the preview was ready (a newer
// push, a person, the timeout). The run's context is done, so the last
// writes get a short context of their own; the next run takes the app over.
func (r *runner) cancelled(ctx context.Context, res preview.Result) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	why := "The workflow run was cancelled before the preview was ready; the next run rebuilds it."
	if errors.Is(context.Cause(ctx), errRunTimeout) {
		why = "The run passed its timeout before the preview was ready; the next run rebuilds it."
	}
	res.Status, res.Message, res.Finished = preview.StatusSuperseded, why, r.d.Now()
	if r.comment {
		view := r.view(res)
		view.Headline = "Preview " + r.name + ": build cancelled"
		r.warnGitHub("PR comment", r.rep.Update(wctx, view), &r.comment)
	}
	if r.deploy && r.deployID != 0 {
		err := r.rep.FinishDeployment(wctx, r.deployID, ghreport.DeployInactive, "", r.logURL, "Cancelled")
		r.warnGitHub("Deployment status", err, &r.deploy)
	}
	r.gha.Warningf("Preview app %s: the run was cancelled before the preview was ready", r.name)
	return fmt.Errorf("preview app %s: %w", r.name, context.Cause(ctx))
}

// destroy deletes the preview (idempotent) and says so in the PR.
func (r *runner) destroy(ctx context.Context, engine *preview.Engine, dbs preview.Databases) error {
	r.gha.Group("Preview app " + r.name + ": delete")
	// Only a templated name needs the ownership check's lookup, which
	// Destroy then uses.
	spec, last := preview.DestroySpec{Name: r.name, Databases: dbs}, lastBuild{}
	if !r.explicitName() {
		existing, built, err := r.lookUp(ctx, engine)
		if err != nil {
			r.gha.EndGroup()
			return r.fail("Deleting preview app "+r.name, err)
		}
		spec.Projects, spec.Listed, last = existing, true, built
	}
	if ok, why := r.mayTouch(len(spec.Projects) > 0, last); !ok {
		r.gha.EndGroup()
		r.gha.Warningf("%s", r.secrets.Mask("Not deleting: "+why+". Delete it by hand if it is this pull request's."))
		return r.outputs(map[string]string{"status": "skipped", "projectName": r.name})
	}
	dr, err := engine.Destroy(ctx, spec)
	r.gha.EndGroup()
	if err != nil {
		return r.fail("Deleting preview app "+r.name, err)
	}
	if dr.Existed {
		r.gha.Infof("Preview app %s deleted.", r.name)
	} else {
		r.gha.Infof("Preview app %s was already gone: nothing to delete.", r.name)
	}
	res := preview.Result{Name: r.name, Status: preview.StatusDeleted, ProjectID: dr.ProjectID, TenantID: dr.TenantID, Finished: dr.At}
	r.updateComment(ctx, res)
	if r.deploy {
		err := r.rep.DeactivateEnvironment(ctx, ghreport.EnvironmentName(r.name))
		r.warnGitHub("Deployment", err, &r.deploy)
	}
	if err := r.outputs(map[string]string{"status": string(preview.StatusDeleted), "projectName": r.name, "projectId": dr.ProjectID}); err != nil {
		return err
	}
	r.summary(res)
	return nil
}

// summary appends the same rendering as the comment to the step summary.
func (r *runner) summary(res preview.Result) {
	path := r.d.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return
	}
	body := ghreport.RenderMasked(r.view(res), r.secrets.Mask)
	if err := appendFile(path, body+"\n"); err != nil && !errors.Is(err, context.Canceled) {
		r.gha.Warningf("step summary: %v", err)
	}
}
