package ghsim_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestPrefixIsEnforced(t *testing.T) {
	_, base, _ := newSim(t)
	ctx := context.Background()

	if _, _, err := client(t, base, botToken).Repositories.Get(ctx, owner, repoName); err != nil {
		t.Fatalf("under the prefix: %v", err)
	}

	// A client that dropped the prefix (an absolute-URL bug) must not work.
	root := strings.TrimSuffix(base, enterprise) + "/"
	var body struct{ Message, DocumentationURL string }
	resp := get(t, root+"repos/acme/app", botToken, &body)
	if resp.StatusCode != http.StatusNotFound || body.Message != "Not Found" {
		t.Fatalf("outside the prefix: %d %q, want 404 Not Found", resp.StatusCode, body.Message)
	}
}

func TestUnknownEndpointIsGitHubStyle404(t *testing.T) {
	_, base, _ := newSim(t)
	var body struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	resp := get(t, base+"repos/acme/app/actions/runs", botToken, &body)
	if resp.StatusCode != 404 || body.Message != "Not Found" || body.DocumentationURL == "" {
		t.Fatalf("got %d %+v", resp.StatusCode, body)
	}
}

func TestAuthorization(t *testing.T) {
	s, base, _ := newSim(t)
	s.AddRepo("acme", "secret")
	s.AddToken("expired", ghsim.TokenSpec{AllRepos: true, ExpiresAt: t0.Add(-time.Second)})
	s.AddToken("readonly", ghsim.TokenSpec{AllRepos: true, Permissions: map[string]string{"issues": "read"}})
	s.AddToken("pat", ghsim.TokenSpec{Login: "alice", AllRepos: true, Permissions: map[string]string{"contents": "read"}})
	s.AddToken("classic", ghsim.TokenSpec{Login: "bob", AllRepos: true})

	tests := []struct {
		name, token, repo string
		want              int
		msg               string
	}{
		{"no token", "", "app", 401, "Requires authentication"},
		{"unknown token", "nope", "app", 401, "Bad credentials"},
		{"expired token", "expired", "app", 401, "Bad credentials"},
		{"read where write is needed", "readonly", "app", 403, "Resource not accessible by integration"},
		{"fine-grained PAT without the permission", "pat", "app", 403, "Resource not accessible by personal access token"},
		{"repository outside the token", botToken, "secret", 404, "Not Found"},
		{"classic PAT may do anything", "classic", "app", 201, ""},
		{"bot token on its repository", botToken, "app", 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := github.NewClient(nil)
			if tc.token != "" {
				c = c.WithAuthToken(tc.token)
			}
			c, _ = c.WithEnterpriseURLs(base, base)
			_, _, err := c.Issues.CreateComment(context.Background(), "acme", tc.repo, 7, &github.IssueComment{Body: github.String("hi")})
			if tc.want == 201 {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if er := wantStatus(t, err, tc.want); er.Message != tc.msg {
				t.Fatalf("message %q, want %q", er.Message, tc.msg)
			}
		})
	}
	if got := s.Stats().CommentCreates; got != 2 {
		t.Fatalf("CommentCreates = %d, want 2 (refused requests must not write)", got)
	}
}

func TestRequestLogNamesTokensWithoutValues(t *testing.T) {
	s, base, _ := newSim(t)
	ctx := context.Background()
	c := client(t, base, botToken)
	if _, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("hello")}); err != nil {
		t.Fatal(err)
	}
	_, _, _ = client(t, base, "wrong-secret").PullRequests.Get(ctx, owner, repoName, 7)

	log := s.Requests()
	if len(log) != 2 {
		t.Fatalf("log has %d entries, want 2: %+v", len(log), log)
	}
	first := log[0]
	if first.Method != "POST" || first.Path != "/repos/acme/app/issues/7/comments" || first.Status != 201 ||
		first.Auth != ghsim.AuthToken || first.Principal != botLogin || !strings.Contains(first.Body, `"hello"`) {
		t.Fatalf("first entry = %+v", first)
	}
	if second := log[1]; second.Auth != ghsim.AuthInvalid || second.Status != 401 || second.Principal != "" {
		t.Fatalf("second entry = %+v", second)
	}
	dump := fmt.Sprintf("%+v", log)
	for _, secret := range []string{botToken, "wrong-secret"} {
		if strings.Contains(dump, secret) {
			t.Fatalf("request log contains the credential %q", secret)
		}
	}
	if n := s.CountRequests("POST", "/comments"); n != 1 {
		t.Fatalf("CountRequests(POST, /comments) = %d, want 1", n)
	}
}

func TestRateLimitHeadersAndExhaustion(t *testing.T) {
	s, base, clk := newSim(t)
	s.AddToken("small", ghsim.TokenSpec{AllRepos: true, RateLimit: 2})
	c := client(t, base, "small")
	ctx := context.Background()

	_, resp, err := c.PullRequests.Get(ctx, owner, repoName, 7)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Limit != 2 || resp.Rate.Remaining != 1 || !resp.Rate.Reset.Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("rate = %+v", resp.Rate)
	}
	if _, _, err := c.PullRequests.Get(ctx, owner, repoName, 7); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.PullRequests.Get(ctx, owner, repoName, 7)
	var rle *github.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Remaining != 0 {
		t.Fatalf("third request: %v (%T), want *github.RateLimitError", err, err)
	}
	if got, _, err := c.RateLimit.Get(ctx); err != nil || got.Core.Remaining != 0 {
		t.Fatalf("GET /rate_limit while exhausted = %+v, %v", got, err)
	}

	clk.Advance(time.Hour)
	if _, _, err := c.PullRequests.Get(ctx, owner, repoName, 7); err != nil {
		t.Fatalf("after the window reset: %v", err)
	}
}
