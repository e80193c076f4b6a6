package ghsim_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestListCommentsPagesThrough250(t *testing.T) {
	s, base, _ := newSim(t)
	for i := range 250 {
		s.AddComment(owner, repoName, 7, "someone", fmt.Sprintf("comment %d", i))
	}
	c := client(t, base, botToken)
	ctx := context.Background()

	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	pages := 0
	for {
		got, resp, err := c.Issues.ListComments(ctx, owner, repoName, 7, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, got...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || len(all) != 250 {
		t.Fatalf("got %d comments in %d pages, want 250 in 3", len(all), pages)
	}
	for i, cm := range all {
		if want := fmt.Sprintf("comment %d", i); cm.GetBody() != want {
			t.Fatalf("comment %d body %q, want %q (order must be oldest first)", i, cm.GetBody(), want)
		}
	}
	if n := s.CountRequests("GET", "/issues/7/comments"); n != 3 {
		t.Fatalf("%d list requests, want 3", n)
	}

	_, resp, err := c.Issues.ListComments(ctx, owner, repoName, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextPage != 2 || resp.LastPage != 9 {
		t.Fatalf("default per_page: next %d last %d, want 2 and 9", resp.NextPage, resp.LastPage)
	}
	got, _, err := c.Issues.ListComments(ctx, owner, repoName, 7, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 500}})
	if err != nil || len(got) != 100 {
		t.Fatalf("per_page=500 gave %d comments (%v), want the maximum 100", len(got), err)
	}
}

func TestCommentLinkHeaderIsGitHubs(t *testing.T) {
	s, base, _ := newSim(t)
	for i := range 250 {
		s.AddComment(owner, repoName, 7, "someone", fmt.Sprint(i))
	}
	id, _ := s.RepoID(owner, repoName)
	list := fmt.Sprintf("%srepositories/%d/issues/7/comments?per_page=100&page=", base, id)

	resp := get(t, base+"repos/acme/app/issues/7/comments?per_page=100&page=2", botToken, nil)
	want := fmt.Sprintf(`<%s1>; rel="prev", <%s3>; rel="next", <%s3>; rel="last", <%s1>; rel="first"`, list, list, list, list)
	if got := resp.Header.Get("Link"); got != want {
		t.Fatalf("Link:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(want, enterprise) {
		t.Fatalf("Link URLs lack the prefix: %s", want)
	}

	// The absolute URL GitHub hands out must itself work.
	var page3 []map[string]any
	resp = get(t, list+"3", botToken, &page3)
	if resp.StatusCode != 200 || len(page3) != 50 {
		t.Fatalf("following rel=last: %d, %d comments", resp.StatusCode, len(page3))
	}
	if got := resp.Header.Get("Link"); strings.Contains(got, `rel="next"`) {
		t.Fatalf("last page has a next link: %s", got)
	}
}

func TestCommentCreateEditDelete(t *testing.T) {
	s, base, clk := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()

	created, resp, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("<!-- marker -->\nfirst")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 {
		t.Fatalf("status %d, want 201", resp.StatusCode)
	}
	u := created.GetUser()
	if u.GetLogin() != botLogin || u.GetType() != "Bot" || created.GetID() == 0 || created.GetNodeID() == "" {
		t.Fatalf("created = %+v, user %+v", created, u)
	}
	wantHTML := fmt.Sprintf("https://github.com/acme/app/pull/7#issuecomment-%d", created.GetID())
	if created.GetHTMLURL() != wantHTML || !created.GetCreatedAt().Time.Equal(t0) {
		t.Fatalf("html_url %q created_at %v", created.GetHTMLURL(), created.GetCreatedAt())
	}
	if !strings.HasPrefix(created.GetURL(), base+"repos/acme/app/issues/comments/") {
		t.Fatalf("url %q is not under the API base", created.GetURL())
	}

	clk.Advance(time.Minute)
	edited, _, err := c.Issues.EditComment(ctx, owner, repoName, created.GetID(), &github.IssueComment{Body: github.String("<!-- marker -->\nsecond")})
	if err != nil {
		t.Fatal(err)
	}
	if edited.GetBody() != "<!-- marker -->\nsecond" || !edited.GetUpdatedAt().Time.Equal(t0.Add(time.Minute)) ||
		!edited.GetCreatedAt().Time.Equal(t0) {
		t.Fatalf("edited = %+v", edited)
	}
	got, _, err := c.Issues.GetComment(ctx, owner, repoName, created.GetID())
	if err != nil || got.GetBody() != edited.GetBody() {
		t.Fatalf("get after edit: %v %q", err, got.GetBody())
	}
	if cs := s.Comments(owner, repoName, 7); len(cs) != 1 || cs[0].Body != edited.GetBody() || cs[0].User != botLogin {
		t.Fatalf("Comments() = %+v", cs)
	}

	if _, err := c.Issues.DeleteComment(ctx, owner, repoName, created.GetID()); err != nil {
		t.Fatal(err)
	}
	if cs := s.Comments(owner, repoName, 7); len(cs) != 0 {
		t.Fatalf("after delete: %+v", cs)
	}
	_, _, err = c.Issues.GetComment(ctx, owner, repoName, created.GetID())
	wantStatus(t, err, 404)

	st := s.Stats()
	if st.CommentCreates != 1 || st.CommentUpdates != 1 || st.CommentDeletes != 1 || st.ContentWrites() != 3 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestCommentBodyLimit(t *testing.T) {
	_, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()

	// The limit is in characters, not bytes.
	atLimit := strings.Repeat("é", ghsim.MaxCommentLength)
	if _, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: &atLimit}); err != nil {
		t.Fatalf("65536 characters: %v", err)
	}
	over := atLimit + "x"
	_, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: &over})
	er := wantStatus(t, err, 422)
	if len(er.Errors) != 1 || er.Errors[0].Message != "body is too long (maximum is 65536 characters)" || er.Errors[0].Field != "body" {
		t.Fatalf("errors = %+v", er.Errors)
	}
	_, _, err = c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("")})
	wantStatus(t, err, 422)
}

func TestCommentsOnlyWhereTheyBelong(t *testing.T) {
	s, base, _ := newSim(t)
	s.AddToken("wide", ghsim.TokenSpec{AllRepos: true})
	c := client(t, base, "wide")
	ctx := context.Background()

	_, _, err := c.Issues.CreateComment(ctx, owner, repoName, 99, &github.IssueComment{Body: github.String("x")})
	wantStatus(t, err, 404)

	id := s.AddComment("acme", "other", 1, "someone", "elsewhere")
	_, _, err = c.Issues.GetComment(ctx, owner, repoName, id)
	wantStatus(t, err, 404)
	if _, _, err := c.Issues.GetComment(ctx, "acme", "other", id); err != nil {
		t.Fatal(err)
	}
}
