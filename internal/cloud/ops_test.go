package cloud_test

import (
	"context"
	"encoding/json"
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
		job.Tasks[0].Last().EventType != cloud.EventCreated || !job.Tasks[0].Events[0].CreatedAt.Equal(t0) {
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
	// The real Cloud's endpoint is most likely the bare origin; the
	// simulator answers that by default.
	if want.Endpoint != "https://shop-pr-10.hasura.app" || want.TenantID == "" {
		t.Fatalf("simulator project = %+v", info)
	}
	if got := want.GraphQLURL(); got != "https://shop-pr-10.hasura.app/v1/graphql" {
		t.Errorf("GraphQLURL = %q", got)
	}

	byName, err := e.client.ProjectsByName(ctx, "shop-pr-10")
	if err != nil || len(byName) != 1 || byName[0] != want {
		t.Errorf("ProjectsByName = %+v, %v; want %+v", byName, err, want)
	}
	byID, err := e.client.Project(ctx, info.ID)
	if err != nil || *byID != want {
		t.Errorf("Project = %+v, %v; want %+v", byID, err, want)
	}

	none, err := e.client.ProjectsByName(ctx, "shop-pr-404")
	if err != nil || len(none) != 0 {
		t.Errorf("ProjectsByName of no project = %+v, %v", none, err)
	}
	_, err = e.client.Project(ctx, unknownID)
	checkClass(t, err, cloud.ErrNotFound)
}

// Several projects can share a name (graphql-engine#10287): the lookup by
// name returns them all, so a delete can take every one.
func TestProjectsByNameListsDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	first := e.built("shop-pr-12")
	dup := e.sim.Duplicate("shop-pr-12")
	list, err := e.client.ProjectsByName(ctx, "shop-pr-12")
	if err != nil || len(list) != 2 || list[0].ID != first.ID || list[1].ID != dup.ID || list[1].TenantID != dup.TenantID {
		t.Fatalf("ProjectsByName = %+v, %v; want %s then %s", list, err, first.ID, dup.ID)
	}
}

func TestGraphQLURLAcceptsEveryForm(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.hasura.app":             "https://a.hasura.app/v1/graphql",
		"https://a.hasura.app/":            "https://a.hasura.app/v1/graphql",
		"https://a.hasura.app/v1/graphql":  "https://a.hasura.app/v1/graphql",
		"https://a.hasura.app/v1/graphql/": "https://a.hasura.app/v1/graphql",
		" a.hasura.app ":                   "https://a.hasura.app/v1/graphql",
		"http://127.0.0.1:8080":            "http://127.0.0.1:8080/v1/graphql",
		"":                                 "",
	} {
		if got := (&cloud.Project{Endpoint: in}).GraphQLURL(); got != want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTenantEnv(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	in := preview("shop-pr-13")
	in.Env = []cloud.EnvVar{{Key: "A", Value: "1"}}
	if _, err := e.client.CreateGitHubPreviewApp(ctx, in); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(cloudsim.DefaultCreationDuration)
	info, ok := e.sim.Project("shop-pr-13")
	if !ok {
		t.Fatal("no project")
	}
	first, err := e.client.TenantEnv(ctx, info.TenantID)
	if err != nil || first.Hash == "" || !maps.Equal(first.Vars, map[string]string{"A": "1"}) {
		t.Fatalf("TenantEnv = %+v, %v", first, err)
	}

	// updateTenantEnv merges: A stays.
	second, err := e.client.UpdateTenantEnv(ctx, info.TenantID, first.Hash, []cloud.EnvVar{{Key: "B", Value: `{"k":"a;b"}`}})
	want := map[string]string{"A": "1", "B": `{"k":"a;b"}`}
	if err != nil || second.Hash == first.Hash || !maps.Equal(second.Vars, want) {
		t.Fatalf("UpdateTenantEnv = %+v, %v", second, err)
	}
	if p, _ := e.sim.Project("shop-pr-13"); !maps.Equal(p.Env, want) || p.EnvUpdates != 1 {
		t.Errorf("simulator env = %v after %d updates", p.Env, p.EnvUpdates)
	}

	// The same values again: the Cloud refuses a change that changes
	// nothing, which is success; the client reads the environment back.
	reads := e.sim.Count(cloud.OpGetTenantEnv)
	same, err := e.client.UpdateTenantEnv(ctx, info.TenantID, second.Hash, []cloud.EnvVar{{Key: "A", Value: "1"}})
	if err != nil || same.Hash != second.Hash || !maps.Equal(same.Vars, want) {
		t.Errorf("unchanged UpdateTenantEnv = %+v, %v", same, err)
	}
	if n := e.sim.Count(cloud.OpGetTenantEnv) - reads; n != 1 {
		t.Errorf("getTenantEnv executed %d times after nothing changed, want 1", n)
	}

	_, err = e.client.UpdateTenantEnv(ctx, info.TenantID, first.Hash, []cloud.EnvVar{{Key: "C", Value: "3"}})
	checkClass(t, err, cloud.ErrHashConflict)
	if p, _ := e.sim.Project("shop-pr-13"); !maps.Equal(p.Env, want) {
		t.Errorf("a conflicting update changed the env: %v", p.Env)
	}

	third, err := e.client.DeleteTenantEnv(ctx, info.TenantID, second.Hash, []string{"A"})
	if err != nil || third.Hash == second.Hash || !maps.Equal(third.Vars, map[string]string{"B": `{"k":"a;b"}`}) {
		t.Errorf("DeleteTenantEnv = %+v, %v", third, err)
	}
	_, err = e.client.DeleteTenantEnv(ctx, info.TenantID, second.Hash, []string{"B"})
	checkClass(t, err, cloud.ErrHashConflict)

	_, err = e.client.UpdateTenantEnv(ctx, unknownID, first.Hash, nil)
	checkClass(t, err, cloud.ErrNotFound)
	_, err = e.client.TenantEnv(ctx, unknownID)
	checkClass(t, err, cloud.ErrNotFound)
}

// The env answer's shape is the one place the public sources are thin:
// Hasura's console reads envVars.environment, so that is the first form,
// but a flat object and a JSON string of either are read too.
func TestTenantEnvShapes(t *testing.T) {
	for name, body := range map[string]string{
		"nested":        `{"hash":"h","envVars":{"environment":{"A":"1","N":2}}}`,
		"flat":          `{"hash":"h","envVars":{"A":"1","N":2}}`,
		"string nested": `{"hash":"h","envVars":"{\"environment\":{\"A\":\"1\",\"N\":2}}"}`,
	} {
		var te cloud.TenantEnv
		if err := json.Unmarshal([]byte(body), &te); err != nil || te.Hash != "h" ||
			!maps.Equal(te.Vars, map[string]string{"A": "1", "N": "2"}) {
			t.Errorf("%s: %+v, %v", name, te, err)
		}
	}
}
