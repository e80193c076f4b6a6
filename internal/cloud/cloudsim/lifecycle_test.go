package cloudsim

import (
	"strings"
	"testing"
	"time"
)

func jobStatus(e *simEnv, id string) string {
	e.t.Helper()
	j := e.job(id)
	if j == nil {
		return "<null>"
	}
	return str(e.t, j, "status")
}

const byName = `query q($n: String!) { projects(where: {name: {_eq: $n}}) { id name endpoint tenant { id } } }`

func TestLifecycleOnManualClock(t *testing.T) {
	e := newSim(t, nil)
	creation := e.create("life-a", map[string]string{"HASURA_GRAPHQL_JWT_SECRET": `{"type":"HS256","key":"a;b=c"}`})

	if got := jobStatus(e, creation); got != "created" {
		t.Errorf("at once: %s", got)
	}
	if n := len(list(t, e.gql(byName, map[string]any{"n": "life-a"}), "projects")); n != 0 {
		t.Errorf("project visible before creation finished")
	}
	e.clock.Advance(1999 * time.Millisecond)
	j := e.job(creation)
	if str(t, j, "status") != "running" || len(list(t, j, "tasks", 0, "task_events")) != 1 {
		t.Errorf("just before the end: %v", j)
	}
	e.clock.Advance(time.Millisecond)
	j = e.job(creation)
	ev := path(t, j, "tasks", 0, "task_events", 1)
	if str(t, j, "status") != "success" || str(t, ev, "event_type") != "success" || path(t, ev, "error") != nil {
		t.Fatalf("at the end: %v", j)
	}
	deployID := str(t, ev, "public_event_data", "githubDeploymentJobID")
	projectID := str(t, ev, "public_event_data", "projectId")

	data := e.gql(byName, map[string]any{"n": "life-a"})
	if str(t, data, "projects", 0, "id") != projectID {
		t.Errorf("projects = %v, want id %s", data, projectID)
	}
	info, _ := e.sim.Project("life-a")
	if info.Env["HASURA_GRAPHQL_JWT_SECRET"] != `{"type":"HS256","key":"a;b=c"}` || info.Builds != 1 ||
		info.Owner != "acme" || info.Repo != "shop" || info.Branch != "feature-x" || info.Region != "us-east-2" || info.Plan != "cloud_free" {
		t.Errorf("project = %+v", info)
	}

	for i, task := range deploymentTasks {
		d := e.job(deployID)
		tasks := list(t, d, "tasks")
		if len(tasks) != i+1 || str(t, tasks[i], "name") != task || str(t, d, "status") == "success" {
			t.Fatalf("step %d: %v", i, d)
		}
		e.clock.Advance(500 * time.Millisecond)
	}
	if got := jobStatus(e, deployID); got != "success" {
		t.Errorf("deployment = %s", got)
	}
	ji, _ := e.sim.Job(deployID)
	if ji.Kind != KindDeployment || ji.App != "life-a" || len(ji.Tasks) != 7 || ji.Tasks[6].Events[1].Type != "success" {
		t.Errorf("job info = %+v", ji)
	}
}

func TestDeploymentJobHiddenUntilCreationEnds(t *testing.T) {
	e := newSim(t, nil)
	e.create("hidden-a", nil)
	e.clock.Advance(2 * time.Second)
	info, _ := e.sim.Project("hidden-a")
	if got := jobStatus(e, info.LastDeploymentJobID); got != "created" {
		t.Errorf("deployment at its first instant = %s", got)
	}
	if got := jobStatus(e, "00000000-0000-4000-8000-000000000000"); got != "<null>" {
		t.Errorf("unknown job = %s", got)
	}
}

func TestRebuildSkipsOlderJobs(t *testing.T) {
	e := newSim(t, nil)
	// A rebuild during creation skips the creation job.
	first := e.create("rebuild-a", map[string]string{"A": "1"})
	e.clock.Advance(time.Second)
	second := e.create("rebuild-a", map[string]string{"B": "2"})
	if got := jobStatus(e, first); got != "skipped" {
		t.Errorf("first creation = %s", got)
	}
	e.clock.Advance(2 * time.Second)
	if got := jobStatus(e, first); got != "skipped" {
		t.Errorf("first creation later = %s", got)
	}
	info, _ := e.sim.Project("rebuild-a")
	if info.Builds != 1 || info.LastCreationJobID != second || info.Env["B"] != "2" || info.Env["A"] != "" {
		t.Fatalf("after second creation: %+v", info)
	}
	firstDeploy := info.LastDeploymentJobID

	// A rebuild during deployment skips the deployment job, keeps the ids
	// and replaces the env.
	e.clock.Advance(time.Second)
	third := e.create("rebuild-a", map[string]string{"C": "3"})
	if got := jobStatus(e, firstDeploy); got != "skipped" {
		t.Errorf("older deployment = %s", got)
	}
	if got := jobStatus(e, second); got != "success" {
		t.Errorf("finished creation must stay success, got %s", got)
	}
	e.clock.Advance(2*time.Second + 7*500*time.Millisecond)
	rebuilt, _ := e.sim.Project("rebuild-a")
	if rebuilt.ID != info.ID || rebuilt.TenantID != info.TenantID || rebuilt.Builds != 2 ||
		rebuilt.LastCreationJobID != third || len(rebuilt.Env) != 1 || rebuilt.Env["C"] != "3" {
		t.Errorf("rebuilt = %+v, was %+v", rebuilt, info)
	}
	if got := jobStatus(e, rebuilt.LastDeploymentJobID); got != "success" {
		t.Errorf("new deployment = %s", got)
	}
	// The skipped job stops where it was: three tasks started, no more.
	old, _ := e.sim.Job(firstDeploy)
	if len(old.Tasks) != 3 || old.Status != "skipped" {
		t.Errorf("skipped deployment = %+v", old)
	}
	if jobs := e.sim.Jobs("rebuild-a"); len(jobs) != 5 {
		t.Errorf("jobs = %d, want 5", len(jobs))
	}
}

func TestDeleteTenantSkipsAndForgets(t *testing.T) {
	e := newSim(t, nil)
	e.create("del-a", nil)
	e.clock.Advance(2500 * time.Millisecond)
	info, _ := e.sim.Project("del-a")
	del := `mutation d($t: uuid!) { deleteTenant(tenantId: $t) { status } }`
	if got := str(t, e.gql(del, map[string]any{"t": info.TenantID}), "deleteTenant", "status"); got != "deleted" {
		t.Errorf("status = %s", got)
	}
	if got := jobStatus(e, info.LastDeploymentJobID); got != "skipped" {
		t.Errorf("deployment after delete = %s", got)
	}
	if n := len(list(t, e.gql(byName, map[string]any{"n": "del-a"}), "projects")); n != 0 {
		t.Errorf("project still listed")
	}
	got := e.gqlFail(del, map[string]any{"t": info.TenantID})
	if got.Extensions.Code != "not-found" || got.Message != "tenant not found" {
		t.Errorf("second delete = %+v", got)
	}
	data := e.gql(`query q($p: uuid!, $t: uuid!) { projects_by_pk(id: $p) { id } tenant_by_pk(id: $t) { id } }`,
		map[string]any{"p": info.ID, "t": info.TenantID})
	if path(t, data, "projects_by_pk") != nil || path(t, data, "tenant_by_pk") != nil {
		t.Errorf("lookups after delete = %v", data)
	}
}

func TestDeleteByHandIsDrift(t *testing.T) {
	e := newSim(t, nil)
	readyApp(e, "drift-a")
	if !e.sim.DeleteByHand("drift-a") || e.sim.DeleteByHand("drift-a") {
		t.Fatal("DeleteByHand should succeed once")
	}
	if n := len(list(t, e.gql(byName, map[string]any{"n": "drift-a"}), "projects")); n != 0 {
		t.Errorf("project still listed")
	}
	if e.sim.Count("deleteTenant") != 0 {
		t.Errorf("drift must not count as an API call")
	}
}

func TestFailCreation(t *testing.T) {
	e := newSim(t, nil)
	e.sim.FailCreation("fail-a", "GitHub repository acme/shop not found")
	id := e.create("fail-a", nil)
	e.clock.Advance(2 * time.Second)
	j := e.job(id)
	ev := path(t, j, "tasks", 0, "task_events", 1)
	if str(t, j, "status") != "failed" || str(t, ev, "event_type") != "failed" ||
		str(t, ev, "error") != "GitHub repository acme/shop not found" || path(t, ev, "public_event_data") != nil {
		t.Errorf("job = %v", j)
	}
	if _, ok := e.sim.Project("fail-a"); ok {
		t.Error("a failed creation must not create the project")
	}
	// The failure was one-shot.
	id = e.create("fail-a", nil)
	e.clock.Advance(2 * time.Second)
	if got := jobStatus(e, id); got != "success" {
		t.Errorf("second creation = %s", got)
	}
}

func TestStandingTaskFailureAndDurations(t *testing.T) {
	e := newSim(t, func(o *Options) {
		o.FailTasks = []TaskFailure{{Task: "check-healthz", Error: "healthz returned 500"}}
	})
	e.sim.SetDurations("slow-a", 10*time.Minute, time.Minute)
	id := e.create("slow-a", nil)
	e.clock.Advance(9 * time.Minute)
	if got := jobStatus(e, id); got != "running" {
		t.Errorf("after 9 of 10 minutes = %s", got)
	}
	e.clock.Advance(time.Minute + 7*time.Minute)
	info, _ := e.sim.Project("slow-a")
	job, _ := e.sim.Job(info.LastDeploymentJobID)
	last := job.Tasks[len(job.Tasks)-1]
	if job.Status != "failed" || last.Name != "check-healthz" || last.Events[1].Error != "healthz returned 500" {
		t.Errorf("job = %+v", job)
	}
}

func TestQuota(t *testing.T) {
	e := newSim(t, func(o *Options) { o.MonthlyQuota = 2 })
	e.create("quota-a", nil)
	e.create("quota-b", nil)
	got := e.gqlFail(createMutation, map[string]any{"name": "quota-c", "token": "ghp_x"})
	if got.Extensions.Code != "unexpected" || !strings.Contains(got.Message, "quota exceeded") ||
		!strings.Contains(got.Message, "2 of 2") {
		t.Errorf("over quota: %+v", got)
	}
	// Rejected calls do not use quota; a new month resets it.
	if e.sim.QuotaUsed() != 2 {
		t.Errorf("QuotaUsed = %d", e.sim.QuotaUsed())
	}
	e.clock.Advance(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	e.create("quota-c", nil)
}

func TestCreateValidation(t *testing.T) {
	e := newSim(t, nil)
	mutation := `mutation m($token: String!, $owner: String!, $name: String!, $cloud: String!) {
  createGitHubPreviewApp(payload: {githubPersonalAccessToken: $token,
    githubRepoDetails: {owner: $owner, repo: "shop", branch: "main", directory: ""},
    projectOptions: {name: $name, cloud: $cloud, region: "us-east-2", plan: "cloud_free"}}) { githubPreviewAppJobID }
}`
	ok := map[string]any{"token": "ghp_x", "owner": "acme", "name": "ok", "cloud": "aws"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, c := range []struct {
		vars   map[string]any
		substr string
	}{
		{with("name", "Shop_PR"), "invalid project name"},
		{with("name", "-shop"), "must not start or end with a hyphen"},
		{with("name", "shop-"), "invalid project name"},
		{with("name", ""), "invalid project name"},
		{with("name", strings.Repeat("a", 64)), "1 to 63"},
		{with("cloud", "azure"), `invalid cloud "azure"`},
		{with("token", ""), "githubPersonalAccessToken must not be empty"},
		{with("owner", ""), "owner must not be empty"},
	} {
		if got := e.gqlFail(mutation, c.vars); got.Extensions.Code != "bad-request" || !strings.Contains(got.Message, c.substr) {
			t.Errorf("%v: %+v", c.vars, got)
		}
	}
	e.gql(mutation, with("name", strings.Repeat("a", 63)))
	e.gql(mutation, with("cloud", "gcp"))
	if got := e.sim.Count("createGitHubPreviewApp"); got != 10 {
		t.Errorf("Count = %d, want 10 (rejected calls executed too)", got)
	}
	if got := e.sim.QuotaUsed(); got != 2 {
		t.Errorf("QuotaUsed = %d, want 2 (only accepted calls)", got)
	}
}
