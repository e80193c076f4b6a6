package action

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// setupReporter builds the comment and deployment reporter when the run has
// a PR and a token; without them both are off. When the token goes to the
// Cloud (cloning), it also checks what the token may do.
func (r *runner) setupReporter(ctx context.Context, cloning bool) {
	r.comment, r.deploy = r.in.Comment && r.t.Number > 0, r.in.Deployment && r.t.SHA != ""
	if !r.comment && !r.deploy && !cloning {
		return
	}
	if r.in.GitHubToken == "" {
		if r.comment || r.deploy {
			r.gha.Warningf("No GitHub token: no PR comment and no deployment (set GITHUB_TOKEN or the github-token input)")
		}
		r.comment, r.deploy = false, false
		return
	}
	// Each request is bounded: a GitHub that accepts and never answers
	// must not hold the run until its deadline.
	hc := http.Client{}
	if r.d.HTTPClient != nil {
		hc = *r.d.HTTPClient
	}
	if hc.Timeout <= 0 {
		hc.Timeout = githubRequestTimeout
	}
	gh, err := ghapp.TokenClient(&hc, r.d.Getenv("GITHUB_API_URL"), r.in.GitHubToken)
	if err != nil {
		r.gha.Warningf("GitHub client: GITHUB_API_URL is not an absolute http(s) URL without credentials")
		r.comment, r.deploy = false, false
		return
	}
	r.gh = gh
	author := r.identify(ctx, gh, cloning)
	if !r.comment && !r.deploy {
		return
	}
	// Only our own marked comment is edited: anyone can paste the marker
	// into a comment of theirs.
	r.rep = ghreport.New(gh, r.t.BaseOwner, r.t.BaseName, r.t.Number, ghreport.WithRedact(r.secrets.Mask),
		ghreport.WithLogger(r.logger()), ghreport.WithCommentAuthor(author), ghreport.WithClock(r.d.Now),
		ghreport.WithSleep(r.d.Sleep))
}

// githubRequestTimeout bounds one GitHub API request of the action.
const githubRequestTimeout = 30 * time.Second

// view is what the comment shows for a result.
func (r *runner) view(res preview.Result) ghreport.View {
	footer := "hasura-preview"
	if r.d.Version != "" {
		footer += " " + r.d.Version
	}
	v := ghreport.View{Result: res, Branch: r.t.Branch, SHA: r.t.SHA, PR: r.t.Number, LogURL: r.logURL, Footer: footer}
	if r.api.finished() {
		v.Section = r.api.section
	}
	return v
}

// updateComment writes the comment; a missing permission turns comments off
// with one warning, other errors warn and carry on: the preview matters more.
// A final result is always written (ghreport holds back only progress), so
// nothing is left to Flush after it.
func (r *runner) updateComment(ctx context.Context, res preview.Result) {
	if !r.comment {
		return
	}
	var err error
	if res.Status == preview.StatusDeleted {
		// A PR that never had a preview gets no comment about its deletion.
		_, err = r.rep.UpdateExisting(ctx, r.view(res))
	} else {
		err = r.rep.Update(ctx, r.view(res))
	}
	r.warnGitHub("PR comment", err, &r.comment)
}

func (r *runner) warnGitHub(what string, err error, enabled *bool) {
	if err == nil {
		return
	}
	if errors.Is(err, ghreport.ErrNoPermission) {
		r.gha.Warningf("%s skipped: the token lacks permission (grant `pull-requests: write` / `deployments: write` in the workflow's permissions)", what)
		*enabled = false
		return
	}
	r.gha.Warningf("%s: %s", what, r.secrets.Mask(err.Error()))
}

func (r *runner) startDeployment(ctx context.Context) {
	if !r.deploy {
		return
	}
	id, err := r.rep.StartDeployment(ctx, ghreport.DeploymentSpec{
		Environment: ghreport.EnvironmentName(r.name), Ref: r.t.SHA,
		Description: "Hasura Cloud preview " + r.name, LogURL: r.logURL, Payload: r.payload(),
	})
	r.warnGitHub("Deployment", err, &r.deploy)
	r.deployID = id
}

func (r *runner) finishDeployment(ctx context.Context, res preview.Result) {
	if !r.deploy || r.deployID == 0 {
		return
	}
	state, desc := ghreport.DeployFailure, res.Message
	switch res.Status {
	case preview.StatusSuccess:
		state, desc = ghreport.DeploySuccess, "Preview app is up"
	case preview.StatusSuperseded:
		// A newer push's run owns the environment now.
		state = ghreport.DeployInactive
	}
	err := r.rep.FinishDeployment(ctx, r.deployID, state, res.Endpoint, r.logURL, desc)
	r.warnGitHub("Deployment status", err, &r.deploy)
}
