package preview

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

// These tests follow what is known of the real Cloud beyond the happy path
// (DESIGN.md, "Facts about the Cloud API"): the endpoint's forms, first-run
// faults, duplicate names, builds that never finish, and env changes.

func TestEndpointIsTheGraphQLURLInBothForms(t *testing.T) {
	for _, withPath := range []bool{false, true} {
		h := newHarness(t, func(o *cloudsim.Options) { o.EndpointWithPath = withPath })
		res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-70"), nil)
		if err != nil || res.Status != StatusSuccess {
			t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
		}
		info, _ := h.sim.Project("shop-pr-70")
		if res.Endpoint != "https://shop-pr-70.hasura.app/v1/graphql" {
			t.Errorf("projects.endpoint %q gave endpoint %q", info.Endpoint, res.Endpoint)
		}
	}
}

// Every first-run fault at once: the text of action#91 and a
// GenericServerError on reads, projects_by_pk null right after creation,
// the deployment job null for a while (action#114) and a first deployment
// that fails with the action#91 text. The preview still comes up, rebuilt
// once, and the result says so.
func TestFirstRunFaultsEndInAPreview(t *testing.T) {
	h := newHarness(t, func(o *cloudsim.Options) { o.FirstRun = true })
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpJob, Kind: cloudsim.FaultWarmingUp, Count: 2})
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpProject, Kind: cloudsim.FaultGenericError})
	var seen []Result
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-71"), func(r Result) { seen = append(seen, r) })
	if err != nil || res.Status != StatusSuccess || !res.AutoRebuilt || res.FirstRunFailure {
		t.Fatalf("Ensure = %s %q (auto-rebuilt %v), %v", res.Status, res.Message, res.AutoRebuilt, err)
	}
	info, _ := h.sim.Project("shop-pr-71")
	if info.Builds != 2 || res.Endpoint != info.GraphQLURL {
		t.Errorf("project %+v after a first-run failure, result %+v", info, res)
	}
	firstFailed := slices.ContainsFunc(seen, func(r Result) bool { return r.Status == StatusFailed && r.FirstRunFailure })
	if !firstFailed {
		t.Error("the first deployment's failure was never reported")
	}
	faults := map[cloudsim.FaultKind]int{}
	for _, r := range h.sim.Log() {
		faults[r.Fault]++
	}
	if faults[cloudsim.FaultWarmingUp] != 2 || faults[cloudsim.FaultGenericError] != 1 {
		t.Errorf("faults met: %v", faults)
	}
}

// A failure with any other text is the user's to fix: no rebuild.
func TestOtherFailuresAreNotRebuilt(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.FailTask("shop-pr-72", "apply-migration", `relation "users" already exists`, "")
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-72"), nil)
	if err != nil || res.Status != StatusFailed || res.FirstRunFailure || res.AutoRebuilt {
		t.Fatalf("Ensure = %+v, %v", res, err)
	}
	if info, _ := h.sim.Project("shop-pr-72"); info.Builds != 1 {
		t.Errorf("built %d times", info.Builds)
	}
}

// A rebuild that meets the first-run error again ends failed: one
// automatic rebuild, never a loop.
func TestFirstRunFailureRebuildsOnlyOnce(t *testing.T) {
	h := newHarness(t, nil)
	for range 3 {
		h.sim.FailTask("shop-pr-73", "apply-metadata", cloudsim.WarmingUpText, "")
	}
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-73"), nil)
	if err != nil || res.Status != StatusFailed || !res.AutoRebuilt {
		t.Fatalf("Ensure = %s (auto-rebuilt %v), %v", res.Status, res.AutoRebuilt, err)
	}
	if info, _ := h.sim.Project("shop-pr-73"); info.Builds != 2 {
		t.Errorf("built %d times, want 2", info.Builds)
	}
}

func TestNullProjectAfterCreationIsWaitedFor(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultNullProject, Count: 3})
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-74"), nil)
	if err != nil || res.Status != StatusSuccess || res.ProjectID == "" {
		t.Fatalf("Ensure = %s %q, %v", res.Status, res.Message, err)
	}

	// A project that never appears fails the run once the grace is over,
	// naming what was missing.
	h2 := newHarness(t, nil)
	h2.engine.NullJobGrace = time.Minute
	h2.sim.Inject(cloudsim.Fault{Kind: cloudsim.FaultNullProject, Count: 1000})
	res, err = h2.engine.Ensure(context.Background(), testSpec("shop-pr-75"), nil)
	if res.Status != StatusFailed || !errors.Is(err, cloud.ErrNotFound) || !strings.Contains(res.Message, "reading project") {
		t.Fatalf("Ensure with the project never readable = %s %q, %v", res.Status, res.Message, err)
	}
}

func TestDestroyDeletesEveryProjectOfTheName(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.built("shop-pr-76")
	h.sim.Duplicate("shop-pr-76")
	h.sim.Duplicate("shop-pr-76")
	res, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-76"})
	if err != nil || !res.Existed || res.Deleted != 3 {
		t.Fatalf("Destroy = %+v, %v", res, err)
	}
	if left := h.sim.Projects(); len(left) != 0 {
		t.Errorf("left behind: %+v", left)
	}

	// Keep spares the live preview and removes its duplicates only.
	h.built("shop-pr-77")
	live, _ := h.sim.Project("shop-pr-77")
	h.sim.Duplicate("shop-pr-77")
	res, err = h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-77", Keep: live.ID})
	if left := h.sim.Projects(); err != nil || res.Deleted != 1 || len(left) != 1 || left[0].ID != live.ID {
		t.Errorf("Destroy keeping %s = %+v, %v; left %+v", live.ID, res, err, left)
	}
}

// A creation job the Cloud never finishes must not keep a closed PR's
// preview alive: past the engine's deadline the delete goes ahead.
func TestDestroyStopsWaitingAfterTheDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.SetDurations("shop-pr-78", 24*time.Hour, 0)
	ctx := context.Background()
	run, err := h.engine.Start(ctx, testSpec("shop-pr-78"))
	if err != nil {
		t.Fatal(err)
	}
	spec := DestroySpec{Name: "shop-pr-78", InFlightJob: run.Result.CreationJobID, InFlightSince: run.Result.Started}
	if _, err := h.engine.Destroy(ctx, spec); !errors.Is(err, ErrBuildInFlight) {
		t.Fatalf("Destroy during the build = %v", err)
	}
	h.clock.Advance(DefaultDeadline + time.Second)
	lookups := h.sim.Requests(cloud.OpProjects)
	if _, err := h.engine.Destroy(ctx, spec); err != nil {
		t.Fatalf("Destroy past the deadline = %v", err)
	}
	// Should the job still bring the app up later, the service's orphan
	// sweep deletes it again; the engine's part is not to wait for ever.
	if h.sim.Requests(cloud.OpProjects) == lookups {
		t.Error("the delete past the deadline did not look for the app")
	}
}

func TestUpdateEnvInPlace(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	spec := testSpec("shop-pr-79")
	spec.Env = []EnvVar{{Key: "A", Value: "1"}, {Key: "B", Value: "2"}, {Key: "JWT", Value: `{"type":"RS256";"k":"v"}`}}
	res, err := h.engine.Ensure(ctx, spec, nil)
	if err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s, %v", res.Status, err)
	}
	// Someone sets a key in the console: not ours, so it stays.
	info, _ := h.sim.Project("shop-pr-79")
	cur, err := h.client.TenantEnv(ctx, info.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.UpdateTenantEnv(ctx, info.TenantID, cur.Hash, []cloud.EnvVar{{Key: "MANUAL", Value: "m"}}); err != nil {
		t.Fatal(err)
	}

	want := []EnvVar{{Key: "A", Value: "1"}, {Key: "JWT", Value: `{"type":"RS256";"k":"rotated"}`}, {Key: "C", Value: "3"}}
	up, err := h.engine.UpdateEnv(ctx, EnvSpec{Name: "shop-pr-79", TenantID: info.TenantID, Env: want, Managed: EnvKeys(spec.Env)})
	if err != nil || !slices.Equal(up.Set, []string{"C", "JWT"}) || !slices.Equal(up.Deleted, []string{"B"}) || up.At.IsZero() {
		t.Fatalf("UpdateEnv = %+v, %v", up, err)
	}
	after, _ := h.sim.Project("shop-pr-79")
	if !maps.Equal(after.Env, map[string]string{"A": "1", "JWT": `{"type":"RS256";"k":"rotated"}`, "C": "3", "MANUAL": "m"}) {
		t.Errorf("env after the update = %v", after.Env)
	}
	if after.Builds != 1 || after.EnvUpdates != 3 {
		t.Errorf("builds %d, env updates %d: want no rebuild", after.Builds, after.EnvUpdates)
	}

	// Nothing differs: no call that changes anything.
	up, err = h.engine.UpdateEnv(ctx, EnvSpec{Name: "shop-pr-79", TenantID: info.TenantID, Env: want, Managed: EnvKeys(want)})
	if err != nil || len(up.Set)+len(up.Deleted) != 0 {
		t.Errorf("UpdateEnv with nothing to do = %+v, %v", up, err)
	}
	if again, _ := h.sim.Project("shop-pr-79"); again.EnvUpdates != 3 {
		t.Errorf("env updated %d times", again.EnvUpdates)
	}
}

// staleOnce changes the env behind the engine's back between its read and
// its write, once: the hash it read is stale.
type staleOnce struct {
	CloudAPI
	done bool
}

func (s *staleOnce) UpdateTenantEnv(ctx context.Context, tenantID, hash string, env []cloud.EnvVar) (*cloud.TenantEnv, error) {
	if !s.done {
		s.done = true
		if _, err := s.CloudAPI.UpdateTenantEnv(ctx, tenantID, hash, []cloud.EnvVar{{Key: "OTHER", Value: "x"}}); err != nil {
			return nil, err
		}
	}
	return s.CloudAPI.UpdateTenantEnv(ctx, tenantID, hash, env)
}

func TestUpdateEnvRetriesAStaleHash(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.built("shop-pr-80")
	info, _ := h.sim.Project("shop-pr-80")
	e := *h.engine
	e.Cloud = &staleOnce{CloudAPI: h.client}
	up, err := e.UpdateEnv(ctx, EnvSpec{Name: "shop-pr-80", TenantID: info.TenantID, Env: []EnvVar{{Key: "A", Value: "new"}}})
	if err != nil || !slices.Equal(up.Set, []string{"A"}) {
		t.Fatalf("UpdateEnv = %+v, %v", up, err)
	}
	if after, _ := h.sim.Project("shop-pr-80"); after.Env["A"] != "new" || after.Env["OTHER"] != "x" {
		t.Errorf("env = %v", after.Env)
	}
}

// Variables the database settings own point at the build's database: an
// env update never touches them.
func TestUpdateEnvLeavesDatabaseVariables(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	db := &fakeDatabases{env: []EnvVar{{Key: "PG_DATABASE_URL", Value: "postgres://u:p@db/shop_pr_81"}}}
	spec := testSpec("shop-pr-81")
	spec.Databases = db
	if res, err := h.engine.Ensure(ctx, spec, nil); err != nil || res.Status != StatusSuccess {
		t.Fatalf("Ensure = %s, %v", res.Status, err)
	}
	info, _ := h.sim.Project("shop-pr-81")
	want := []EnvVar{{Key: "PG_DATABASE_URL", Value: "postgres://elsewhere/x"}, {Key: "A", Value: "1"}}
	up, err := h.engine.UpdateEnv(ctx, EnvSpec{Name: "shop-pr-81", TenantID: info.TenantID, Env: want,
		Managed: []string{"PG_DATABASE_URL"}, Databases: db})
	if err != nil || !slices.Equal(up.Set, []string{"A"}) || len(up.Deleted) != 0 {
		t.Fatalf("UpdateEnv = %+v, %v", up, err)
	}
	if after, _ := h.sim.Project("shop-pr-81"); after.Env["PG_DATABASE_URL"] != "postgres://u:p@db/shop_pr_81" {
		t.Errorf("the database URL changed: %v", after.Env)
	}
	if len(db.ensured) != 1 {
		t.Errorf("the database was made again: %v", db.ensured)
	}
}

// The automatic rebuild shares the first build's deadline: the caller's
// time (the action's timeout) covers both builds, so a slow rebuild times
// out at the deadline rather than running past the caller's context.
func TestFirstRunRebuildSharesTheDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.engine.Deadline = 4 * time.Minute
	h.sim.FailTask("shop-pr-82", "apply-metadata", cloudsim.WarmingUpText, "")
	res, err := h.engine.Ensure(context.Background(), testSpec("shop-pr-82"), nil)
	if err != nil || !res.AutoRebuilt || res.Status != StatusTimedOut {
		t.Fatalf("Ensure = %s (auto-rebuilt %v), %v", res.Status, res.AutoRebuilt, err)
	}
	if end := res.Finished.Sub(simStart); end > 4*time.Minute {
		t.Errorf("the rebuild ran until %v after the first build started, past the 4m deadline", end)
	}
}
