package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// onPostgres moves the harness onto a PostgreSQL store of its own (skipping
// the test without one) and returns the database's URL. Call it before
// opening PRs.
func onPostgres(h *harness) string {
	h.t.Helper()
	url := storetest.PostgresURL(h.t)
	h.st = storetest.Open(h.t, url, store.Options{Now: h.clock.Now})
	h.deps.Store = h.st
	h.restart()
	return url
}

// replica is a second Reconciler on the harness's store, as another
// process of the service would run.
func (h *harness) replica() *Reconciler {
	h.t.Helper()
	return h.process()
}

// TestCapHoldsAcrossReplicasOnPostgres: two replicas reconcile two PRs of
// one installation at the same moment under a cap of one. The test holds
// every write to the previews table until either both passes wait on it
// (both counted the slot free: two builds) or one pass gives way; then only
// one build may start, and the other PR waits in line.
func TestCapHoldsAcrossReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{settings: func(s *Settings) { s.MaxPreviewsPerInstallation = 1 }})
	url := onPostgres(h)
	one, two := h.rec, h.replica()
	k7, k8 := h.open(7, nil), h.open(8, nil)

	ctx := h.ctx
	hold, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close(ctx)
	tx, err := hold.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// SHARE mode lets the passes read previews but not write them.
	if _, err := tx.Exec(ctx, "LOCK TABLE previews IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	type result struct {
		key   string
		again time.Duration
		err   error
	}
	done := make(chan result, 2)
	for key, rec := range map[string]*Reconciler{k7: one, k8: two} {
		go func() {
			again, err := rec.Reconcile(ctx, key)
			done <- result{key, again, err}
		}()
	}
	var results []result
	deadline := time.Now().Add(20 * time.Second)
	for len(results) == 0 {
		var waiting int
		if err := hold.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("neither pass reached a write or returned")
		}
		select {
		case r := <-done:
			results = append(results, r)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for len(results) < 2 {
		results = append(results, <-done)
	}
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("reconciling %s: %v", r.key, r.err)
		}
	}
	if n := h.creates(); n != 1 {
		t.Fatalf("%d builds started at once under a cap of 1", n)
	}

	// The pass that gave way comes back soon and queues behind the build.
	for _, r := range results {
		if p, err := h.st.GetPreview(ctx, r.key); err == nil && p.Status == store.StatusBuilding {
			continue
		}
		if r.again <= 0 || r.again > 5*time.Second {
			t.Fatalf("%s gave way but comes back after %v", r.key, r.again)
		}
		rec := one
		if r.key == k8 {
			rec = two
		}
		if _, err := rec.Reconcile(ctx, r.key); err != nil {
			t.Fatal(err)
		}
		if p := h.preview(r.key); p.Status != store.StatusQueued {
			t.Fatalf("%s beside a running build: %+v", r.key, p)
		}
	}
	if n := h.creates(); n != 1 {
		t.Fatalf("creates = %d over the cap", n)
	}
}

// TestPauseRecordedByOneReplicaHoldsTheOther: one replica spends the
// installation's GitHub budget and pauses it; the other, which had called
// GitHub before, sends nothing more until the reset.
func TestPauseRecordedByOneReplicaHoldsTheOther(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tokenLimit: 12})
	onPostgres(h)
	one, two := h.rec, h.replica()
	start := h.clock.Now()
	keys := []string{h.open(1, nil), h.open(2, nil)}
	k3 := h.open(3, nil)
	if _, err := two.Reconcile(h.ctx, k3); err != nil {
		t.Fatal(err)
	}
	h.drive(keys, start.Add(20*time.Minute), nil)
	until, paused := one.Budgets.pausedUntil(instID)
	if !paused {
		t.Fatal("the installation never reached its limit")
	}
	if _, known := two.Budgets.pausedUntil(instID); known {
		t.Fatal("the second replica learnt of the pause by itself")
	}

	before, refused := h.static.requests(instID), h.static.refused(instID)
	// #3's build carries on in the Cloud; its comment waits for the reset.
	if _, err := two.Reconcile(h.ctx, k3); err != nil {
		t.Fatal(err)
	}
	if n := h.static.requests(instID) - before; n != 0 || h.static.refused(instID) != refused {
		t.Errorf("the second replica sent %d requests during the pause", n)
	}
	if got, paused := two.Budgets.pausedUntil(instID); !paused || !got.Equal(until) {
		t.Errorf("the second replica pauses until %v (%v), want %v", got, paused, until)
	}
	h.rec = two
	if res := h.drive(append(keys, k3), start.Add(3*time.Hour), nil); res.left != 0 || res.errors != 0 {
		t.Fatalf("after the reset: %+v", res)
	}
	for n := 1; n <= 3; n++ {
		if !h.readyComment(owner, repo, n) {
			t.Errorf("PR %d not shown after the reset", n)
		}
	}
}

// TestFreedSlotStartsNextPRAtOnce runs two replicas through River on one
// PostgreSQL store under a cap of one: when the PR holding the slot closes,
// the next one in line builds at once, not at its queue poll (90 s, longer
// than waitFor waits).
func TestFreedSlotStartsNextPRAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rig := newRiverRig(t, 7, 8)
	sim := rig.sim
	url := storetest.PostgresURL(t)

	var replicas []*jobs.Client
	for range 2 {
		st := storetest.Open(t, url, store.Options{})
		var q *jobs.Client
		d := rig.deps(t, st, Settings{SecretEnvPrefix: prefix, MaxPreviewsPerInstallation: 1})
		d.Wake = func(ctx context.Context, k string) (jobs.Enqueued, error) { return q.Enqueue(ctx, k) }
		rec, err := New(d)
		if err != nil {
			t.Fatal(err)
		}
		q = startRiver(t, st, rec)
		replicas = append(replicas, q)
	}
	st := storetest.Open(t, url, store.Options{})

	prs := map[int]*store.PullRequest{}
	deliver := func(n int, via *jobs.Client, edit func(*store.PullRequest)) string {
		t.Helper()
		pr := prs[n]
		if pr == nil {
			pr = &store.PullRequest{
				Key: store.PRKey(owner, repo, n), InstallationID: instID, BaseOwner: owner, BaseRepo: repo, Number: n,
				HeadOwner: owner, HeadRepo: repo, Branch: "feature-" + itoa(n), HeadSHA: sha(n, 1), BaseRef: "main",
				EventUpdatedAt: time.Now(),
			}
			prs[n] = pr
		}
		if edit != nil {
			edit(pr)
		}
		err := st.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.RecordPullRequest(ctx, pr, true, false); err != nil {
				return err
			}
			_, err := via.EnqueueTx(ctx, tx, pr.Key)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return pr.Key
	}
	status := func(key string) store.Status {
		p, err := st.GetPreview(ctx, key)
		if err != nil {
			return store.StatusNone
		}
		return p.Status
	}

	k7 := deliver(7, replicas[0], nil)
	waitFor(t, "#7 to be ready", func() bool { return status(k7) == store.StatusReady })
	k8 := deliver(8, replicas[1], nil)
	waitFor(t, "#8 to wait in line", func() bool { return status(k8) == store.StatusQueued })
	if n := sim.Count(cloud.OpCreatePreviewApp); n != 1 {
		t.Fatalf("creates = %d under a cap of 1", n)
	}

	deliver(7, replicas[0], func(pr *store.PullRequest) { pr.Closed, pr.EventUpdatedAt = true, pr.EventUpdatedAt.Add(time.Second) })
	waitFor(t, "#7 to be deleted", func() bool { return status(k7) == store.StatusDeleted })
	waitFor(t, "#8 to be built in the freed slot", func() bool { return status(k8) == store.StatusReady })
	if n := sim.Count(cloud.OpCreatePreviewApp); n != 2 {
		t.Fatalf("creates = %d", n)
	}
}

// TestFreedSlotWakesTheFirstInLine: a deleted preview wakes as many PRs as
// slots are free, first in line first; a queued PR that leaves frees none.
func TestFreedSlotWakesTheFirstInLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{settings: func(s *Settings) { s.MaxPreviewsPerInstallation = 1 }})
	h.deps.Wake = h.queue.Enqueue
	h.restart()
	k7 := h.openBuilt(7)
	k8 := h.open(8, nil)
	h.steps(k8, 1)
	h.clock.Advance(time.Second)
	k9 := h.open(9, nil)
	h.steps(k9, 1)
	h.clock.Advance(time.Second)
	k10 := h.open(10, nil)
	h.steps(k10, 1)
	if got := h.queue.take(); len(got) != 0 {
		t.Fatalf("woke %q while the slot is taken", got)
	}

	h.update(9, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(k9)
	if got := h.queue.take(); len(got) != 0 {
		t.Fatalf("a queued PR that left woke %q", got)
	}
	before := h.generation(k8)
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(k7)
	if got := h.queue.take(); len(got) != 1 || got[0] != k8 {
		t.Fatalf("woke %q, want %s", got, k8)
	}
	if after := h.generation(k8); after != before+1 {
		t.Fatalf("#8's generation %d after the wake, was %d", after, before)
	}
	h.steps(k8, 1)
	if p := h.preview(k8); p.Status != store.StatusBuilding {
		t.Fatalf("#8 after the wake: %+v", p)
	}
	if p := h.preview(k10); p.Status != store.StatusQueued {
		t.Fatalf("#10: %+v", p)
	}
}

func (h *harness) generation(key string) int64 {
	h.t.Helper()
	g, err := h.st.Generation(h.ctx, key)
	if err != nil {
		h.t.Fatal(err)
	}
	return g
}
