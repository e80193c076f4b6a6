package service_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// TestTwoReplicasOnPostgres runs two service instances on one PostgreSQL
// database and opens 100 pull requests, the deliveries spread over both:
// every preview is created exactly once, becomes ready, and has exactly
// one comment.
func TestTwoReplicasOnPostgres(t *testing.T) {
	dbURL := storetest.PostgresURL(t) // skips without HASURA_PREVIEW_TEST_POSTGRES_URL
	const prs = 100
	s := newSims(t)
	for n := 1; n <= prs; n++ {
		s.gh.AddPull(sandbox.Owner, sandbox.Repo, ghsim.PullSpec{
			Number: n, Title: fmt.Sprintf("Change %d", n), User: sandbox.Owner,
			HeadRef: fmt.Sprintf("branch-%d", n), HeadSHA: sandbox.FakeSHA(fmt.Sprint("head ", n)), BaseRef: sandbox.BaseBranch,
		})
	}
	env := s.env(t, dbURL)
	a := start(t, load(t, env), fastDeps(t))
	b := start(t, load(t, env), fastDeps(t))

	t0 := time.Now().UTC().Truncate(time.Second)
	var wg sync.WaitGroup
	for n := 1; n <= prs; n++ {
		url := a.url
		if n%2 == 1 {
			url = b.url
		}
		body := prPayload(t, sandbox.PullRequest{
			Action: "opened", Number: n, Title: fmt.Sprintf("Change %d", n), Branch: fmt.Sprintf("branch-%d", n),
			SHA: sandbox.FakeSHA(fmt.Sprint("head ", n)), UpdatedAt: t0,
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			deliver(t, url, "pull_request", body)
		}()
	}
	wg.Wait()

	ready := func() (int, string) {
		byRepo := 0
		for _, p := range s.cloud.Projects() {
			if p.Builds >= 1 {
				byRepo++
			}
		}
		succeeded := 0
		for _, d := range s.gh.Deployments(sandbox.Owner, sandbox.Repo) {
			if n := len(d.Statuses); n > 0 && d.Statuses[n-1].State == "success" {
				succeeded++
			}
		}
		// The deployment's final status is written just before the comment:
		// a PR is ready once both say so.
		shown := 0
		for n := 1; n <= prs; n++ {
			if bodies := commentBodies(s.gh, n); len(bodies) == 1 && strings.Contains(bodies[0], ".hasura.app") {
				shown++
			}
		}
		return min(byRepo, succeeded, shown), fmt.Sprintf("%d apps built, %d deployments succeeded, %d comments show the endpoint", byRepo, succeeded, shown)
	}
	var status string
	eventually(t, "all 100 previews are ready", func() bool {
		var n int
		n, status = ready()
		return n == prs
	})
	t.Log(status)

	if n := s.cloud.Count(cloud.OpCreatePreviewApp); n != prs {
		t.Errorf("cloudsim counted %d createGitHubPreviewApp, want %d (one per PR)", n, prs)
	}
	if n := len(s.cloud.Projects()); n != prs {
		t.Errorf("%d apps in the Cloud, want %d", n, prs)
	}
	for n := 1; n <= prs; n++ {
		bodies := commentBodies(s.gh, n)
		if len(bodies) != 1 {
			t.Errorf("PR %d has %d comments, want 1", n, len(bodies))
			continue
		}
		if !strings.Contains(bodies[0], ".hasura.app") {
			t.Errorf("PR %d's comment shows no endpoint:\n%s", n, bodies[0])
		}
	}
	for _, r := range []*running{a, b} {
		if err := r.stop(); err != nil {
			t.Errorf("stopping a replica: %v", err)
		}
	}
}
