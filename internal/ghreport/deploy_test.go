package ghreport_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

func states(d ghsim.Deployment) []string {
	var out []string
	for _, s := range d.Statuses {
		out = append(out, s.State)
	}
	return out
}

func TestDeploymentLifecycle(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t)
	ctx := context.Background()
	envName := ghreport.EnvironmentName("app-pr-7")
	const endpoint = "https://app-pr-7.hasura.app/v1/graphql"
	const logURL = "https://github.com/acme/app/actions/runs/1"

	id, err := r.StartDeployment(ctx, ghreport.DeploymentSpec{
		Environment: envName, Ref: headSHA, Description: "Hasura preview for #7",
		Payload: map[string]any{"app": "app-pr-7"}, LogURL: logURL,
	})
	must(t, err)
	must(t, r.FinishDeployment(ctx, id, ghreport.DeploySuccess, endpoint, logURL, "Preview ready"))

	ds := e.sim.Deployments(owner, repoName)
	if len(ds) != 1 || ds[0].ID != id {
		t.Fatalf("deployments: %+v", ds)
	}
	d := ds[0]
	// As received: explicit false and an explicit empty list, not omitted.
	var raw map[string]json.RawMessage
	must(t, json.Unmarshal(d.Raw, &raw))
	for field, want := range map[string]string{
		"auto_merge": "false", "required_contexts": "[]", "transient_environment": "true",
		"production_environment": "false", "environment": `"preview/app-pr-7"`, "ref": `"` + headSHA + `"`,
		"payload": `{"app":"app-pr-7"}`,
	} {
		if got := string(raw[field]); got != want {
			t.Errorf("request %s = %s, want %s", field, got, want)
		}
	}
	if d.AutoMerge == nil || *d.AutoMerge || d.RequiredContexts == nil || len(*d.RequiredContexts) != 0 {
		t.Errorf("simulator saw auto_merge=%v required_contexts=%v", d.AutoMerge, d.RequiredContexts)
	}
	if got := states(d); !slices.Equal(got, []string{"in_progress", "success"}) {
		t.Errorf("statuses %v", got)
	}
	if s := d.Statuses[1]; s.EnvironmentURL != endpoint || s.LogURL != logURL || s.AutoInactive == nil || !*s.AutoInactive {
		t.Errorf("success status: %+v", s)
	}

	// A second run fails; then the PR closes and the environment goes.
	id2, err := r.StartDeployment(ctx, ghreport.DeploymentSpec{Environment: envName, Ref: headSHA})
	must(t, err)
	must(t, r.FinishDeployment(ctx, id2, ghreport.DeployFailure, "", logURL, "apply-migration failed"))
	// Another preview's environment must not be touched.
	other, err := r.StartDeployment(ctx, ghreport.DeploymentSpec{Environment: ghreport.EnvironmentName("app-pr-8"), Ref: headSHA})
	must(t, err)

	must(t, r.DeactivateEnvironment(ctx, envName))
	for _, d := range e.sim.Deployments(owner, repoName) {
		st := states(d)
		last := st[len(st)-1]
		switch d.ID {
		case id, id2:
			if last != "inactive" {
				t.Errorf("deployment %d: statuses %v, want inactive last", d.ID, st)
			}
		case other:
			if last == "inactive" {
				t.Errorf("other environment deactivated")
			}
		}
	}
	// Deactivating again writes nothing new.
	before := e.sim.Stats().DeploymentStatusCreates
	must(t, r.DeactivateEnvironment(ctx, envName))
	if after := e.sim.Stats().DeploymentStatusCreates; after != before {
		t.Errorf("second DeactivateEnvironment wrote %d statuses", after-before)
	}
}

func TestFinishDeploymentRejectsBadState(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	if err := e.reporter(t).FinishDeployment(context.Background(), 1, "in_progress", "", "", ""); err == nil {
		t.Error("state in_progress accepted")
	}
	if e.sim.Stats().Requests != 0 {
		t.Error("a request was made for a bad state")
	}
}

func TestNoPermission(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		perms map[string]string
		repos []string
		do    func(*ghreport.Reporter) error
	}{
		{"comment with read-only issues", map[string]string{"issues": "read", "pull_requests": "read"}, nil,
			func(r *ghreport.Reporter) error { return r.Update(ctx, view(preview.StatusSuccess)) }},
		{"comment without issues", map[string]string{"contents": "read"}, nil,
			func(r *ghreport.Reporter) error { return r.Update(ctx, view(preview.StatusSuccess)) }},
		{"deployment without deployments", map[string]string{"issues": "write"}, nil,
			func(r *ghreport.Reporter) error {
				_, err := r.StartDeployment(ctx, ghreport.DeploymentSpec{Environment: "preview/x", Ref: headSHA})
				return err
			}},
		{"deactivate with read-only deployments", map[string]string{"deployments": "read"}, nil,
			func(r *ghreport.Reporter) error { return r.DeactivateEnvironment(ctx, "preview/x") }},
		{"repository out of reach (404)", nil, []string{"acme/other"},
			func(r *ghreport.Reporter) error { return r.Update(ctx, view(preview.StatusSuccess)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, ghsim.Options{})
			repos := c.repos
			if repos == nil {
				repos = []string{owner + "/" + repoName}
			}
			e.sim.AddToken("limited", ghsim.TokenSpec{Login: botLogin, Repos: repos, Permissions: c.perms})
			// The deactivate case needs a deployment to try on.
			if _, err := e.reporter(t).StartDeployment(ctx, ghreport.DeploymentSpec{Environment: "preview/x", Ref: headSHA}); err != nil {
				t.Fatal(err)
			}
			r := ghreport.New(e.client(t, "limited"), owner, repoName, prNumber,
				ghreport.WithClock(e.clk.Now), ghreport.WithSleep(e.slp.Sleep))
			err := c.do(r)
			if !errors.Is(err, ghreport.ErrNoPermission) {
				t.Fatalf("err = %v, want ErrNoPermission", err)
			}
			if len(e.slp.Waits()) != 0 {
				t.Errorf("retried a permission error: waits %v", e.slp.Waits())
			}
		})
	}
}

func TestSkipInProgressLeavesTheDeploymentPending(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t)
	ctx := context.Background()
	id, err := r.StartDeployment(ctx, ghreport.DeploymentSpec{Environment: "preview/app-pr-7", Ref: headSHA, SkipInProgress: true})
	must(t, err)
	must(t, r.FinishDeployment(ctx, id, ghreport.DeploySuccess, "https://app-pr-7.hasura.app/v1/graphql", "", "ready"))
	ds := e.sim.Deployments(owner, repoName)
	if len(ds) != 1 || !slices.Equal(states(ds[0]), []string{"success"}) {
		t.Fatalf("deployments %+v", ds)
	}
}
