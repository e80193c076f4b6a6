package preview

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestNullJobTolerated(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultNullJob, Count: 4})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-5"), nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	nulls := 0
	for _, r := range h.sim.Log() {
		if r.Fault == cloudsim.FaultNullJob {
			nulls++
		}
	}
	if nulls != 4 {
		t.Errorf("%d null answers, want 4", nulls)
	}
}

func TestNullJobGraceRunsOut(t *testing.T) {
	h := newHarness(t, nil)
	h.engine.NullJobGrace = 90 * time.Second
	h.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultNullJob, Count: 1000})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-6"), nil)
	if err != nil || res.Status != StatusFailed || !strings.Contains(res.Message, "does not know") {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if d := res.Finished.Sub(res.Started); d < 90*time.Second || d > 2*time.Minute {
		t.Errorf("gave up after %v, want soon after the 90 s grace", d)
	}
}

func TestDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.SetDurations("shop-pr-7", 0, time.Hour)
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-7"), nil)
	if err != nil || res.Status != StatusTimedOut {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if !strings.Contains(res.Message, "gave up after 20m0s") || !strings.Contains(res.Message, res.DeploymentJobID) {
		t.Errorf("message = %q", res.Message)
	}
	if d := res.Finished.Sub(res.Started); d != DefaultDeadline {
		t.Errorf("ran for %v, want exactly the deadline", d)
	}
	for _, ts := range res.Tasks {
		if ts.State == TaskRunning || ts.State == TaskPending {
			t.Errorf("task left %+v", ts)
		}
	}
}

// The last wait is cut to land on the deadline; a job that ended in
// between is a success, not a timeout.
func TestJobEndingJustBeforeDeadlineSucceeds(t *testing.T) {
	h := newHarness(t, func(o *cloudsim.Options) { o.TaskDuration = 40 * time.Second })
	// The job ends at 30 s + 7 × 40 s = 310 s; reading at 292 s, the
	// policy would come back at 312 s, past this deadline.
	h.engine.Deadline = 311 * time.Second
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-8"), nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if !res.Finished.Equal(simStart.Add(311 * time.Second)) {
		t.Errorf("finished at %v: the test no longer reads the job at the deadline", res.Finished.Sub(simStart))
	}
}

func TestTransientFaultsDoNotFailTheRun(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.SetRandomFaults(0.3, 11)
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-9"), nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if n := h.sim.Count(cloud.OpCreatePreviewApp); n != 1 {
		t.Errorf("createGitHubPreviewApp executed %d times", n)
	}
	faults := 0
	for _, r := range h.sim.Log() {
		if r.Fault != "" {
			faults++
		}
	}
	if faults < 3 {
		t.Errorf("only %d faults: the test proves nothing", faults)
	}
	info, _ := h.sim.Project("shop-pr-9")
	if res.Endpoint != info.GraphQLURL {
		t.Errorf("endpoint %q, want %q", res.Endpoint, info.GraphQLURL)
	}
}

func TestPermanentErrorsStopTheRun(t *testing.T) {
	h := newHarness(t, nil)
	wrong, err := cloud.New("hcpat-wrong", cloud.WithEndpoint(h.url))
	if err != nil {
		t.Fatal(err)
	}
	h.engine.Cloud = wrong
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-10"), nil)
	if !errors.Is(err, cloud.ErrUnauthorized) || res.Status != StatusFailed {
		t.Errorf("Ensure with a wrong token = %s, %v", res.Status, err)
	}

	refused := &cloud.Error{Op: cloud.OpJob, Class: cloud.ErrUnauthorized, Message: "token revoked"}
	h.engine.Cloud = &failingJobs{CloudAPI: h.client, n: 2, err: refused}
	res, err = h.engine.Ensure(context.Background(), testSpec("shop-pr-10"), nil)
	if !errors.Is(err, cloud.ErrUnauthorized) || res.Status != StatusFailed || !strings.Contains(res.Message, "token revoked") {
		t.Errorf("Ensure with a token revoked mid-run = %s %q, %v", res.Status, res.Message, err)
	}

	if _, err := h.engine.Start(context.Background(), testSpec("Not_A_Name")); err == nil {
		t.Error("Start accepted an invalid name")
	}
}

// The client gives up after six tries; the run does not.
func TestStepOutlastsTheClientsRetries(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultServerError, Count: 7})
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpProject, Kind: cloudsim.FaultHTML, Count: 7})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-60"), nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	if r, n := h.sim.Requests(cloud.OpProject), h.sim.Count(cloud.OpProject); r != 8 || n != 1 {
		t.Errorf("projects_by_pk requests %d, executed %d; want 8 and 1", r, n)
	}
	if d := h.sim.Requests(cloud.OpJob) - h.sim.Count(cloud.OpJob); d != 7 {
		t.Errorf("%d faulted job reads, want 7", d)
	}
}

func TestCloudDownUntilTheDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.engine.Deadline = 5 * time.Minute
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultServerError, Count: 100000})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-61"), nil)
	if err != nil || res.Status != StatusTimedOut || !strings.Contains(res.Message, "gave up after 5m0s waiting for the creation job") {
		t.Fatalf("Ensure = %s %q, %v; want timed out", res.Status, res.Message, err)
	}
	if d := res.Finished.Sub(res.Started); d < 5*time.Minute || d > 6*time.Minute {
		t.Errorf("ran for %v", d)
	}
}

func TestNullJobPastTheDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.engine.Deadline, h.engine.NullJobGrace = 3*time.Minute, time.Hour
	h.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultNullJob, Count: 100000})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-62"), nil)
	if err != nil || res.Status != StatusTimedOut {
		t.Fatalf("Ensure = %s %q, %v; want timed out", res.Status, res.Message, err)
	}
}

// The creation job ends just before the deadline: the app exists and is
// reported, but its deployment has had no time.
func TestCreationEndingAtTheDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.engine.Deadline = 31 * time.Second
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-63"), nil)
	if err != nil || res.Status != StatusTimedOut || !strings.Contains(res.Message, "deployment job") {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}
	info, _ := h.sim.Project("shop-pr-63")
	if res.Endpoint != info.GraphQLURL || res.DeploymentJobID != info.LastDeploymentJobID {
		t.Errorf("result %+v, project %+v", res, info)
	}
}

func TestStepWithCancelledContext(t *testing.T) {
	h := newHarness(t, nil)
	run, err := h.engine.Start(context.Background(), testSpec("shop-pr-64"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.engine.Step(ctx, run, nil); !errors.Is(err, context.Canceled) || run.Result.Status != StatusCreating {
		t.Errorf("Step = %v, run %s", err, run.Result.Status)
	}
	// A finished run is left alone.
	run.Result.Status = StatusSuccess
	reads := h.sim.Requests(cloud.OpJob)
	if w, err := h.engine.Step(context.Background(), run, nil); w != 0 || err != nil || h.sim.Requests(cloud.OpJob) != reads {
		t.Errorf("Step of a finished run = %v, %v", w, err)
	}
}

// scripted answers the engine with fixed jobs, for answers the simulator
// never gives.
type scripted struct {
	CloudAPI
	jobs map[string]*cloud.Job
}

func (s *scripted) CreateGitHubPreviewApp(context.Context, cloud.PreviewApp) (string, error) {
	return "creation", nil
}

func (s *scripted) Job(_ context.Context, id string) (*cloud.Job, error) {
	return s.jobs[id], nil
}

func (s *scripted) Project(_ context.Context, id string) (*cloud.Project, error) {
	return &cloud.Project{ID: id, Name: "shop-pr-65", Endpoint: "https://shop-pr-65.example/v1/graphql", TenantID: "t"}, nil
}

func TestOddJobAnswers(t *testing.T) {
	done := func(status string, events ...cloud.TaskEvent) *cloud.Job {
		return &cloud.Job{ID: "creation", Status: status, Tasks: []cloud.Task{{Name: "apply-migration", Events: events}}}
	}
	cases := []struct {
		name    string
		job     *cloud.Job
		status  Status
		message string
		err     bool
	}{
		{"success without a result", done(cloud.JobSuccess, cloud.TaskEvent{EventType: cloud.EventSuccess}),
			StatusFailed, "no success event", true},
		{"success without a deployment job", done(cloud.JobSuccess, cloud.TaskEvent{EventType: cloud.EventSuccess,
			PublicEventData: []byte(`{"projectId":"p-1"}`)}), StatusSuccess, "", false},
		{"failed without a failed event", done(cloud.JobFailed), StatusFailed, "the job failed without saying why", false},
		{"failed without an error", done(cloud.JobFailed, cloud.TaskEvent{EventType: cloud.EventFailed}),
			StatusFailed, "task apply-migration failed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.engine.Cloud = &scripted{jobs: map[string]*cloud.Job{"creation": c.job}}
			res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-65"), nil)
			if res.Status != c.status || !strings.Contains(res.Message, c.message) || (err != nil) != c.err {
				t.Errorf("Ensure = %s %q, %v", res.Status, res.Message, err)
			}
			if c.status == StatusSuccess && (res.ProjectID != "p-1" || res.Endpoint == "" || res.DeploymentJobID != "") {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestResultHelpers(t *testing.T) {
	r := Result{Tasks: []TaskState{{Name: "a", State: TaskRunning, Started: simStart}}}
	if r.FailedTask() != nil || r.Tasks[0].Duration() != 0 {
		t.Errorf("running task: failed %v, duration %v", r.FailedTask(), r.Tasks[0].Duration())
	}
	for s, done := range map[Status]bool{"": false, StatusCreating: false, StatusDeploying: false, StatusSuccess: true,
		StatusFailed: true, StatusSuperseded: true, StatusTimedOut: true, StatusDeleted: true} {
		if s.Done() != done {
			t.Errorf("%q.Done() = %v", s, !done)
		}
	}
}
