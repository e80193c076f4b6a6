package cloudsim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests send documents in the forms the official action uses
// (testdata/official, written for this repository) and read the answers
// the way that client does, so a change that would break it breaks them.

func officialCreate(e *simEnv, name string) string {
	e.t.Helper()
	data := e.gql(official(e.t, "start-preview"), map[string]any{
		"projectDir":  "hasura",
		"token":       "ghp_officialtoken",
		"owner":       "acme",
		"repository":  "shop",
		"gitBranch":   "feature-x",
		"previewName": name,
		"provider":    "aws",
		"location":    "us-east-2",
		"tier":        "cloud_free",
		"variables": []map[string]string{
			{"key": "HASURA_GRAPHQL_ADMIN_SECRET", "value": "s3cret"},
			{"key": "PG_DATABASE_URL", "value": "postgres://u:p@db/app"},
		},
	})
	return str(e.t, data, "createGitHubPreviewApp", "githubPreviewAppJobID")
}

// pollCreation is pollPreviewAppCreationJob: status success → the success
// event of tasks[0]; failed → its failed event's error; skipped → error.
func pollCreation(e *simEnv, jobID string, step time.Duration) (projectID, deployJobID, failure string, statuses []string) {
	e.t.Helper()
	for range 1000 {
		data := e.gql(official(e.t, "creation-job"), map[string]any{"creation": jobID})
		job := path(e.t, data, "jobs_by_pk")
		if job == nil {
			e.t.Fatal("creation job not found")
		}
		status := str(e.t, job, "status")
		statuses = append(statuses, status)
		events := list(e.t, job, "tasks", 0, "task_events")
		switch status {
		case "success":
			// created_at desc: the final event comes first.
			if first := str(e.t, events[0], "event_type"); first != "success" {
				e.t.Errorf("events of a finished creation start with %q, want success", first)
			}
			for _, ev := range events {
				if str(e.t, ev, "event_type") == "success" {
					return str(e.t, ev, "public_event_data", "projectId"), str(e.t, ev, "public_event_data", "githubDeploymentJobID"), "", statuses
				}
			}
			e.t.Fatal("finished creation has no success event")
		case "failed":
			for _, ev := range events {
				if str(e.t, ev, "event_type") == "failed" {
					return "", "", str(e.t, ev, "error"), statuses
				}
			}
			e.t.Fatal("failed creation has no failed event")
		case "skipped":
			return "", "", "skipped", statuses
		}
		e.clock.Advance(step)
	}
	e.t.Fatal("creation never finished")
	return
}

// pollDeployment is getRealtimeLogs: it logs "<task>: <event>" for the last
// task (by updated_at asc) and its last event (updated_at desc, limit 1).
func pollDeployment(e *simEnv, jobID string, step time.Duration) (status string, logs []string) {
	e.t.Helper()
	for range 1000 {
		data := e.gql(official(e.t, "deployment-progress"), map[string]any{"deployment": jobID})
		job := path(e.t, data, "jobs_by_pk")
		if job == nil {
			e.t.Fatal("deployment job not found")
		}
		if tasks := list(e.t, job, "tasks"); len(tasks) > 0 {
			latest := tasks[len(tasks)-1]
			if events := list(e.t, latest, "task_events"); len(events) > 0 {
				ev := events[len(events)-1]
				line := str(e.t, latest, "name") + ": " + str(e.t, ev, "event_type")
				if d, ok := path(e.t, ev, "github_detail").(string); ok {
					line += " / " + d
				}
				if er, ok := path(e.t, ev, "error").(string); ok {
					line += " / " + er
				}
				if len(logs) == 0 || logs[len(logs)-1] != line {
					logs = append(logs, line)
				}
			}
		}
		status = str(e.t, job, "status")
		if status == "success" || status == "failed" {
			return status, logs
		}
		e.clock.Advance(step)
	}
	e.t.Fatal("deployment never finished")
	return
}

func TestOfficialActionCreateThenDelete(t *testing.T) {
	e := newSim(t, nil)
	jobID := officialCreate(e, "shop-pr-12")

	projectID, deployID, failure, statuses := pollCreation(e, jobID, 500*time.Millisecond)
	if failure != "" {
		t.Fatalf("creation failed: %s", failure)
	}
	if want := []string{"created", "running", "running", "running", "success"}; !slices.Equal(statuses, want) {
		t.Errorf("creation statuses = %v, want %v", statuses, want)
	}

	data := e.gql(official(t, "project-by-id"), map[string]any{"project": projectID})
	if got := str(t, data, "projects_by_pk", "endpoint"); got != "https://shop-pr-12.hasura.app" {
		t.Errorf("endpoint = %q", got)
	}
	info, ok := e.sim.Project("shop-pr-12")
	if !ok || info.ID != projectID || str(t, data, "projects_by_pk", "tenant", "id") != info.TenantID {
		t.Fatalf("project info %+v does not match %v", info, data)
	}
	if info.Env["PG_DATABASE_URL"] != "postgres://u:p@db/app" || info.Cloud != "aws" || info.Directory != "hasura" {
		t.Errorf("project info = %+v", info)
	}

	status, logs := pollDeployment(e, deployID, 250*time.Millisecond)
	if status != "success" {
		t.Fatalf("deployment status %s, logs %v", status, logs)
	}
	// A task's success and the next task's start are a microsecond apart,
	// so a poll sees the next task started, never the success in between,
	// except for the last task.
	var want []string
	for _, task := range deploymentTasks {
		want = append(want, task+": created")
	}
	want = append(want, "check-healthz: success")
	if !slices.Equal(logs, want) {
		t.Errorf("logs =\n%s\nwant\n%s", strings.Join(logs, "\n"), strings.Join(want, "\n"))
	}

	data = e.gql(official(t, "tenant-of-project"), map[string]any{"appName": "shop-pr-12"})
	tenantID := str(t, data, "projects", 0, "tenant", "id")
	data = e.gql(official(t, "delete-tenant"), map[string]any{"tenant": tenantID})
	if got := str(t, data, "deleteTenant", "status"); got != "deleted" {
		t.Errorf("deleteTenant status = %q", got)
	}
	data = e.gql(official(t, "project-by-name"), map[string]any{"wanted": "shop-pr-12"})
	if n := len(list(t, data, "projects")); n != 0 {
		t.Errorf("after delete, projects = %v", data)
	}
	// The action's delete of an app that is gone fails: it finds no project.
	data = e.gql(official(t, "tenant-of-project"), map[string]any{"appName": "shop-pr-12"})
	if n := len(list(t, data, "projects")); n != 0 {
		t.Errorf("tenant lookup after delete = %v", data)
	}
}

func TestOfficialActionFailedTask(t *testing.T) {
	e := newSim(t, nil)
	e.sim.FailTask("shop-pr-13", "apply-migration", "relation \"users\" already exists", "migration 1690000000_init failed")
	_, deployID, _, _ := pollCreation(e, officialCreate(e, "shop-pr-13"), time.Second)
	status, logs := pollDeployment(e, deployID, 250*time.Millisecond)
	if status != "failed" {
		t.Fatalf("status = %s", status)
	}
	last := logs[len(logs)-1]
	if want := "apply-migration: failed / migration 1690000000_init failed / relation \"users\" already exists"; last != want {
		t.Errorf("last log = %q, want %q", last, want)
	}
	info, _ := e.sim.Job(deployID)
	if n := len(info.Tasks); n != 5 {
		t.Errorf("tasks after failure = %d, want 5 (later tasks never start)", n)
	}
}

func TestOfficialActionSeesSkippedCreation(t *testing.T) {
	e := newSim(t, nil)
	first := officialCreate(e, "shop-pr-14")
	e.clock.Advance(time.Second)
	second := officialCreate(e, "shop-pr-14")
	if _, _, failure, _ := pollCreation(e, first, time.Second); failure != "skipped" {
		t.Errorf("older creation = %q, want skipped", failure)
	}
	if _, _, failure, _ := pollCreation(e, second, time.Second); failure != "" {
		t.Errorf("newer creation failed: %s", failure)
	}
}

func TestOfficialCreationJobDefaultVariable(t *testing.T) {
	e := newSim(t, nil)
	// Without variables the declared default applies, and it is no uuid.
	got := e.gqlFail(official(t, "creation-job"), nil)
	if got.Extensions.Code != "data-exception" ||
		got.Message != `invalid input syntax for type uuid: "no-job-given"` {
		t.Errorf("error = %+v", got)
	}
}

func TestOfficialTenantEnvVariableNameMismatch(t *testing.T) {
	e := newSim(t, nil)
	e.create("shop-pr-15", nil)
	e.clock.Advance(2 * time.Second)
	info, _ := e.sim.Project("shop-pr-15")
	got := e.gqlFail(official(t, "tenant-env"), map[string]any{"tenantId": info.TenantID})
	if got.Extensions.Code != "validation-failed" || got.Message != `expecting a value for non-nullable variable: "tenantUUID"` {
		t.Errorf("error = %+v", got)
	}
	data := e.gql(official(t, "tenant-env"), map[string]any{"tenantUUID": info.TenantID})
	if str(t, data, "getTenantEnv", "hash") == "" {
		t.Errorf("no hash in %v", data)
	}
}

func TestOfficialMissingTokenDetected(t *testing.T) {
	e := newSim(t, nil)
	status, _, body := e.post("", gqlBody{Query: official(t, "project-by-name"), Variables: map[string]any{"wanted": "x"}})
	got := decodeErr(t, status, body)
	// doesProjectExist maps this message to "invalid authorization".
	if !strings.Contains(got.Message, "projects") || !strings.Contains(got.Message, "query_root") {
		t.Errorf("error = %+v", got)
	}
}
