package cloud_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestCreatePreviewAppAndFollowItsJobs(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	jobID, err := e.client.CreateGitHubPreviewApp(ctx, preview("shop-pr-7"))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.sim.Count(cloud.OpCreatePreviewApp); n != 1 {
		t.Errorf("createGitHubPreviewApp executed %d times", n)
	}

	job, err := e.client.Job(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != jobID || job.Done() || len(job.Tasks) != 1 || job.Tasks[0].Name != cloudsim.CreationTask ||
		job.Tasks[0].Last().EventType != cloud.EventCreated || !job.CreatedAt.Equal(t0) {
		t.Errorf("fresh creation job = %+v", job)
	}
	if _, err := job.CreationResult(); err == nil {
		t.Error("a running creation job has a creation result")
	}

	e.clock.Advance(cloudsim.DefaultCreationDuration)
	job, err = e.client.Job(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	info, ok := e.sim.Project("shop-pr-7")
	if !ok {
		t.Fatal("no project after the creation job")
	}
	cr, err := job.CreationResult()
	if err != nil || job.Status != cloud.JobSuccess || !job.Done() {
		t.Fatalf("finished creation job = %+v, %v", job, err)
	}
	if cr.ProjectID != info.ID || cr.GitHubDeploymentJobID != info.LastDeploymentJobID {
		t.Errorf("creation result %+v, project %+v", cr, info)
	}
	// Cloud left empty is sent as "aws", the value the official action
	// hard-codes.
	want := [7]string{"acme", "shop", "feature-x", "hasura", "cloud_free", "us-east-2", "aws"}
	got := [7]string{info.Owner, info.Repo, info.Branch, info.Directory, info.Plan, info.Region, info.Cloud}
	if got != want || !maps.Equal(info.Env, map[string]string{"HASURA_GRAPHQL_ADMIN_SECRET": "s3cret"}) {
		t.Errorf("project = %+v", info)
	}

	e.clock.Advance(7 * cloudsim.DefaultTaskDuration)
	dep, err := e.client.Job(ctx, cr.GitHubDeploymentJobID)
	if err != nil {
		t.Fatal(err)
	}
	simJob, _ := e.sim.Job(cr.GitHubDeploymentJobID)
	var names []string
	for i, task := range dep.Tasks {
		names = append(names, task.Name)
		if len(task.Events) != 2 || task.Events[0].EventType != cloud.EventCreated || task.Last().EventType != cloud.EventSuccess {
			t.Errorf("task %s events = %+v", task.Name, task.Events)
			continue
		}
		if se := simJob.Tasks[i].Events; !task.Events[0].CreatedAt.Equal(se[0].At) || !task.Events[1].CreatedAt.Equal(se[1].At) {
			t.Errorf("task %s event times %v, %v; simulator %v, %v", task.Name,
				task.Events[0].CreatedAt, task.Events[1].CreatedAt, se[0].At, se[1].At)
		}
		if task.Cloud != "aws" || task.Region != "us-east-2" {
			t.Errorf("task %s in %s/%s", task.Name, task.Cloud, task.Region)
		}
	}
	wantNames := []string{"gh-validation", "parse-metadata", "parse-migration", "apply-metadata",
		"apply-migration", "reload-metadata", "check-healthz"}
	if dep.Status != cloud.JobSuccess || !slices.Equal(names, wantNames) {
		t.Errorf("deployment %s with tasks %v", dep.Status, names)
	}
	if ft, fe := dep.Failure(); ft != nil || fe != nil {
		t.Errorf("a successful job has a failure: %+v %+v", ft, fe)
	}
}

func TestJobFailures(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.sim.FailTask("shop-pr-8", "apply-migration", `relation "users" already exists`, "migration 1690000000_init failed")
	info := e.built("shop-pr-8")
	e.clock.Advance(time.Minute)
	dep, err := e.client.Job(ctx, info.LastDeploymentJobID)
	if err != nil {
		t.Fatal(err)
	}
	task, ev := dep.Failure()
	if dep.Status != cloud.JobFailed || task == nil || task.Name != "apply-migration" ||
		ev.Error != `relation "users" already exists` || ev.GitHubDetail != "migration 1690000000_init failed" {
		t.Errorf("failed deployment %s: %+v %+v", dep.Status, task, ev)
	}
	if len(dep.Tasks) != 5 {
		t.Errorf("%d tasks after a failure at the fifth", len(dep.Tasks))
	}

	e.sim.FailCreation("shop-pr-9", "the repository could not be read")
	jobID, err := e.client.CreateGitHubPreviewApp(ctx, preview("shop-pr-9"))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(cloudsim.DefaultCreationDuration)
	job, err := e.client.Job(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	task, ev = job.Failure()
	if job.Status != cloud.JobFailed || task == nil || ev.Error != "the repository could not be read" {
		t.Errorf("failed creation %s: %+v %+v", job.Status, task, ev)
	}
	if _, err := job.CreationResult(); err == nil {
		t.Error("a failed creation has a creation result")
	}
}

func TestJobNotFoundAndBadID(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.client.Job(context.Background(), unknownID)
	if ce := checkClass(t, err, cloud.ErrNotFound); ce.Op != cloud.OpJob {
		t.Errorf("op = %q", ce.Op)
	}
	_, err = e.client.Job(context.Background(), "not-a-uuid")
	if ce := checkClass(t, err, cloud.ErrInvalidInput); ce.Code != "data-exception" {
		t.Errorf("code = %q", ce.Code)
	}
	if n := e.sim.Requests(cloud.OpJob); n != 2 {
		t.Errorf("%d requests: permanent errors must not be retried", n)
	}
}

func TestProjectLookups(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	info := e.built("shop-pr-10")
	want := cloud.Project{ID: info.ID, Name: info.Name, Endpoint: info.Endpoint, TenantID: info.TenantID}
	if want.Endpoint != "https://shop-pr-10.hasura.app/v1/graphql" || want.TenantID == "" {
		t.Fatalf("simulator project = %+v", info)
	}

	byName, err := e.client.ProjectByName(ctx, "shop-pr-10")
	if err != nil || *byName != want {
		t.Errorf("ProjectByName = %+v, %v; want %+v", byName, err, want)
	}
	byID, err := e.client.Project(ctx, info.ID)
	if err != nil || *byID != want {
		t.Errorf("Project = %+v, %v; want %+v", byID, err, want)
	}
	tenant, err := e.client.Tenant(ctx, info.TenantID)
	if err != nil || tenant.ID != info.TenantID || tenant.Slug != "shop-pr-10" || tenant.Project == nil ||
		tenant.Project.ID != info.ID || tenant.Project.Endpoint != info.Endpoint {
		t.Errorf("Tenant = %+v, %v", tenant, err)
	}

	_, err = e.client.ProjectByName(ctx, "shop-pr-404")
	checkClass(t, err, cloud.ErrNotFound)
	_, err = e.client.Project(ctx, unknownID)
	checkClass(t, err, cloud.ErrNotFound)
	_, err = e.client.Tenant(ctx, unknownID)
	checkClass(t, err, cloud.ErrNotFound)
}

func TestCreateAndDeleteTenant(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tenant, err := e.client.CreateTenant(ctx, "gcp", "asia-south1", []cloud.EnvVar{{Key: "A", Value: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	projects := e.sim.Projects()
	if len(projects) != 1 || projects[0].TenantID != tenant.ID || projects[0].Name != tenant.Name ||
		projects[0].Cloud != "gcp" || projects[0].Region != "asia-south1" || projects[0].Env["A"] != "1" {
		t.Fatalf("tenant %+v, simulator %+v", tenant, projects)
	}
	if err := e.client.DeleteTenant(ctx, tenant.ID); err != nil {
		t.Fatal(err)
	}
	if left := e.sim.Projects(); len(left) != 0 {
		t.Errorf("after delete: %+v", left)
	}
	err = e.client.DeleteTenant(ctx, tenant.ID)
	checkClass(t, err, cloud.ErrNotFound)

	_, err = e.client.CreateTenant(ctx, "azure", "westeurope", nil)
	checkClass(t, err, cloud.ErrInvalidInput)
}

func TestTenantEnv(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tenant, err := e.client.CreateTenant(ctx, "aws", "us-east-2", []cloud.EnvVar{{Key: "A", Value: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.client.TenantEnv(ctx, tenant.ID)
	if err != nil || first.Hash == "" || !maps.Equal(first.Vars, map[string]string{"A": "1"}) {
		t.Fatalf("TenantEnv = %+v, %v", first, err)
	}

	second, err := e.client.UpdateTenantEnv(ctx, tenant.ID, first.Hash, []cloud.EnvVar{{Key: "B", Value: `{"k":"a;b"}`}})
	want := map[string]string{"A": "1", "B": `{"k":"a;b"}`}
	if err != nil || second.Hash == first.Hash || !maps.Equal(second.Vars, want) {
		t.Fatalf("UpdateTenantEnv = %+v, %v", second, err)
	}
	if p := e.sim.Projects()[0]; !maps.Equal(p.Env, want) {
		t.Errorf("simulator env = %v", p.Env)
	}

	// The same values again: the Cloud says "nothing changed in config",
	// which is success; the client reads the environment back.
	reads := e.sim.Count(cloud.OpGetTenantEnv)
	same, err := e.client.UpdateTenantEnv(ctx, tenant.ID, second.Hash, []cloud.EnvVar{{Key: "A", Value: "1"}})
	if err != nil || same.Hash != second.Hash || !maps.Equal(same.Vars, want) {
		t.Errorf("unchanged UpdateTenantEnv = %+v, %v", same, err)
	}
	if n := e.sim.Count(cloud.OpGetTenantEnv) - reads; n != 1 {
		t.Errorf("getTenantEnv executed %d times after nothing changed, want 1", n)
	}

	_, err = e.client.UpdateTenantEnv(ctx, tenant.ID, first.Hash, []cloud.EnvVar{{Key: "C", Value: "3"}})
	checkClass(t, err, cloud.ErrHashConflict)
	if p := e.sim.Projects()[0]; !maps.Equal(p.Env, want) {
		t.Errorf("a conflicting update changed the env: %v", p.Env)
	}

	_, err = e.client.UpdateTenantEnv(ctx, unknownID, first.Hash, nil)
	checkClass(t, err, cloud.ErrNotFound)
	_, err = e.client.TenantEnv(ctx, unknownID)
	checkClass(t, err, cloud.ErrNotFound)
}
