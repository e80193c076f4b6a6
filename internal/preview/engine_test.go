package preview

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestEnsureLifecycle(t *testing.T) {
	h := newHarness(t, nil)
	rec := &jobRecorder{CloudAPI: h.client}
	h.engine.Cloud = rec
	progress := &progressLog{}
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-1"), progress.record)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}

	info, ok := h.sim.Project("shop-pr-1")
	if !ok {
		t.Fatal("no project in the simulator")
	}
	if res.Endpoint != info.GraphQLURL || res.ProjectID != info.ID || res.TenantID != info.TenantID ||
		res.ConsoleURL != cloud.ConsoleURL(info.ID) || res.CreationJobID != info.LastCreationJobID ||
		res.DeploymentJobID != info.LastDeploymentJobID {
		t.Errorf("result %+v does not match the simulator's project %+v", res, info)
	}
	if info.Env["HASURA_GRAPHQL_ADMIN_SECRET"] != "s3cret" || info.Branch != "feature-x" || info.Cloud != "aws" {
		t.Errorf("project = %+v", info)
	}

	// The creation task and the seven deployment tasks, with the
	// simulator's own times.
	creation, _ := h.sim.Job(info.LastCreationJobID)
	deployment, _ := h.sim.Job(info.LastDeploymentJobID)
	want := []struct {
		job  string
		task cloudsim.TaskInfo
	}{{JobCreation, creation.Tasks[0]}}
	for _, task := range deployment.Tasks {
		want = append(want, struct {
			job  string
			task cloudsim.TaskInfo
		}{JobDeployment, task})
	}
	if len(res.Tasks) != 8 || len(want) != 8 {
		t.Fatalf("tasks = %+v", res.Tasks)
	}
	for i, w := range want {
		got := res.Tasks[i]
		start, end := w.task.Events[0].At, w.task.Events[len(w.task.Events)-1].At
		if got.Job != w.job || got.Name != w.task.Name || got.State != TaskSuccess ||
			!got.Started.Equal(start) || !got.Finished.Equal(end) || got.Duration() != end.Sub(start) {
			t.Errorf("task %d = %+v, want %s/%s from %v to %v", i, got, w.job, w.task.Name, start, end)
		}
	}
	if res.Tasks[0].Duration() != 30*time.Second || res.Tasks[1].Duration() != 20*time.Second-time.Microsecond {
		t.Errorf("durations %v, %v", res.Tasks[0].Duration(), res.Tasks[1].Duration())
	}
	var names []string
	for _, ts := range res.Tasks[1:] {
		names = append(names, ts.Name)
	}
	if !slices.Equal(names, deploymentTasks) {
		t.Errorf("deployment tasks = %v", names)
	}
	end := deployment.Tasks[6].Events[1].At
	if !res.Started.Equal(simStart) || res.Finished.Before(end) {
		t.Errorf("started %v, finished %v; the job ended at %v", res.Started, res.Finished, end)
	}

	// Progress: statuses only move forward, the last report is the
	// result, and every task state the engine read was reported.
	order := map[Status]int{StatusCreating: 0, StatusDeploying: 1, StatusSuccess: 2}
	for i := 1; i < len(progress.seen); i++ {
		if order[progress.seen[i].Status] < order[progress.seen[i-1].Status] {
			t.Errorf("status went from %s to %s", progress.seen[i-1].Status, progress.seen[i].Status)
		}
	}
	if last := progress.seen[len(progress.seen)-1]; last.Status != StatusSuccess || len(last.Tasks) != 8 {
		t.Errorf("last progress = %+v", last)
	}
	if first := progress.seen[0]; first.Status != StatusCreating || len(first.Tasks) != 0 {
		t.Errorf("first progress = %+v", first)
	}
	reported := map[string]bool{}
	for _, r := range progress.seen {
		reported[JobCreation+"|"+resultStates(r, JobCreation)] = true
		reported[JobDeployment+"|"+resultStates(r, JobDeployment)] = true
	}
	for _, j := range rec.jobs {
		phase := JobCreation
		if j.ID == res.DeploymentJobID {
			phase = JobDeployment
		}
		if s := apiStates(j); s != "" && !reported[phase+"|"+s] {
			t.Errorf("the engine read %s job states %q but never reported them", phase, s)
		}
	}
	// With these durations the engine reads every task while it runs, so
	// each was reported running, then success.
	for _, task := range res.Tasks {
		var states []string
		for _, r := range progress.seen {
			for _, ts := range r.Tasks {
				if ts.Job == task.Job && ts.Name == task.Name && (len(states) == 0 || states[len(states)-1] != ts.State) {
					states = append(states, ts.State)
				}
			}
		}
		if !slices.Equal(states, []string{TaskRunning, TaskSuccess}) {
			t.Errorf("task %s/%s reported as %v", task.Job, task.Name, states)
		}
	}
	for _, w := range h.waits {
		if w <= 0 || w > DefaultPollPolicy().Max {
			t.Errorf("engine waited %v", w)
		}
	}
}

func TestPushWhileBuildingSupersedes(t *testing.T) {
	for _, phase := range []Status{StatusCreating, StatusDeploying} {
		t.Run(string(phase), func(t *testing.T) {
			h := newHarness(t, nil)
			ctx := context.Background()
			first, err := h.engine.Start(ctx, testSpec("shop-pr-2"))
			if err != nil {
				t.Fatal(err)
			}
			// Follow the first build until it reaches the phase.
			for first.Result.Status != phase {
				wait, err := h.engine.Step(ctx, first, nil)
				if err != nil || first.Result.Status.Done() {
					t.Fatalf("first build %s, %v", first.Result.Status, err)
				}
				_ = h.sleep(ctx, wait)
			}
			second, err := h.engine.Start(ctx, testSpec("shop-pr-2"))
			if err != nil {
				t.Fatal(err)
			}

			res, err := h.engine.Follow(ctx, first, nil)
			if err != nil || res.Status != StatusSuperseded || res.Message == "" {
				t.Fatalf("first build = %s %q, %v; want superseded", res.Status, res.Message, err)
			}
			for _, ts := range res.Tasks {
				if ts.State == TaskRunning || ts.State == TaskPending || ts.State == TaskFailed {
					t.Errorf("superseded build has task %+v", ts)
				}
			}
			res, err = h.engine.Follow(ctx, second, nil)
			if err != nil || res.Status != StatusSuccess {
				t.Fatalf("second build = %s %q, %v", res.Status, res.Message, err)
			}
			info, _ := h.sim.Project("shop-pr-2")
			if info.LastCreationJobID != second.Result.CreationJobID || res.Endpoint != info.GraphQLURL {
				t.Errorf("project %+v, second build %+v", info, res)
			}
			if n := h.sim.Count(cloud.OpCreatePreviewApp); n != 2 {
				t.Errorf("%d creates, want 2", n)
			}
		})
	}
}

func TestFailedMigrationSurfacesTaskAndDetail(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.FailTask("shop-pr-3", "apply-migration", `relation "users" already exists`, "migration 1690000000_init failed")
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-3"), nil)
	if err != nil || res.Status != StatusFailed {
		t.Fatalf("Ensure = %s, %v; a failed build is a result, not an error", res.Status, err)
	}
	if !strings.Contains(res.Message, "apply-migration") || !strings.Contains(res.Message, `relation "users" already exists`) {
		t.Errorf("message = %q", res.Message)
	}
	ft := res.FailedTask()
	if ft == nil || ft.Name != "apply-migration" || ft.Job != JobDeployment ||
		ft.Error != `relation "users" already exists` || ft.GitHubDetail != "migration 1690000000_init failed" {
		t.Fatalf("failed task = %+v", ft)
	}
	var got []string
	for _, ts := range res.Tasks[1:] {
		got = append(got, ts.Name+":"+ts.State)
	}
	want := []string{"gh-validation:success", "parse-metadata:success", "parse-migration:success",
		"apply-metadata:success", "apply-migration:failed"}
	if !slices.Equal(got, want) {
		t.Errorf("deployment tasks = %v", got)
	}
}

func TestFailedCreation(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.FailCreation("shop-pr-4", "the branch feature-x does not exist")
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-4"), nil)
	if err != nil || res.Status != StatusFailed || !strings.Contains(res.Message, "the branch feature-x does not exist") {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if ft := res.FailedTask(); ft == nil || ft.Job != JobCreation || ft.Name != cloudsim.CreationTask {
		t.Errorf("failed task = %+v", ft)
	}
	if _, ok := h.sim.Project("shop-pr-4"); ok || res.Endpoint != "" {
		t.Error("a failed creation left a project or an endpoint")
	}
}

func TestDatabasesHook(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	db := &fakeDatabases{env: []EnvVar{
		{Key: "PG_DATABASE_URL", Value: "postgres://app@db:5432/shop_pr_11"},
		{Key: "HASURA_GRAPHQL_METADATA_DATABASE_URL", Value: "postgres://app@db:5432/shop_pr_11_meta"},
	}}
	spec := testSpec("shop-pr-11")
	spec.Env = []EnvVar{{Key: "PG_DATABASE_URL", Value: "postgres://stale"}, {Key: "OTHER", Value: "kept"}}
	spec.Databases = db
	res, err := h.engine.Ensure(ctx, spec, nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	info, _ := h.sim.Project("shop-pr-11")
	want := map[string]string{"PG_DATABASE_URL": "postgres://app@db:5432/shop_pr_11", "OTHER": "kept",
		"HASURA_GRAPHQL_METADATA_DATABASE_URL": "postgres://app@db:5432/shop_pr_11_meta"}
	if !maps.Equal(info.Env, want) || !slices.Equal(db.ensured, []string{"shop-pr-11"}) {
		t.Errorf("env %v, ensured %v", info.Env, db.ensured)
	}

	out, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-11", Databases: db})
	if err != nil || !out.Existed || !slices.Equal(db.dropped, []string{"shop-pr-11"}) {
		t.Errorf("Destroy = %+v, %v; dropped %v", out, err, db.dropped)
	}

	// A database that cannot be made stops the build before any Cloud call.
	creates := h.sim.Requests(cloud.OpCreatePreviewApp)
	db.err = errors.New("connection refused")
	spec.Name = "shop-pr-12"
	if _, err := h.engine.Ensure(ctx, spec, nil); !errors.Is(err, db.err) {
		t.Errorf("Ensure with a failing database = %v", err)
	}
	if n := h.sim.Requests(cloud.OpCreatePreviewApp); n != creates {
		t.Errorf("%d creates after the database failed", n-creates)
	}
}

// The webhook service stores a run between snoozes: stepping a decoded
// copy must carry on where the original stopped.
func TestRunSurvivesJSON(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	run, err := h.engine.Start(ctx, testSpec("shop-pr-13"))
	if err != nil {
		t.Fatal(err)
	}
	for run.Result.Status != StatusDeploying || len(run.Result.Tasks) < 4 {
		wait, err := h.engine.Step(ctx, run, nil)
		if err != nil || run.Result.Status.Done() {
			t.Fatalf("run ended early: %s, %v", run.Result.Status, err)
		}
		_ = h.sleep(ctx, wait)
	}
	stored, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(stored, &back); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(&back); string(again) != string(stored) {
		t.Fatalf("round trip changed the run:\n%s\n%s", stored, again)
	}
	if back.Polls != run.Polls || !back.JobSince.Equal(run.JobSince) || !back.Deadline.Equal(run.Deadline) {
		t.Errorf("decoded %+v, original %+v", back, run)
	}

	// A fresh engine, as after a restart.
	engine := &Engine{Cloud: h.client, Now: h.clock.Now, Sleep: h.sleep, Poll: steadyPoll()}
	res, err := engine.Follow(ctx, &back, nil)
	if err != nil || res.Status != StatusSuccess || len(res.Tasks) != 8 {
		t.Fatalf("Follow of the decoded run = %s %q, %v, %d tasks", res.Status, res.Message, err, len(res.Tasks))
	}
	info, _ := h.sim.Project("shop-pr-13")
	if res.Endpoint != info.GraphQLURL || res.CreationJobID != run.Result.CreationJobID || !res.Started.Equal(simStart) {
		t.Errorf("result %+v", res)
	}
	if n := h.sim.Count(cloud.OpCreatePreviewApp); n != 1 {
		t.Errorf("%d creates: the decoded run started over", n)
	}
}

func TestFollowStopsOnCancel(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	h.engine.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}
	res, err := h.engine.Ensure(ctx, testSpec("shop-pr-14"), nil)
	if !errors.Is(err, context.Canceled) || res.Status.Done() {
		t.Errorf("Ensure = %s, %v", res.Status, err)
	}
}

// The defaults (real clock, real sleep) with a simulator on the real
// clock and millisecond jobs; the log names the app but no token.
func TestEngineOnTheRealClock(t *testing.T) {
	_, url := cloudsim.NewTestServer(t, cloudsim.Options{PAT: simPAT, CreationDuration: 5 * time.Millisecond, TaskDuration: 2 * time.Millisecond})
	client, err := cloud.New(simPAT, cloud.WithEndpoint(url))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	engine := &Engine{Cloud: client, Poll: PollPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond},
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	res, err := engine.Ensure(context.Background(), testSpec("shop-pr-70"), nil)
	if err != nil || res.Status != StatusSuccess || res.Finished.Before(res.Started) {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if !strings.Contains(logs.String(), "shop-pr-70") {
		t.Errorf("log does not name the app: %s", logs.String())
	}
	for _, secret := range []string{simPAT, testSpec("").GitHubToken, "s3cret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log shows %q: %s", secret, logs.String())
		}
	}

	// Cancelled while sleeping between two reads.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err = engine.Ensure(ctx, testSpec("shop-pr-71"), func(r Result) {
		if r.Status == StatusDeploying {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res.Status != StatusDeploying {
		t.Errorf("cancelled Ensure = %s, %v", res.Status, err)
	}
}
