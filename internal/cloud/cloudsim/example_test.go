package cloudsim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// A test owns the clock, so a ten-minute Cloud job costs no wall time.
func Example() {
	clock := clock.NewManual(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	sim, err := cloudsim.New(cloudsim.Options{PAT: "test-token", Clock: clock, CreationDuration: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()

	post := func(query string) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/graphql", strings.NewReader(query))
		req.Header.Set("Authorization", "pat test-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	const lookup = `{"query":"query q($n: String!) { projects(where: {name: {_eq: $n}}) { name endpoint } }","variables":{"n":"shop-pr-1"}}`

	post(`{"query":"mutation m($n: String!) { createGitHubPreviewApp(payload: {githubPersonalAccessToken: \"ghp\", githubRepoDetails: {owner: \"acme\", repo: \"shop\", branch: \"pr-1\", directory: \"hasura\"}, projectOptions: {name: $n, cloud: \"aws\", region: \"us-east-2\", plan: \"cloud_free\"}}) { githubPreviewAppJobID } }","variables":{"n":"shop-pr-1"}}`)
	fmt.Println(post(lookup))
	clock.Advance(10 * time.Minute)
	fmt.Println(post(lookup))
	fmt.Println(sim.Count("projects"), sim.Count("createGitHubPreviewApp"))
	// Output:
	// {"data":{"projects":[]}}
	// {"data":{"projects":[{"name":"shop-pr-1","endpoint":"https://shop-pr-1.hasura.app"}]}}
	// 2 1
}
