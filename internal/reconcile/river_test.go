package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/riverqueue/river"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// TestThroughRiverOnSQLite runs the reconciler as the service does: jobs
// enqueued with the desired state in one transaction, worked by River on
// the same SQLite database, snoozing while the Cloud builds. Real time,
// with a Cloud that builds in well under a second.
func TestThroughRiverOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rig := newRiverRig(t, 7)
	gh, sim := rig.gh, rig.sim
	st := storetest.SQLite(t, store.Options{})
	rec, err := New(rig.deps(t, st, Settings{SecretEnvPrefix: prefix}))
	if err != nil {
		t.Fatal(err)
	}
	q := startRiver(t, st, rec)

	pr := &store.PullRequest{
		Key: store.PRKey(owner, repo, 7), InstallationID: instID, BaseOwner: owner, BaseRepo: repo, Number: 7,
		HeadOwner: owner, HeadRepo: repo, Branch: "feature-7", HeadSHA: sha(7, 1), BaseRef: "main",
		EventUpdatedAt: time.Now(),
	}
	deliver := func() {
		t.Helper()
		err := st.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.RecordPullRequest(ctx, pr, true, false); err != nil {
				return err
			}
			_, err := q.EnqueueTx(ctx, tx, pr.Key)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	status := func() store.Status {
		p, err := st.GetPreview(ctx, pr.Key)
		if err != nil {
			return store.StatusNone
		}
		return p.Status
	}

	deliver()
	waitFor(t, "the preview to be ready", func() bool { return status() == store.StatusReady })
	if sim.Count(cloud.OpCreatePreviewApp) != 1 {
		t.Fatalf("creates: %d", sim.Count(cloud.OpCreatePreviewApp))
	}
	// The state is saved before it is shown on GitHub.
	waitFor(t, "the deployment to succeed", func() bool {
		d := gh.Deployments(owner, repo)
		return len(d) == 1 && latest(d[0]) == "success"
	})

	pr.Closed, pr.EventUpdatedAt = true, pr.EventUpdatedAt.Add(time.Second)
	deliver()
	waitFor(t, "the preview to be deleted", func() bool { return status() == store.StatusDeleted })
	if projs := sim.Projects(); len(projs) != 0 {
		t.Fatalf("projects left: %+v", projs)
	}
	waitFor(t, "the queue to drain", func() bool {
		pending, err := q.Pending(ctx)
		return err == nil && len(pending) == 0
	})
}

// riverRig is what the reconciler talks to when it runs under River in
// real time: ghsim with the App installed on owner/repo, its config and
// some PRs open, and cloudsim building in well under a second.
type riverRig struct {
	gh             *ghsim.Server
	sim            *cloudsim.Server
	base, cloudURL string
}

func newRiverRig(t *testing.T, prs ...int) *riverRig {
	t.Helper()
	r := &riverRig{}
	r.gh, r.base = ghsim.NewTestServer(t, ghsim.Options{})
	r.gh.AddApp(appID, &key().PublicKey)
	r.gh.AddInstallation(appID, instID, owner, []string{repo})
	r.gh.SetFile(owner, repo, "main", cfgPath, "directory: hasura\n")
	for _, n := range prs {
		r.gh.AddPull(owner, repo, ghsimPull(n))
	}
	r.sim, r.cloudURL = cloudsim.NewTestServer(t, cloudsim.Options{PAT: simPAT, Seed: 5, CreationDuration: 150 * time.Millisecond, TaskDuration: 20 * time.Millisecond})
	return r
}

// deps are a reconciler's dependencies on st, with an App and a Cloud
// client of their own over the rig.
func (r *riverRig) deps(t *testing.T, st *store.Store, settings Settings) Deps {
	t.Helper()
	app, err := ghapp.New(appID, key(), r.base, ghapp.WithBackOff(func() backoff.BackOff { return &backoff.StopBackOff{} }))
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.New(simPAT, cloud.WithEndpoint(r.cloudURL))
	if err != nil {
		t.Fatal(err)
	}
	poll := preview.PollPolicy{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: -1}
	return Deps{Store: st, GitHub: app, Engine: &preview.Engine{Cloud: client, Poll: poll}, Settings: settings, Logger: quiet()}
}

// startRiver works rec's jobs, and its sweep, with River on st (two
// workers, quick fetches) until the test ends.
func startRiver(t *testing.T, st *store.Store, rec *Reconciler) *jobs.Client {
	t.Helper()
	sw := NewSweeper(rec, SweepOptions{})
	q, err := jobs.New(st, rec, func(ctx context.Context, q *jobs.Client) error { return sw.Sweep(ctx, q) }, jobs.Options{
		Workers: 2, Logger: quiet(), SweepEvery: time.Hour,
		Configure: func(cfg *river.Config) {
			cfg.TestOnly = true
			cfg.FetchPollInterval = 20 * time.Millisecond
			cfg.FetchCooldown = 5 * time.Millisecond
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	return q
}

// waitFor polls cond; the deadline only guards against a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
