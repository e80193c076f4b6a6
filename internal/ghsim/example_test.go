package ghsim_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// The simulator mounted as GitHub Enterprise mounts its API, driven by the
// go-github client production uses. Tests usually call NewTestServer
// instead of wiring httptest by hand.
func Example() {
	sim := ghsim.New(ghsim.Options{Prefix: "/api/v3/"})
	sim.AddPull("acme", "app", ghsim.PullSpec{Number: 7, HeadRef: "feature"})
	sim.AddToken("ghs_example", ghsim.TokenSpec{
		Login: "hasura-preview[bot]", Repos: []string{"acme/app"},
		Permissions: map[string]string{"issues": "write"},
	})
	hs := httptest.NewServer(sim)
	defer hs.Close()

	base := hs.URL + sim.Prefix()
	gh, _ := github.NewClient(nil).WithAuthToken("ghs_example").WithEnterpriseURLs(base, base)
	_, _, err := gh.Issues.CreateComment(context.Background(), "acme", "app", 7, &github.IssueComment{Body: github.String("Preview ready")})
	fmt.Println(err)

	for _, c := range sim.Comments("acme", "app", 7) {
		fmt.Println(c.User, c.Body)
	}
	_, _, err = gh.PullRequests.Get(context.Background(), "acme", "app", 7)
	fmt.Println(err.(*github.ErrorResponse).Message)
	// Output:
	// <nil>
	// hasura-preview[bot] Preview ready
	// Resource not accessible by integration
}
