package action

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// setupReporter builds the GitHub client and the comment and deployment
// reporter, and checks what a token that goes to the Cloud (cloning) may do.
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
	gh, err := ghapp.TokenClient(&http.Client{Timeout: githubRequestTimeout}, r.d.Getenv("GITHUB_API_URL"), r.in.GitHubToken)
	if err != nil {
		r.gha.Warningf("GitHub client: GITHUB_API_URL is not an absolute http(s) URL without credentials")
		r.comment, r.deploy = false, false
		return
	}
	r.gh = gh
	// GET /user serves the scope check of a token that goes to the Cloud
	// and a comment whose author the inputs do not name; nothing else.
	author := r.in.CommentAuthor
	if cloning || (r.comment && author == "") {
		author = r.identify(ctx, gh, cloning)
	}
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
	v := ghreport.View{Result: res, Branch: r.t.Branch, SHA: r.t.SHA, PR: r.t.Number, LogURL: r.logURL,
		Footer: strings.TrimSpace("hasura-preview " + r.d.Version)}
	if r.api.finished() {
		v.Section = r.api.section
	}
	return v
}

// updateComment writes the comment; an error only warns: the preview
// matters more. ghreport holds back only progress, never a final result.
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

// actionsBot is the login GitHub shows for what GITHUB_TOKEN writes;
// actions/github-script's own workflow finds its earlier comment by this
// account ("comment.user.id === 41898282"), and peter-evans/find-comment
// documents `comment-author: 'github-actions[bot]'` for the same purpose.
const actionsBot = "github-actions[bot]"

// readOnlyScopes are the classic scopes that grant no write access; any
// other scope in X-OAuth-Scopes ("repo", "public_repo", "workflow",
// "write:...", "admin:...", "delete_repo") lets the token's holder change
// repositories.
var readOnlyScopes = []string{
	"read:org", "read:user", "user:email", "read:packages", "read:discussion", "read:project",
	"read:public_key", "read:repo_hook", "read:gpg_key", "read:ssh_signing_key", "read:audit_log",
	"read:enterprise",
}

// installationTokenPrefix starts every installation access token,
// GITHUB_TOKEN included (GitHub's docs, "GitHub's token formats": "ghs_
// for GitHub App installation access tokens").
const installationTokenPrefix = "ghs_"

// identify finds the comment's author and warns when the token handed to
// the Cloud can write to repositories. GET /user answers for a person's
// token with its login, and for a classic one lists its scopes in
// X-OAuth-Scopes ("Octokit's scopes(): GET /user, headers['X-OAuth-Scopes']").
// An installation token, GITHUB_TOKEN included, gets 403 "Resource not
// accessible by integration" (quoted in actions/create-github-app-token#258).
// Any other failure falls back to GITHUB_TOKEN's bot as the author.
func (r *runner) identify(ctx context.Context, gh *github.Client, cloning bool) string {
	login, scopes := actionsBot, ""
	if strings.HasPrefix(r.in.GitHubToken, installationTokenPrefix) {
		// The 403 is certain: no request.
		return cmp.Or(r.in.CommentAuthor, login)
	}
	u, resp, err := gh.Users.Get(ctx, "")
	switch {
	case err == nil:
		login, scopes = u.GetLogin(), resp.Header.Get("X-OAuth-Scopes")
	case resp == nil || resp.StatusCode != http.StatusForbidden:
		r.gha.Warningf("Could not tell whose the GitHub token is (%s); the PR comment is matched to %s", r.secrets.Mask(err.Error()), actionsBot)
	}
	if ws := writeScopes(scopes); cloning && len(ws) > 0 {
		r.gha.Warningf("The GitHub token handed to Hasura Cloud to clone the branch has write scopes (%s). "+
			"Use a fine-grained token with only `contents: read` on this repository, or GITHUB_TOKEN with `permissions: contents: read`.",
			strings.Join(ws, ", "))
	}
	return cmp.Or(r.in.CommentAuthor, login)
}

// writeScopes returns the scopes of a classic token's X-OAuth-Scopes that
// grant more than reading.
func writeScopes(header string) []string {
	var out []string
	for s := range strings.SplitSeq(header, ",") {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(readOnlyScopes, s) {
			out = append(out, s)
		}
	}
	return out
}
