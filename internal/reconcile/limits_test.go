package reconcile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func TestCapPerInstallationQueuesInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{settings: func(s *Settings) { s.MaxPreviewsPerInstallation = 1 }})
	k7 := h.openBuilt(7)

	k8 := h.open(8, nil)
	if again := h.steps(k8, 1); again < time.Minute || again > 2*time.Minute {
		t.Fatalf("a queued preview should look again in 1–2 minutes, not %v", again)
	}
	h.clock.Advance(time.Second)
	k9 := h.open(9, nil)
	h.steps(k9, 1)
	if p := h.preview(k8); p.Status != store.StatusQueued {
		t.Fatalf("#8: %+v", p)
	}
	if body := h.sticky(8); !strings.Contains(body, "1 preview of this installation is running") || !strings.Contains(body, "1st in line") {
		t.Fatalf("#8 comment:\n%s", body)
	}
	if body := h.sticky(9); !strings.Contains(body, "2nd in line") {
		t.Fatalf("#9 comment:\n%s", body)
	}
	if h.creates() != 1 {
		t.Fatalf("creates = %d over the cap", h.creates())
	}
	// Nothing frees up: #8 waits on.
	h.steps(k8, 1)
	if p := h.preview(k8); p.Status != store.StatusQueued {
		t.Fatalf("#8 left the queue while the slot was taken: %+v", p)
	}

	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(k7)
	// #9 asks first but #8 has waited longer.
	h.steps(k9, 1)
	if p := h.preview(k9); p.Status != store.StatusQueued {
		t.Fatalf("#9 jumped the queue: %+v", p)
	}
	h.mustSettle(k8)
	if p := h.preview(k8); p.Status != store.StatusReady {
		t.Fatalf("#8 after #7 closed: %+v", p)
	}
	if body := h.sticky(8); strings.Contains(body, "in line") || !strings.Contains(body, "is ready") {
		t.Fatalf("#8 comment:\n%s", body)
	}
	h.steps(k9, 1)
	if body := h.sticky(9); !strings.Contains(body, "1st in line") {
		t.Fatalf("#9 comment:\n%s", body)
	}
	// A push to a preview that holds a slot rebuilds it at once.
	h.update(8, func(pr *store.PullRequest) { pr.HeadSHA = sha(8, 2) })
	h.mustSettle(k8)
	if p := h.preview(k8); p.Status != store.StatusReady || p.BuiltSHA != sha(8, 2) {
		t.Fatalf("#8 after a push: %+v", p)
	}
	// A queued PR that closes leaves without touching the Cloud.
	h.update(9, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(k9)
	if p := h.preview(k9); p.Status != store.StatusDeleted || h.creates() != 3 {
		t.Fatalf("#9 after close: %+v, creates %d", p, h.creates())
	}
}

func TestTTLWarnsThenDeletesUnlessKept(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{settings: func(s *Settings) {
		s.PreviewTTL, s.TTLWarning = 72*time.Hour, 24*time.Hour
	}})
	k7 := h.open(7, nil)
	k8 := h.open(8, func(s *ghsim.PullSpec) { s.Labels = []string{"preview"} })
	h.mustSettle(k7)
	h.mustSettle(k8)

	h.wantSweep("before the warning")
	h.clock.Advance(49 * time.Hour)
	h.wantSweep("at the warning", k7)
	h.mustSettle(k7)
	body := h.sticky(7)
	if !strings.Contains(body, "This preview will be deleted at") || !strings.Contains(body, "add the `preview` label to keep it") {
		t.Fatalf("no TTL warning:\n%s", body)
	}
	if p := h.preview(k7); p.TTLWarnedAt.IsZero() || p.Status != store.StatusReady {
		t.Fatalf("#7 after the warning: %+v", p)
	}
	h.wantSweep("the warning is due once")

	h.clock.Advance(24 * time.Hour)
	h.wantSweep("at expiry", k7)
	h.mustSettle(k7)
	if p := h.preview(k7); p.Status != store.StatusDeleted {
		t.Fatalf("#7 after its TTL: %+v", p)
	}
	if body := h.sticky(7); !strings.Contains(body, "The preview expired") {
		t.Fatalf("comment:\n%s", body)
	}
	if _, ok := h.cloud.Project("shop-pr-8"); !ok || len(h.cloud.Projects()) != 1 {
		t.Fatalf("the kept preview is gone: %+v", h.cloud.Projects())
	}
	h.mustSettle(k8)
	if p := h.preview(k8); p.Status != store.StatusReady || !p.TTLWarnedAt.IsZero() {
		t.Fatalf("#8 carries the keep label: %+v", p)
	}

	// An expired preview stays deleted on a label, comes back with the
	// keep label.
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"bug"} })
	h.mustSettle(k7)
	if h.preview(k7).Status != store.StatusDeleted {
		t.Fatal("a label brought an expired preview back")
	}
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"bug", "preview"} })
	h.mustSettle(k7)
	if p := h.preview(k7); p.Status != store.StatusReady || h.creates() != 3 {
		t.Fatalf("#7 with the keep label: %+v, creates %d", p, h.creates())
	}
}

func TestDriftIsRebuiltBySweepAndReconcile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.wantSweep("nothing to do")
	if !h.cloud.DeleteByHand("shop-pr-7") {
		t.Fatal("no app to delete by hand")
	}
	// Checked at most once an hour.
	h.wantSweep("drift is checked at most once an hour")
	h.clock.Advance(61 * time.Minute)
	h.wantSweep("after drift", key)
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 2 {
		t.Fatalf("after drift: %+v, creates %d", p, h.creates())
	}
	if _, ok := h.cloud.Project("shop-pr-7"); !ok {
		t.Fatal("the app was not recreated")
	}
	if d := h.gh.Deployments(owner, repo); len(d) != 2 || latest(d[1]) != "success" {
		t.Fatalf("deployments after the rebuild: %d", len(d))
	}
	lookups := h.cloud.Requests(cloud.OpProjects)
	h.sweepKeys()
	if h.cloud.Requests(cloud.OpProjects) != lookups {
		t.Fatal("a sweep within the hour looked the app up again")
	}
}

func TestQuotaExceededFailsOnceWithExplanation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{cloud: func(o *cloudsim.Options) { o.MonthlyQuota = 1 }})
	h.openBuilt(7)
	k8 := h.open(8, nil)
	err := h.settle(k8)
	if !isPermanent(err) || !errors.Is(err, cloud.ErrQuotaExceeded) {
		t.Fatalf("want a permanent quota error, got %v", err)
	}
	if p := h.preview(k8); p.Status != store.StatusFailed {
		t.Fatalf("#8: %+v", p)
	}
	// The quota's wording is not documented: the Cloud's own words are shown too.
	if body := h.sticky(8); !strings.Contains(body, "preview quota is used up") || !strings.Contains(body, "monthly preview app quota exceeded") {
		t.Fatalf("comment:\n%s", body)
	}
	if d := h.gh.Deployments(owner, repo); len(d) != 1 {
		t.Fatalf("deployments: %d (none for a build the Cloud refused)", len(d))
	}
	asked := h.cloud.Requests(cloud.OpCreatePreviewApp)
	h.mustSettle(k8)
	h.wantSweep("the failed PR is not retried")
	if h.cloud.Requests(cloud.OpCreatePreviewApp) != asked {
		t.Fatal("the refused create was retried")
	}
}

func TestUninstallDeletesPreviewsWithoutGitHub(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	writes := h.gh.Stats().ContentWrites()
	h.gh.RemoveInstallation(instID)
	err := h.st.WithTx(h.ctx, func(tx *store.Tx) error {
		_, err := tx.MarkInstallationDeleted(h.ctx, instID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.queue.forgetFn = func(id int64) error { _, err := h.st.ForgetInstallation(h.ctx, id); return err }
	h.wantSweep("after uninstall", key)
	if len(h.queue.forgot) != 0 {
		t.Fatal("forgot the installation while its preview was alive")
	}
	h.mustSettle(key)
	if len(h.cloud.Projects()) != 0 {
		t.Fatalf("projects left: %+v", h.cloud.Projects())
	}
	if h.gh.Stats().ContentWrites() != writes {
		t.Fatal("wrote to GitHub for an uninstalled installation")
	}
	h.sweepKeys()
	if len(h.queue.forgot) != 1 || h.queue.forgot[0] != instID {
		t.Fatalf("forgot %v", h.queue.forgot)
	}
	if _, err := h.st.GetPR(h.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the PR is still recorded: %v", err)
	}
	if again, err := h.rec.Reconcile(h.ctx, key); again != 0 || err != nil {
		t.Fatalf("reconciling a forgotten PR: %v %v", again, err)
	}
}

// TestUninstallIsConfirmedWithGitHub: an uninstall or a repository removal
// read from a delivery deletes nothing while GitHub says the App still
// reaches the repository; the PR is reinstated and its preview kept. Once
// GitHub agrees (the repository left the installation), the preview goes.
func TestUninstallIsConfirmedWithGitHub(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	creates := h.cloud.Requests(cloud.OpCreatePreviewApp)
	mark := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := h.st.WithTx(h.ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	mark(func(tx *store.Tx) error { _, err := tx.MarkInstallationDeleted(h.ctx, instID); return err })
	h.mustSettle(key)
	if len(h.cloud.Projects()) != 1 {
		t.Fatal("an uninstall GitHub does not confirm deleted the preview")
	}
	pr, err := h.st.GetPR(h.ctx, key)
	if err != nil || pr.Uninstalled {
		t.Fatalf("the PR was not reinstated: %+v %v", pr, err)
	}
	if inst, err := storetest.Installation(h.ctx, h.st, instID); err != nil || inst.Deleted {
		t.Fatalf("the installation was not reinstated: %+v %v", inst, err)
	}
	if p, _ := h.st.GetPreview(h.ctx, key); p.Status != store.StatusReady {
		t.Fatalf("preview %+v", p)
	}
	if h.cloud.Requests(cloud.OpCreatePreviewApp) != creates {
		t.Fatal("the unconfirmed uninstall rebuilt the preview")
	}

	mark(func(tx *store.Tx) error {
		_, err := tx.MarkReposRemoved(h.ctx, instID, []string{owner + "/" + repo})
		return err
	})
	h.mustSettle(key)
	if len(h.cloud.Projects()) != 1 {
		t.Fatal("a repository removal GitHub does not confirm deleted the preview")
	}

	// Now GitHub agrees: the installation covers another repository only.
	h.gh.SetInstallationRepositories(instID, []string{"other"})
	mark(func(tx *store.Tx) error {
		_, err := tx.MarkReposRemoved(h.ctx, instID, []string{owner + "/" + repo})
		return err
	})
	h.mustSettle(key)
	if len(h.cloud.Projects()) != 0 {
		t.Fatalf("projects left after a confirmed removal: %+v", h.cloud.Projects())
	}
}

func TestSweepFindsLostWork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	k7 := h.openBuilt(7)
	k8 := h.open(8, nil) // its job was lost: never reconciled
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.wantSweep("lost work", k7, k8)
	// Keys with a pending job are left to it.
	h.queue.pending = append(h.queue.pending, pendingJob(k7), pendingJob(k8))
	h.wantSweep("beside pending jobs")
	h.queue.pending = nil
	h.mustSettle(k7)
	h.mustSettle(k8)
	h.wantSweep("after everything settled")
	// A build whose job vanished mid-way is picked up.
	h.update(8, func(pr *store.PullRequest) { pr.HeadSHA = sha(8, 2) })
	h.steps(k8, 1)
	h.wantSweep("a stuck build", k8)
}

// TestSweepDeletesAnAppThatCameBackAfterItsDelete: a crash between sending
// a create and saving its job id leaves a creation job the store does not
// know; the close then finds no app, and the app comes up afterwards. The
// sweep looks once more after the grace period and deletes it.
func TestSweepDeletesAnAppThatCameBackAfterItsDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	if _, ok := h.cloud.Project("shop-pr-7"); ok {
		t.Fatal("the close did not delete the app")
	}

	// The lost creation job brings the app back.
	if _, err := h.deps.Engine.Cloud.CreateGitHubPreviewApp(h.ctx, cloud.PreviewApp{
		GitHubToken: "ghs_lost", Owner: owner, Repo: repo, Branch: "feature-7", Name: "shop-pr-7", Region: "us-west-1", Plan: "cloud_free",
	}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Minute)
	h.sweepKeys()
	if _, ok := h.cloud.Project("shop-pr-7"); !ok {
		t.Fatal("the orphan check ran inside its grace period")
	}
	h.clock.Advance(6 * time.Minute)
	h.sweepKeys()
	if _, ok := h.cloud.Project("shop-pr-7"); ok {
		t.Fatal("the sweep left the app that came back after the delete")
	}
	lookups := h.cloud.Requests(cloud.OpProjects)
	h.clock.Advance(10 * time.Minute)
	h.sweepKeys()
	if got := h.cloud.Requests(cloud.OpProjects); got != lookups {
		t.Fatalf("a deletion already re-checked was looked up again (%d → %d)", lookups, got)
	}
}

// TestSweepForgetsLongClosedPRs keeps the store from growing for ever.
func TestSweepForgetsLongClosedPRs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.update(7, func(pr *store.PullRequest) { pr.Closed = true })
	h.mustSettle(key)
	h.clock.Advance(29 * 24 * time.Hour)
	h.sweepKeys()
	if _, err := h.st.GetPR(h.ctx, key); err != nil {
		t.Fatalf("a PR closed 29 days ago was forgotten: %v", err)
	}
	h.clock.Advance(2 * 24 * time.Hour)
	h.sweepKeys()
	if _, err := h.st.GetPR(h.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a PR closed 31 days ago is still kept: %v", err)
	}
	if _, err := h.st.GetPreview(h.ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("its preview record is still kept: %v", err)
	}
}
