package ghsim_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestDeploymentRecordsWhatWasSent(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()

	d, resp, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{
		Ref:                  github.String("feature"),
		Environment:          github.String("preview/pr-7"),
		AutoMerge:            github.Bool(false),
		RequiredContexts:     &[]string{},
		TransientEnvironment: github.Bool(true),
		Description:          github.String("Hasura preview"),
		Payload:              map[string]any{"pr": 7},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || d.GetSHA() != strings.Repeat("a", 40) || d.GetRef() != "feature" ||
		d.GetEnvironment() != "preview/pr-7" || d.GetTask() != "deploy" || d.GetCreator().GetLogin() != botLogin ||
		!strings.HasSuffix(d.GetStatusesURL(), "/statuses") || string(d.Payload) != `{"pr":7}` {
		t.Fatalf("deployment = %+v", d)
	}

	// A second one relying on GitHub's defaults.
	if _, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{Ref: github.String("main")}); err != nil {
		t.Fatal(err)
	}

	ds := s.Deployments(owner, repoName)
	if len(ds) != 2 {
		t.Fatalf("%d deployments, want 2", len(ds))
	}
	sent, dflt := ds[0], ds[1]
	if sent.AutoMerge == nil || *sent.AutoMerge || sent.RequiredContexts == nil || len(*sent.RequiredContexts) != 0 ||
		sent.TransientEnvironment == nil || !*sent.TransientEnvironment || sent.ProductionEnvironment != nil {
		t.Fatalf("explicit fields not recorded as sent: %+v", sent)
	}
	if !strings.Contains(string(sent.Raw), `"required_contexts":[]`) {
		t.Fatalf("raw body %s", sent.Raw)
	}
	if dflt.AutoMerge != nil || dflt.RequiredContexts != nil || dflt.Environment != "production" {
		t.Fatalf("omitted fields must stay nil: %+v", dflt)
	}
}

func TestDeploymentRefMustExistInTheRepository(t *testing.T) {
	s, base, _ := newSim(t)
	forkSHA := strings.Repeat("f", 40)
	s.AddPull(owner, repoName, ghsim.PullSpec{Number: 8, HeadOwner: "mallory", HeadRepo: "app", HeadRef: "fork-branch", HeadSHA: forkSHA})
	c := client(t, base, botToken)
	ctx := context.Background()

	for _, ref := range []string{"fork-branch", "no-such-branch"} {
		_, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{Ref: github.String(ref)})
		if er := wantStatus(t, err, 422); er.Message != "No ref found for: "+ref {
			t.Fatalf("message %q", er.Message)
		}
	}
	d, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{Ref: github.String(forkSHA)})
	if err != nil || d.GetSHA() != forkSHA {
		t.Fatalf("deploying the fork's head sha: %v %+v", err, d)
	}
	d, _, err = c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{Ref: github.String("refs/pull/7/head")})
	if err != nil || d.GetSHA() != strings.Repeat("a", 40) {
		t.Fatalf("deploying refs/pull/7/head: %v %+v", err, d)
	}
}

func TestDeploymentStatuses(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	d, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{
		Ref: github.String("feature"), Environment: github.String("preview/pr-7"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("in_progress"), LogURL: github.String("https://ci.example/run/1"),
	}); err != nil {
		t.Fatal(err)
	}
	st, resp, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("success"), EnvironmentURL: github.String("https://pr-7.hasura.app/v1/graphql"),
		LogURL: github.String("https://ci.example/run/1"), Description: github.String("ready"), AutoInactive: github.Bool(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || st.GetState() != "success" || st.GetEnvironmentURL() != "https://pr-7.hasura.app/v1/graphql" ||
		st.GetTargetURL() != "https://ci.example/run/1" || st.GetEnvironment() != "preview/pr-7" || st.GetCreator().GetLogin() != botLogin {
		t.Fatalf("status = %+v", st)
	}

	list, _, err := c.Repositories.ListDeploymentStatuses(ctx, owner, repoName, d.GetID(), nil)
	if err != nil || len(list) != 2 || list[0].GetState() != "success" || list[1].GetState() != "in_progress" {
		t.Fatalf("statuses (newest first): %v %+v", err, list)
	}
	rec := s.Deployments(owner, repoName)[0].Statuses
	if len(rec) != 2 || rec[1].AutoInactive == nil || *rec[1].AutoInactive || rec[0].AutoInactive != nil ||
		rec[1].EnvironmentURL != "https://pr-7.hasura.app/v1/graphql" {
		t.Fatalf("recorded statuses = %+v", rec)
	}

	_, _, err = c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, d.GetID(), &github.DeploymentStatusRequest{State: github.String("done")})
	wantStatus(t, err, 422)
	_, _, err = c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, d.GetID(), &github.DeploymentStatusRequest{
		State: github.String("failure"), Description: github.String(strings.Repeat("x", 141)),
	})
	wantStatus(t, err, 422)
}

func TestAutoInactiveDeactivatesEarlierDeployments(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	deploy := func(autoInactive *bool) int64 {
		d, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{
			Ref: github.String("feature"), Environment: github.String("preview/pr-7"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, d.GetID(),
			&github.DeploymentStatusRequest{State: github.String("success"), AutoInactive: autoInactive}); err != nil {
			t.Fatal(err)
		}
		return d.GetID()
	}
	deploy(nil)
	deploy(github.Bool(false))
	ds := s.Deployments(owner, repoName)
	if n := len(ds[0].Statuses); n != 1 {
		t.Fatalf("auto_inactive:false still deactivated the first deployment: %+v", ds[0].Statuses)
	}
	deploy(nil) // GitHub's default auto_inactive is true.
	ds = s.Deployments(owner, repoName)
	for _, d := range ds[:2] {
		last := d.Statuses[len(d.Statuses)-1]
		if last.State != "inactive" || !last.Auto {
			t.Fatalf("deployment %d not made inactive: %+v", d.ID, d.Statuses)
		}
	}
	if last := ds[2].Statuses[len(ds[2].Statuses)-1]; last.State != "success" {
		t.Fatalf("newest deployment changed: %+v", ds[2].Statuses)
	}
}

func TestListDeploymentsFiltersNewestFirst(t *testing.T) {
	_, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	for _, env := range []string{"preview/pr-7", "staging", "preview/pr-7"} {
		if _, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{
			Ref: github.String("feature"), Environment: github.String(env),
		}); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := c.Repositories.ListDeployments(ctx, owner, repoName, &github.DeploymentsListOptions{Environment: "preview/pr-7"})
	if err != nil || len(got) != 2 || got[0].GetID() <= got[1].GetID() {
		t.Fatalf("by environment: %v %+v", err, got)
	}
	got, _, err = c.Repositories.ListDeployments(ctx, owner, repoName, &github.DeploymentsListOptions{SHA: strings.Repeat("a", 40)})
	if err != nil || len(got) != 3 {
		t.Fatalf("by sha: %v, %d deployments", err, len(got))
	}
	got, _, err = c.Repositories.ListDeployments(ctx, owner, repoName, &github.DeploymentsListOptions{Ref: "main"})
	if err != nil || len(got) != 0 {
		t.Fatalf("by another ref: %v, %d deployments", err, len(got))
	}
}

func TestDeleteDeploymentOnlyWhenInactive(t *testing.T) {
	s, base, _ := newSim(t)
	c := client(t, base, botToken)
	ctx := context.Background()
	var ids []int64
	for range 2 {
		d, _, err := c.Repositories.CreateDeployment(ctx, owner, repoName, &github.DeploymentRequest{
			Ref: github.String("feature"), Environment: github.String("preview/pr-7"),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.GetID())
	}
	_, err := c.Repositories.DeleteDeployment(ctx, owner, repoName, ids[0])
	wantStatus(t, err, 422)

	if _, _, err := c.Repositories.CreateDeploymentStatus(ctx, owner, repoName, ids[0],
		&github.DeploymentStatusRequest{State: github.String("inactive")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Repositories.DeleteDeployment(ctx, owner, repoName, ids[0]); err != nil {
		t.Fatalf("deleting an inactive deployment: %v", err)
	}
	// The survivor is now alone in its environment, so it may go while active.
	if _, err := c.Repositories.DeleteDeployment(ctx, owner, repoName, ids[1]); err != nil {
		t.Fatalf("deleting the only deployment of an environment: %v", err)
	}
	_, _, err = c.Repositories.GetDeployment(ctx, owner, repoName, ids[0])
	wantStatus(t, err, 404)
	for _, d := range s.Deployments(owner, repoName) {
		if !d.Deleted {
			t.Fatalf("deployment %d not marked deleted", d.ID)
		}
	}
	if st := s.Stats(); st.DeploymentDeletes != 2 || st.DeploymentCreates != 2 || st.DeploymentStatusCreates != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestDeploymentsNeedTheDeploymentsPermission(t *testing.T) {
	s, base, _ := newSim(t)
	s.AddToken("no-deploy", ghsim.TokenSpec{AllRepos: true, Permissions: map[string]string{"issues": "write", "deployments": "read"}})
	c := client(t, base, "no-deploy")
	_, _, err := c.Repositories.CreateDeployment(context.Background(), owner, repoName, &github.DeploymentRequest{Ref: github.String("main")})
	wantStatus(t, err, 403)
	if _, _, err := c.Repositories.ListDeployments(context.Background(), owner, repoName, nil); err != nil {
		t.Fatalf("read with deployments:read: %v", err)
	}
	var raw []json.RawMessage
	if resp := get(t, base+"repos/acme/app/deployments", "no-deploy", &raw); resp.StatusCode != 200 || len(raw) != 0 {
		t.Fatalf("raw list: %d %s", resp.StatusCode, raw)
	}
}
