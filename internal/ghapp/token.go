package ghapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// RepoReadToken mints an installation token that can read the contents of
// owner/repo and nothing else (contents: read, plus the metadata: read
// GitHub always adds), for Hasura Cloud to clone the pull request's branch,
// so that no long-lived personal access token is handed out.
func (a *App) RepoReadToken(ctx context.Context, installationID int64, owner, repo string) (string, time.Time, error) {
	if installationID <= 0 || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", time.Time{}, fmt.Errorf("ghapp: RepoReadToken needs an installation ID, an owner and a repository name (got %d, %q, %q)", installationID, owner, repo)
	}
	op := fmt.Sprintf("minting a contents:read token for %s/%s (installation %d)", owner, repo, installationID)
	opts := &github.InstallationTokenOptions{
		Repositories: []string{repo},
		Permissions:  &github.InstallationPermissions{Contents: github.String("read")},
	}
	tok, err := callAPI(ctx, a, op, func() (*github.InstallationToken, *github.Response, error) {
		return a.appClient.Apps.CreateInstallationToken(ctx, installationID, opts)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	// The request names a repository of the installation's account; if
	// that is not owner, the token reaches another account's repository
	// of the same name and must not be used.
	if len(tok.Repositories) != 1 || !strings.EqualFold(tok.Repositories[0].GetFullName(), owner+"/"+repo) {
		var got []string
		for _, r := range tok.Repositories {
			got = append(got, r.GetFullName())
		}
		return "", time.Time{}, fmt.Errorf("%s: %w: GitHub issued it for %v", op, ErrRepoNotInstalled, got)
	}
	if !onlyContentsRead(tok.GetPermissions()) {
		return "", time.Time{}, fmt.Errorf("%s: GitHub issued a token with other permissions than asked", op)
	}
	if tok.GetToken() == "" {
		return "", time.Time{}, fmt.Errorf("%s: GitHub returned no token", op)
	}
	return tok.GetToken(), tok.GetExpiresAt().Time, nil
}

// onlyContentsRead reports whether p grants contents: read and at most
// metadata: read besides (JSON lists every permission go-github knows).
func onlyContentsRead(p *github.InstallationPermissions) bool {
	raw, err := json.Marshal(p)
	if err != nil {
		return false
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || m["contents"] != "read" {
		return false
	}
	for k, v := range m {
		if k != "contents" && !(k == "metadata" && v == "read") {
			return false
		}
	}
	return true
}

// RevokeToken revokes an installation token this App minted (one from
// RepoReadToken, once the Cloud has read the branch), so that it is dead
// before its hour is up. GitHub's "Revoke an installation access token",
// DELETE /installation/token, "revokes the installation token you're using
// to authenticate as an installation": the call carries the token itself.
// A token that is already dead (401) counts as revoked.
func (a *App) RevokeToken(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	gh := a.newClient(http.DefaultTransport).WithAuthToken(token)
	return a.retry(ctx, func() error {
		resp, err := gh.Apps.RevokeInstallationToken(ctx)
		if err != nil && resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil
		}
		if err != nil {
			return classifyAPIError(ctx, err, "revoking a repository read token")
		}
		return nil
	})
}
