package ghsim_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestPullFromAFork(t *testing.T) {
	s, base, _ := newSim(t)
	var files []string
	for i := range 120 {
		files = append(files, fmt.Sprintf("hasura/migrations/%03d/up.sql", i))
	}
	s.AddPull(owner, repoName, ghsim.PullSpec{
		Number: 8, Title: "Add table", User: "mallory", HeadOwner: "mallory", HeadRepo: "app-fork",
		HeadRef: "feature", HeadSHA: strings.Repeat("b", 40), Draft: true, Labels: []string{"preview"}, Files: files,
	})
	c := client(t, base, botToken)
	ctx := context.Background()

	pr, _, err := c.PullRequests.Get(ctx, owner, repoName, 8)
	if err != nil {
		t.Fatal(err)
	}
	h := pr.GetHead()
	if h.GetLabel() != "mallory:feature" || h.GetSHA() != strings.Repeat("b", 40) || h.GetRepo().GetFullName() != "mallory/app-fork" ||
		!h.GetRepo().GetFork() || pr.GetBase().GetRepo().GetFullName() != "acme/app" || pr.GetBase().GetRef() != "main" ||
		!pr.GetDraft() || pr.GetState() != "open" || pr.GetUser().GetLogin() != "mallory" || pr.GetTitle() != "Add table" ||
		len(pr.Labels) != 1 || pr.Labels[0].GetName() != "preview" || pr.GetChangedFiles() != 120 {
		t.Fatalf("pr = %+v\nhead %+v", pr, h)
	}

	var got []*github.CommitFile
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := c.PullRequests.ListFiles(ctx, owner, repoName, 8, opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(got) != 120 || got[119].GetFilename() != files[119] || got[0].GetStatus() != "modified" {
		t.Fatalf("%d files, last %q", len(got), got[len(got)-1].GetFilename())
	}

	// The base repository serves the fork's head commit, by sha or pull ref.
	s.SetFile("mallory", "app-fork", "feature", "hasura/config.yaml", "from the fork\n")
	for _, ref := range []string{strings.Repeat("b", 40), "refs/pull/8/head"} {
		f, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, "hasura/config.yaml", &github.RepositoryContentGetOptions{Ref: ref})
		if err != nil {
			t.Fatalf("ref %s: %v", ref, err)
		}
		if got, _ := f.GetContent(); got != "from the fork\n" {
			t.Fatalf("ref %s: %q", ref, got)
		}
	}

	_, _, err = c.PullRequests.Get(ctx, owner, repoName, 99)
	wantStatus(t, err, 404)
}

func TestListPullsByState(t *testing.T) {
	s, base, _ := newSim(t)
	s.AddPull(owner, repoName, ghsim.PullSpec{Number: 8})
	s.AddPull(owner, repoName, ghsim.PullSpec{Number: 9})
	if !s.SetPullState(owner, repoName, 8, "merged") {
		t.Fatal("SetPullState on a seeded PR reported false")
	}
	c := client(t, base, botToken)
	ctx := context.Background()
	numbers := func(state string) []int {
		prs, _, err := c.PullRequests.List(ctx, owner, repoName, &github.PullRequestListOptions{State: state})
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, pr := range prs {
			out = append(out, pr.GetNumber())
		}
		return out
	}
	if got := fmt.Sprint(numbers("")); got != "[9 7]" {
		t.Fatalf("open = %s", got)
	}
	if got := fmt.Sprint(numbers("all")); got != "[9 8 7]" {
		t.Fatalf("all = %s", got)
	}
	pr, _, err := c.PullRequests.Get(ctx, owner, repoName, 8)
	if err != nil || pr.GetState() != "closed" || !pr.GetMerged() || pr.MergedAt == nil || pr.ClosedAt == nil {
		t.Fatalf("merged PR = %+v, %v", pr, err)
	}
}

func TestContents(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetFile(owner, repoName, "main", "hasura/config.yaml", "version: 3\nendpoint: http://localhost:8080\n")
	s.SetFile(owner, repoName, "main", "hasura/metadata/tables.yaml", "[]\n")
	s.SetFile(owner, repoName, "feature", "hasura/config.yaml", "version: 3\n# feature\n")
	c := client(t, base, botToken)
	ctx := context.Background()
	read := func(path string, ref string) (string, error) {
		var opts *github.RepositoryContentGetOptions
		if ref != "" {
			opts = &github.RepositoryContentGetOptions{Ref: ref}
		}
		f, _, _, err := c.Repositories.GetContents(ctx, owner, repoName, path, opts)
		if err != nil {
			return "", err
		}
		return f.GetContent()
	}

	if got, err := read("hasura/config.yaml", ""); err != nil || got != "version: 3\nendpoint: http://localhost:8080\n" {
		t.Fatalf("default branch: %q %v", got, err)
	}
	for _, ref := range []string{"feature", "refs/heads/feature", strings.Repeat("a", 40), "refs/pull/7/head"} {
		if got, err := read("hasura/config.yaml", ref); err != nil || got != "version: 3\n# feature\n" {
			t.Fatalf("ref %s: %q %v", ref, got, err)
		}
	}
	_, err := read("hasura/missing.yaml", "")
	wantStatus(t, err, 404)
	_, err = read("hasura/config.yaml", "nope")
	wantStatus(t, err, 404)

	rc, _, err := c.Repositories.DownloadContents(ctx, owner, repoName, "hasura/metadata/tables.yaml", nil)
	if err != nil {
		t.Fatalf("DownloadContents (follows download_url): %v", err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	if string(raw) != "[]\n" {
		t.Fatalf("downloaded %q", raw)
	}
	req, _ := c.NewRequest("GET", "repos/acme/app/contents/hasura/config.yaml?ref=feature", nil)
	req.Header.Set("Accept", "application/vnd.github.raw+json")
	var buf strings.Builder
	if _, err := c.Do(ctx, req, &buf); err != nil || buf.String() != "version: 3\n# feature\n" {
		t.Fatalf("raw media type: %q %v", buf.String(), err)
	}

	_, dir, _, err := c.Repositories.GetContents(ctx, owner, repoName, "hasura", nil)
	if err != nil || len(dir) != 2 || dir[0].GetName() != "config.yaml" || dir[0].GetType() != "file" ||
		dir[1].GetName() != "metadata" || dir[1].GetType() != "dir" {
		t.Fatalf("directory listing: %v %+v", err, dir)
	}

	s.AddToken("no-contents", ghsim.TokenSpec{AllRepos: true, Permissions: map[string]string{"issues": "write"}})
	_, _, _, err = client(t, base, "no-contents").Repositories.GetContents(ctx, owner, repoName, "hasura/config.yaml", nil)
	wantStatus(t, err, 403)
}

func TestCollaboratorPermission(t *testing.T) {
	s, base, _ := newSim(t)
	s.SetPermission(owner, repoName, "alice", "maintain")
	s.SetPermission(owner, repoName, "eve", "none")
	c := client(t, base, botToken)
	ctx := context.Background()

	for user, want := range map[string]string{"alice": "write", "eve": "none", "acme": "admin", "octocat": "none"} {
		got, _, err := c.Repositories.GetPermissionLevel(ctx, owner, repoName, user)
		if err != nil || got.GetPermission() != want || got.GetUser().GetLogin() != user {
			t.Fatalf("%s: %+v %v, want %s", user, got, err, want)
		}
	}
	var raw struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	get(t, base+"repos/acme/app/collaborators/alice/permission", botToken, &raw)
	if raw.Permission != "write" || raw.RoleName != "maintain" {
		t.Fatalf("raw = %+v", raw)
	}
	_, _, err := c.Repositories.GetPermissionLevel(ctx, owner, repoName, "nobody-known")
	wantStatus(t, err, 404)
}

func TestLabels(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()

	got, _, err := c.Issues.AddLabelsToIssue(ctx, owner, repoName, 7, []string{"preview", "db"})
	if err != nil || len(got) != 2 {
		t.Fatalf("add: %v %+v", err, got)
	}
	if _, err := c.Issues.RemoveLabelForIssue(ctx, owner, repoName, 7, "db"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Issues.RemoveLabelForIssue(ctx, owner, repoName, 7, "db")
	wantStatus(t, err, 404)
	pr, _, err := c.PullRequests.Get(ctx, owner, repoName, 7)
	if err != nil || len(pr.Labels) != 1 || pr.Labels[0].GetName() != "preview" {
		t.Fatalf("labels on the PR: %v %+v", err, pr.Labels)
	}
	if st := s.Stats(); st.LabelWrites != 2 {
		t.Fatalf("LabelWrites = %d, want 2", st.LabelWrites)
	}
}
