package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/sandbox"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// Against the simulator in its real-Cloud default (the endpoint a bare
// origin) with every first-run fault users report switched on, a signed
// delivery still ends in a ready preview: rebuilt once after the "please
// wait a few moments" failure, the comment and the deployment showing the
// GraphQL URL.
func TestFirstRunAgainstTheRealCloudShapes(t *testing.T) {
	s := newSims(t, func(o *cloudsim.Options) { o.FirstRun = true })
	s.cloud.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultWarmingUp, Count: 2})
	s.cloud.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultGenericError})
	svc := start(t, load(t, s.env(t, storetest.SQLitePath(t))), fastDeps(t))
	t0 := time.Now().UTC().Truncate(time.Second)
	deliver(t, svc.url, "pull_request", prPayload(t, sandbox.PullRequest{Action: "opened", SHA: sandbox.FakeSHA("head 1"), UpdatedAt: t0}))

	want := "https://hello-world-pr-2.hasura.app/v1/graphql"
	eventually(t, "the preview is ready after one automatic rebuild", func() bool {
		ps := s.cloud.Projects()
		bodies := commentBodies(s.gh, sandbox.PRNumber)
		return len(ps) == 1 && ps[0].Builds == 2 && len(bodies) == 1 && strings.Contains(bodies[0], "is ready") &&
			deploymentState(s) == "success"
	})
	if p := s.cloud.Projects()[0]; p.Endpoint != "https://hello-world-pr-2.hasura.app" {
		t.Errorf("projects.endpoint = %q, want the bare origin", p.Endpoint)
	}
	body := commentBodies(s.gh, sandbox.PRNumber)[0]
	if !strings.Contains(body, "`"+want+"`") || !strings.Contains(body, "rebuilt once automatically") {
		t.Errorf("comment:\n%s", body)
	}
	ds := s.gh.Deployments(sandbox.Owner, sandbox.Repo)
	st := ds[len(ds)-1].Statuses
	if url := st[len(st)-1].EnvironmentURL; url != want {
		t.Errorf("environment_url = %q, want %q", url, want)
	}
}
