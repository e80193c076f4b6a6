package ghsim_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestOnWriteMakesConcurrentWritesObservable(t *testing.T) {
	for _, parallel := range []int{1, 3} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			entered := make(chan string, parallel)
			release := make(chan struct{})
			s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise, OnWrite: func(method, path string) {
				entered <- method + " " + path
				<-release
			}})
			s.AddPull(owner, repoName, ghsim.PullSpec{Number: 7})
			s.AddToken(botToken, ghsim.TokenSpec{AllRepos: true})
			c := client(t, base, botToken)

			var wg sync.WaitGroup
			errs := make(chan error, parallel)
			for range parallel {
				wg.Go(func() {
					_, _, err := c.Issues.CreateComment(context.Background(), owner, repoName, 7, &github.IssueComment{Body: github.String("x")})
					errs <- err
				})
			}
			for range parallel {
				if got := <-entered; got != "POST /repos/acme/app/issues/7/comments" {
					t.Errorf("OnWrite saw %q", got)
				}
			}
			if n := len(s.Comments(owner, repoName, 7)); n != 0 {
				t.Errorf("%d comments exist while writes are held, want 0", n)
			}
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if st := s.Stats(); st.MaxConcurrentWrites != parallel || st.CommentCreates != parallel {
				t.Fatalf("stats = %+v, want %d concurrent", st, parallel)
			}
		})
	}
}

func TestConcurrentRequestsAndSeeding(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if _, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String(fmt.Sprint(w, i))}); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := c.Issues.ListComments(ctx, owner, repoName, 7, nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() {
			s.SetFile(owner, repoName, "main", fmt.Sprintf("f%d", w), "x")
			s.UpdatePull(owner, repoName, 7, func(p *ghsim.PullSpec) { p.Labels = append(p.Labels, fmt.Sprint(w)) })
			_ = s.Requests()
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, cm := range s.Comments(owner, repoName, 7) {
		if seen[cm.ID] {
			t.Fatalf("duplicate comment id %d", cm.ID)
		}
		seen[cm.ID] = true
	}
	if len(seen) != 80 {
		t.Fatalf("%d comments, want 80", len(seen))
	}
}
