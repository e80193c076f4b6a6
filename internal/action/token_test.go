package action

import (
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// TestForeignMarkedCommentIsNotAdopted: anyone can comment on a public PR,
// marker included. The action must edit only what its own token wrote
// (github-actions[bot] for GITHUB_TOKEN), never a participant's comment.
func TestForeignMarkedCommentIsNotAdopted(t *testing.T) {
	p := newInproc(t)
	const forged = ghreport.Marker + "\nplease review https://evil.example"
	id := p.gh.AddComment("Codertocat", "Hello-World", 2, "mallory", forged)
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	var ours int
	for _, c := range p.gh.Comments("Codertocat", "Hello-World", 2) {
		switch {
		case c.ID == id && c.Body != forged:
			t.Errorf("mallory's comment was edited:\n%s", c.Body)
		case c.ID != id && strings.HasPrefix(c.Body, ghreport.Marker):
			ours++
			if c.User != "github-actions[bot]" {
				t.Errorf("our comment is by %s", c.User)
			}
		}
	}
	if ours != 1 {
		t.Errorf("%d comments of ours, want 1", ours)
	}
}

// TestPersonalTokenFindsItsOwnComment: with a personal token, GET /user
// names the author; its earlier comment is edited, a bot's is not.
func TestPersonalTokenFindsItsOwnComment(t *testing.T) {
	p := newInproc(t)
	const pat = "github_pat_TESTfinegrained_0a1b2c3d4e5f"
	p.gh.AddToken(pat, ghsim.TokenSpec{Login: "octocat", Type: "User", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "issues": "write", "deployments": "write"}})
	p.env["GITHUB_TOKEN"] = pat
	mine := p.gh.AddComment("Codertocat", "Hello-World", 2, "octocat", ghreport.Marker+"\nold")
	bots := p.gh.AddComment("Codertocat", "Hello-World", 2, "other-app[bot]", ghreport.Marker+"\nnot ours")
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 2 {
		t.Fatalf("%d comments, want the two seeded ones", len(cs))
	}
	for _, c := range cs {
		if c.ID == mine && !strings.Contains(c.Body, "is ready") {
			t.Errorf("our own comment was not edited:\n%s", c.Body)
		}
		if c.ID == bots && c.Body != ghreport.Marker+"\nnot ours" {
			t.Errorf("another App's comment was edited")
		}
	}
	if strings.Contains(p.stdout.String(), "write scopes") {
		t.Errorf("a fine-grained token (the API names no scopes) was warned about")
	}
}

// TestWriteScopesAreWarned: a classic token with the repo scope can push to
// every repository its owner can; it goes to the Cloud, so say so.
func TestWriteScopesAreWarned(t *testing.T) {
	p := newInproc(t)
	const classic = "ghp_TESTclassic_repo_scope_9f8e7d6c"
	p.gh.AddToken(classic, ghsim.TokenSpec{Login: "octocat", Type: "User", Repos: []string{"Codertocat/Hello-World"},
		Scopes: []string{"repo", "read:org"}})
	p.env["GITHUB_TOKEN"] = classic
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	out := p.stdout.String()
	if !strings.Contains(out, "::warning::") || !strings.Contains(out, "write scopes (repo)") {
		t.Errorf("no warning about the repo scope:\n%s", out)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, classic) && !strings.HasPrefix(line, "::add-mask::") {
			t.Errorf("the token is in the log: %s", line)
		}
	}
}

func TestWriteScopes(t *testing.T) {
	for header, want := range map[string]string{
		"":                            "",
		"read:org, read:user":         "",
		"repo, read:org":              "repo",
		"public_repo,workflow":        "public_repo,workflow",
		"admin:repo_hook, user:email": "admin:repo_hook",
	} {
		if got := strings.Join(writeScopes(header), ","); got != want {
			t.Errorf("writeScopes(%q) = %q, want %q", header, got, want)
		}
	}
}
