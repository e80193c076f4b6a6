package ghsim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestAuthenticatedUser(t *testing.T) {
	s, base, _ := newSim(t)
	s.AddToken("ghp_classic", ghsim.TokenSpec{Login: "octocat", Type: "User", Scopes: []string{"repo", "read:org"}})
	s.AddToken("github_pat_fine", ghsim.TokenSpec{Login: "octocat", Type: "User", Permissions: map[string]string{"contents": "read"}})
	ctx := context.Background()

	u, resp, err := client(t, base, "ghp_classic").Users.Get(ctx, "")
	if err != nil || u.GetLogin() != "octocat" || u.GetType() != "User" {
		t.Fatalf("classic: %+v %v", u, err)
	}
	if got := resp.Header.Get("X-OAuth-Scopes"); got != "repo, read:org" {
		t.Errorf("X-OAuth-Scopes = %q", got)
	}
	_, resp, err = client(t, base, "github_pat_fine").Users.Get(ctx, "")
	if err != nil || resp.Header.Get("X-OAuth-Scopes") != "" {
		t.Errorf("fine-grained: %v, scopes %q", err, resp.Header.Get("X-OAuth-Scopes"))
	}
	_, _, err = client(t, base, botToken).Users.Get(ctx, "")
	if e := wantStatus(t, err, http.StatusForbidden); e.Message != "Resource not accessible by integration" {
		t.Errorf("installation token: %q", e.Message)
	}
}

func TestRevokeInstallationToken(t *testing.T) {
	// Real clock: ghinstallation signs with time.Now.
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise})
	s.AddApp(appID, &appKey().PublicKey)
	s.AddInstallation(appID, instID, owner, []string{repoName})
	s.AddToken(botToken, ghsim.TokenSpec{Login: botLogin, Repos: []string{owner + "/" + repoName}})
	itr := ghinstallation.NewFromAppsTransport(ghinstallation.NewAppsTransportFromPrivateKey(http.DefaultTransport, appID, appKey()), instID)
	itr.BaseURL = strings.TrimSuffix(base, "/")
	ctx := context.Background()
	tok, err := itr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, base, tok)
	if _, _, err := c.Repositories.Get(ctx, owner, repoName); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apps.RevokeInstallationToken(ctx); err != nil {
		t.Fatal(err)
	}
	if m := s.MintedTokens(); len(m) != 1 || !m[0].Revoked {
		t.Fatalf("minted: %+v", m)
	}
	_, _, err = c.Repositories.Get(ctx, owner, repoName)
	wantStatus(t, err, http.StatusUnauthorized)
	// A token that is not an installation's cannot be revoked this way.
	_, err = client(t, base, botToken).Apps.RevokeInstallationToken(ctx)
	wantStatus(t, err, http.StatusForbidden)
}

func TestCommentReactions(t *testing.T) {
	s, base, _ := newSim(t)
	id := s.AddComment(owner, repoName, 7, "mallory", "/preview delete")
	c := client(t, base, botToken)
	ctx := context.Background()
	r, resp, err := c.Reactions.CreateIssueCommentReaction(ctx, owner, repoName, id, "-1")
	if err != nil || resp.StatusCode != http.StatusCreated || r.GetContent() != "-1" || r.GetUser().GetLogin() != botLogin {
		t.Fatalf("first: %+v %v", r, err)
	}
	_, resp, err = c.Reactions.CreateIssueCommentReaction(ctx, owner, repoName, id, "-1")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("again: %v %v", resp, err)
	}
	_, _, err = c.Reactions.CreateIssueCommentReaction(ctx, owner, repoName, id, "thumbsdown")
	wantStatus(t, err, http.StatusUnprocessableEntity)
	cs := s.Comments(owner, repoName, 7)
	if len(cs) != 1 || len(cs[0].Reactions) != 1 || cs[0].Reactions[0].Content != "-1" {
		t.Fatalf("comments: %+v", cs)
	}
}
