package preview

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
)

func TestDestroyMissingAppIsSuccess(t *testing.T) {
	h := newHarness(t, nil)
	res, err := h.engine.Destroy(context.Background(), DestroySpec{Name: "shop-pr-40"})
	if err != nil || res.Existed || !res.At.Equal(simStart) {
		t.Errorf("Destroy = %+v, %v", res, err)
	}
	if n := h.sim.Requests(cloud.OpDeleteTenant); n != 0 {
		t.Errorf("%d deleteTenant calls for an app that is not there", n)
	}
}

func TestDestroyExistingApp(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	built := h.built("shop-pr-41")
	res, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-41"})
	if err != nil || !res.Existed || res.ProjectID != built.ProjectID || res.TenantID != built.TenantID {
		t.Errorf("Destroy = %+v, %v; built %+v", res, err, built)
	}
	if left := h.sim.Projects(); len(left) != 0 {
		t.Errorf("left behind: %+v", left)
	}
	// Idempotent: a second close (a redelivery) finds nothing and is fine.
	res, err = h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-41"})
	if err != nil || res.Existed {
		t.Errorf("second Destroy = %+v, %v", res, err)
	}
}

// Closing a pull request during a build: the delete waits for the
// creation job, then removes what it made, and nothing appears later.
func TestDestroyDuringCreateLeavesNothing(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	run, err := h.engine.Start(ctx, testSpec("shop-pr-42"))
	if err != nil {
		t.Fatal(err)
	}
	spec := DestroySpec{Name: "shop-pr-42", InFlightJob: run.Result.CreationJobID}
	_, err = h.engine.Destroy(ctx, spec)
	if !errors.Is(err, ErrBuildInFlight) {
		t.Fatalf("Destroy during the build = %v, want ErrBuildInFlight", err)
	}
	if n := h.sim.Requests(cloud.OpDeleteTenant) + h.sim.Requests(cloud.OpProjects); n != 0 {
		t.Errorf("%d lookups or deletes while the build was in flight", n)
	}

	h.clock.Advance(30 * time.Second) // the creation job ends
	res, err := h.engine.Destroy(ctx, spec)
	if err != nil || !res.Existed {
		t.Fatalf("Destroy after the build = %+v, %v", res, err)
	}

	// The run that was following the build ends; whatever it reports, it
	// must not bring the app back.
	final, ferr := h.engine.Follow(ctx, run, nil)
	t.Logf("the deleted build's run ended %s: %s (error %v)", final.Status, final.Message, ferr)
	if !final.Status.Done() || final.Status == StatusSuccess {
		t.Errorf("the deleted build's run ended %s", final.Status)
	}
	h.clock.Advance(time.Hour)
	if left := h.sim.Projects(); len(left) != 0 {
		t.Errorf("left behind: %+v", left)
	}
	for _, j := range h.sim.Jobs("shop-pr-42") {
		if j.Status != cloudsim.StatusSuccess && j.Status != cloudsim.StatusSkipped {
			t.Errorf("job %s (%s) is %s", j.ID, j.Kind, j.Status)
		}
	}
}

func TestDestroyWithUnknownInFlightJob(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.built("shop-pr-43")
	res, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-43", InFlightJob: "00000000-0000-4000-8000-000000000000"})
	if err != nil || !res.Existed {
		t.Errorf("Destroy = %+v, %v", res, err)
	}
}

// goneBeforeDelete removes the project by hand between the lookup and the
// delete, as a person in the Cloud console might.
type goneBeforeDelete struct {
	CloudAPI
	sim *cloudsim.Server
}

func (g *goneBeforeDelete) DeleteTenant(ctx context.Context, tenantID string) error {
	for _, p := range g.sim.Projects() {
		if p.TenantID == tenantID {
			g.sim.DeleteByHand(p.Name)
		}
	}
	return g.CloudAPI.DeleteTenant(ctx, tenantID)
}

func TestDestroyRacingAHandDelete(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.built("shop-pr-44")
	h.engine.Cloud = &goneBeforeDelete{CloudAPI: h.client, sim: h.sim}
	res, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-44"})
	if err != nil || !res.Existed {
		t.Errorf("Destroy = %+v, %v", res, err)
	}
	if n := h.sim.Requests(cloud.OpDeleteTenant); n != 1 {
		t.Errorf("%d deleteTenant requests", n)
	}
}

func TestDestroyErrors(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	wrong, err := cloud.New("hcpat-wrong", cloud.WithEndpoint(h.url))
	if err != nil {
		t.Fatal(err)
	}
	h.engine.Cloud = wrong
	if _, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-45"}); !errors.Is(err, cloud.ErrUnauthorized) {
		t.Errorf("Destroy with a wrong token = %v", err)
	}
	if _, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-45", InFlightJob: "00000000-0000-4000-8000-000000000000"}); !errors.Is(err, cloud.ErrUnauthorized) {
		t.Errorf("Destroy with a wrong token and a job = %v", err)
	}

	h.engine.Cloud = h.client
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpProjects, Kind: cloudsim.FaultServerError, Count: 100})
	db := &fakeDatabases{}
	_, err = h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-45", Databases: db})
	if !errors.Is(err, cloud.ErrTransient) || len(db.dropped) != 0 {
		t.Errorf("Destroy with the Cloud down = %v, dropped %v", err, db.dropped)
	}

	h.sim.ClearFaults()
	h.built("shop-pr-45")
	h.sim.Inject(cloudsim.Fault{Op: cloud.OpDeleteTenant, Kind: cloudsim.FaultServerError, Count: 100})
	res, err := h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-45", Databases: db})
	if !errors.Is(err, cloud.ErrTransient) || !res.Existed || len(db.dropped) != 0 {
		t.Errorf("Destroy with deletes failing = %+v, %v, dropped %v", res, err, db.dropped)
	}
	if _, ok := h.sim.Project("shop-pr-45"); !ok {
		t.Error("the project went away although every delete failed")
	}

	h.sim.ClearFaults()
	db.dropErr = errors.New("database is being accessed by other users")
	res, err = h.engine.Destroy(ctx, DestroySpec{Name: "shop-pr-45", Databases: db})
	if !errors.Is(err, db.dropErr) || !res.Existed {
		t.Errorf("Destroy with the drop failing = %+v, %v", res, err)
	}
}
