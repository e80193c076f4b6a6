package ghsim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestFaultsAsGoGithubSeesThem(t *testing.T) {
	tests := []struct {
		name  string
		fault ghsim.Fault
		check func(t *testing.T, err error)
	}{
		{"429 is a plain ErrorResponse with Retry-After", ghsim.Fault{Status: 429, RetryAfter: 30 * time.Second},
			func(t *testing.T, err error) {
				er := wantStatus(t, err, 429)
				if er.Response.Header.Get("Retry-After") != "30" {
					t.Fatalf("Retry-After = %q", er.Response.Header.Get("Retry-After"))
				}
				var abuse *github.AbuseRateLimitError
				if errors.As(err, &abuse) {
					t.Fatal("go-github v60 does not classify 429; the simulator must not make it look otherwise")
				}
			}},
		{"403 secondary limit", ghsim.Fault{Status: 403, RetryAfter: 1500 * time.Millisecond},
			func(t *testing.T, err error) {
				var abuse *github.AbuseRateLimitError
				if !errors.As(err, &abuse) || abuse.RetryAfter == nil || *abuse.RetryAfter != 2*time.Second {
					t.Fatalf("err = %v (%T), want *AbuseRateLimitError retrying after 2s", err, err)
				}
			}},
		{"403 primary limit", ghsim.Fault{RateLimitRemaining0: true, RetryAfter: 10 * time.Minute},
			func(t *testing.T, err error) {
				var rl *github.RateLimitError
				if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || !rl.Rate.Reset.Time.Equal(t0.Add(10*time.Minute)) {
					t.Fatalf("err = %v (%T), want *RateLimitError resetting at t0+10m", err, err)
				}
			}},
		{"500", ghsim.Fault{Status: 500}, func(t *testing.T, err error) { wantStatus(t, err, 500) }},
		{"502 with an HTML body", ghsim.Fault{Status: 502}, func(t *testing.T, err error) {
			if er := wantStatus(t, err, 502); er.Response.Header.Get("Content-Type") != "text/html" {
				t.Fatalf("content type %q", er.Response.Header.Get("Content-Type"))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, base, _ := newSim(t)
			c := client(t, base, botToken)
			ctx := context.Background()
			tc.fault.PathContains = "/issues/7/comments"
			s.Inject(tc.fault)

			_, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("x")})
			tc.check(t, err)
			// A fresh client: go-github remembers a secondary limit and
			// refuses locally until it passes (in real time).
			c = client(t, base, botToken)
			if _, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("x")}); err != nil {
				t.Fatalf("a Count 0 fault must hit once only: %v", err)
			}
			if n := len(s.Comments(owner, repoName, 7)); n != 1 {
				t.Fatalf("%d comments, want 1: a faulted write must not happen", n)
			}
			if log := s.Requests(); !log[0].Fault || log[0].Principal != botLogin || log[1].Fault || s.Stats().FaultsServed != 1 {
				t.Fatalf("log = %+v", log)
			}
		})
	}
}

func TestFaultMatchingAndCount(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	list := func() error { _, _, err := c.Issues.ListComments(ctx, owner, repoName, 7, nil); return err }
	create := func() error {
		_, _, err := c.Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("x")})
		return err
	}

	s.Inject(ghsim.Fault{Method: "POST", PathContains: "/comments", Status: 500, Count: 2})
	if err := list(); err != nil {
		t.Fatalf("a POST fault hit a GET: %v", err)
	}
	for i := range 2 {
		if err := create(); err == nil {
			t.Fatalf("write %d succeeded, want the fault", i)
		}
	}
	if err := create(); err != nil {
		t.Fatalf("after Count faults: %v", err)
	}

	s.Inject(ghsim.Fault{PathContains: "/pulls/", Status: 503, Count: -1})
	for range 3 {
		_, _, err := c.PullRequests.Get(ctx, owner, repoName, 7)
		wantStatus(t, err, 503)
	}
	s.ClearFaults()
	if _, _, err := c.PullRequests.Get(ctx, owner, repoName, 7); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestContentWritesPerMinute(t *testing.T) {
	clk := clock.NewManual(t0)
	s, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: enterprise, Now: clk.Now, ContentWritesPerMinute: 3})
	s.AddPull(owner, repoName, ghsim.PullSpec{Number: 7})
	s.AddToken(botToken, ghsim.TokenSpec{AllRepos: true})
	ctx := context.Background()
	create := func() error {
		// A fresh client each time: go-github would otherwise refuse
		// locally after the first secondary-limit answer.
		_, _, err := client(t, base, botToken).Issues.CreateComment(ctx, owner, repoName, 7, &github.IssueComment{Body: github.String("x")})
		return err
	}
	for i := range 3 {
		if err := create(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		clk.Advance(10 * time.Second)
	}
	var abuse *github.AbuseRateLimitError
	if err := create(); !errors.As(err, &abuse) {
		t.Fatalf("fourth write within a minute: %v (%T), want *AbuseRateLimitError", err, err)
	}
	if _, _, err := client(t, base, botToken).Issues.ListComments(ctx, owner, repoName, 7, nil); err != nil {
		t.Fatalf("reads are not limited: %v", err)
	}
	clk.Advance(31 * time.Second) // the first write is now more than a minute old
	if err := create(); err != nil {
		t.Fatalf("after the window slid: %v", err)
	}
	if n := len(s.Comments(owner, repoName, 7)); n != 4 {
		t.Fatalf("%d comments, want 4", n)
	}
}
