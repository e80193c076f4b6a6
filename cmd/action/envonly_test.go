package main

import (
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// A re-run of the same commit with another hasuraEnv changes the live app's
// env in place instead of rebuilding it; a re-run with the same env is a
// rebuild, as the user asked for by re-running.
func TestRerunWithNewEnvUpdatesInPlace(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if res := w.run(runOpts{event: "opened"}); res.code != 0 {
		t.Fatalf("first run: exit %d", res.code)
	}
	first, _ := w.cloud.Project(appName)

	const rotated = `{"type":"RS256","jwk_url":"https://clerk.example.com/rotated/jwks.json"}`
	res := w.run(runOpts{event: "opened", inputs: map[string]string{
		"hasuraEnv": "HASURA_GRAPHQL_JWT_SECRET=" + rotated + "\nNEW_FLAG=on\n",
	}})
	if res.code != 0 {
		t.Fatalf("re-run with a new env: exit %d", res.code)
	}
	proj, _ := w.cloud.Project(appName)
	if proj.Builds != first.Builds || w.cloud.Count("createGitHubPreviewApp") != 1 {
		t.Errorf("builds %d → %d: an env change of the same commit must not rebuild", first.Builds, proj.Builds)
	}
	if proj.Env["HASURA_GRAPHQL_JWT_SECRET"] != rotated || proj.Env["NEW_FLAG"] != "on" || proj.Env["PLAIN_VALUE"] != "" {
		t.Errorf("env after the update: %v", proj.Env)
	}
	if res.outputs["status"] != "success" || res.outputs["graphQLEndpoint"] != proj.GraphQLURL || res.outputs["projectId"] != proj.ID {
		t.Errorf("outputs %v", res.outputs)
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "updated in place") || !strings.Contains(cs[0].Body, "NEW_FLAG") ||
		strings.Contains(cs[0].Body, "rotated/jwks") {
		t.Errorf("comment after the env update:\n%v", cs)
	}
	ds := w.gh.Deployments(owner, repo)
	if len(ds) != 2 || lastStatus(t, ds[1]).State != "success" {
		t.Errorf("deployments: %+v", ds)
	}
	if strings.Contains(string(ds[1].Payload), "rotated") || strings.Contains(string(ds[1].Payload), testPAT) {
		t.Errorf("the deployment payload shows a value: %s", ds[1].Payload)
	}

	// The same env again: a rebuild.
	res = w.run(runOpts{event: "opened", inputs: map[string]string{
		"hasuraEnv": "HASURA_GRAPHQL_JWT_SECRET=" + rotated + "\nNEW_FLAG=on\n",
	}})
	if res.code != 0 {
		t.Fatalf("re-run with the same env: exit %d", res.code)
	}
	if after, _ := w.cloud.Project(appName); after.Builds != first.Builds+1 {
		t.Errorf("builds %d after a plain re-run, want %d", after.Builds, first.Builds+1)
	}
}

// Against the simulator in its real-Cloud default (the endpoint a bare
// origin) with every first-run fault users report switched on, the action
// still brings the preview up, rebuilt once, and outputs a GraphQL URL.
func TestFirstRunAgainstTheRealCloudShapes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, func(o *cloudsim.Options) { o.FirstRun = true })
	w.cloud.Inject(cloudsim.Fault{Op: "jobs_by_pk", Kind: cloudsim.FaultWarmingUp, Count: 2})
	w.cloud.Inject(cloudsim.Fault{Op: "jobs_by_pk", Kind: cloudsim.FaultGenericError})
	res := w.run(runOpts{event: "opened"})
	if res.code != 0 {
		t.Fatalf("exit %d", res.code)
	}
	proj, _ := w.cloud.Project(appName)
	want := "https://" + appName + ".hasura.app/v1/graphql"
	if proj.Endpoint != "https://"+appName+".hasura.app" || res.outputs["graphQLEndpoint"] != want || res.outputs["endpoint"] != want {
		t.Errorf("projects.endpoint %q, outputs %v", proj.Endpoint, res.outputs)
	}
	if proj.Builds != 2 || res.outputs["status"] != "success" {
		t.Errorf("builds %d, status %q: want one automatic rebuild, then success", proj.Builds, res.outputs["status"])
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "rebuilt once automatically") || !strings.Contains(cs[0].Body, want) {
		t.Errorf("comment:\n%v", cs)
	}
	ds := w.gh.Deployments(owner, repo)
	if last := lastStatus(t, ds[len(ds)-1]); last.State != "success" || last.EnvironmentURL != want {
		t.Errorf("deployment ends %s at %q", last.State, last.EnvironmentURL)
	}
}
