package action

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

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

// identify finds the comment's author and warns when the token handed to
// the Cloud can write to repositories, as far as the API says so.
//
// GET /user answers for a person's token (classic or fine-grained) with its
// login, and for a classic one lists its scopes in X-OAuth-Scopes
// ("Octokit's scopes(): GET /user, headers['X-OAuth-Scopes']"). An
// installation token, GITHUB_TOKEN included, gets 403 "Resource not
// accessible by integration" (GitHub's answer quoted in
// actions/create-github-app-token#258). Any other failure only costs the
// author filter's precision: it falls back to GITHUB_TOKEN's bot.
func (r *runner) identify(ctx context.Context, gh *github.Client, cloning bool) string {
	login, scopes := actionsBot, ""
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
