package reconcile

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// A second installation, on another account, with its own budget.
const (
	inst2  = 77
	owner2 = "globex"
	repo2  = "web"
)

func (h *harness) addSecondInstallation(limit int) {
	h.t.Helper()
	h.gh.AddInstallation(appID, inst2, owner2, []string{repo2})
	h.gh.SetFile(owner2, repo2, "main", cfgPath, "directory: hasura\n")
	h.static.add(inst2, owner2, limit)
}

// TestInstallationAtItsLimitWaitsForTheReset: six PRs of one installation
// spend its hourly GitHub budget. From then on not one request of that
// installation reaches GitHub until the reset and no pass fails (River
// would retry it); builds in flight finish in the Cloud all the same; once
// the limit resets every PR gets its final comment and deployment status.
// Another installation's PRs go on as if nothing happened.
func TestInstallationAtItsLimitWaitsForTheReset(t *testing.T) {
	t.Parallel()
	const limit = 20
	h := newHarness(t, harnessOptions{tokenLimit: limit})
	h.addSecondInstallation(5000)
	start := h.clock.Now()
	var keys, ours, others []string
	for n := 1; n <= 6; n++ {
		ours = append(ours, h.open(n, nil))
	}
	for n := 101; n <= 102; n++ {
		others = append(others, h.openIn(inst2, owner2, repo2, n))
	}
	keys = append(append(keys, ours...), others...)

	var (
		pausedAt, until time.Time
		atPause         int // requests of the installation when the pause began
		pausedPasses    int
	)
	observe := func(key string, again time.Duration, err error) {
		wasPaused := !pausedAt.IsZero()
		if u, paused := h.rec.Budgets.pausedUntil(instID); paused && !wasPaused {
			pausedAt, until, atPause = h.clock.Now(), u, h.static.requests(instID)
		}
		if !wasPaused || !slices.Contains(ours, key) || h.clock.Now().After(until) {
			return
		}
		pausedPasses++
		if p, err := h.st.GetPreview(h.ctx, key); (err != nil || p.Status != store.StatusBuilding) && again < until.Sub(h.clock.Now()) {
			t.Errorf("%s snoozed %v during the pause, want at least until the reset (%v)", key, again, until.Sub(h.clock.Now()))
		}
	}
	res := h.drive(keys, start.Add(55*time.Minute), observe)

	if res.errors != 0 {
		t.Errorf("%d passes failed (River retries); want snoozes", res.errors)
	}
	if pausedAt.IsZero() {
		t.Fatal("the installation never reached its limit")
	}
	if want := start.Add(time.Hour); !until.Equal(want) {
		t.Errorf("paused until %v, want GitHub's reset %v", until, want)
	}
	if n := h.static.requests(instID); n != atPause {
		t.Errorf("%d requests of the paused installation reached GitHub before its reset", n-atPause)
	}
	if n := h.static.refused(instID); n > 1 {
		t.Errorf("GitHub refused %d requests, want at most the one that hit the limit", n)
	}
	unshown, waiting := 0, 0
	for n, key := range ours {
		p, err := h.st.GetPreview(h.ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			waiting++ // not started: starting needs GitHub (configuration, deployment)
		case err != nil:
			t.Fatal(err)
		case p.Status == store.StatusReady:
			if !h.readyComment(owner, repo, n+1) {
				unshown++
			}
		case p.Status == store.StatusBuilding:
			t.Errorf("%s is still building at the end of the pause: builds in flight must carry on", key)
		}
	}
	if unshown == 0 {
		t.Error("no built preview waited for the reset to be shown; the test no longer covers the pause")
	}
	for i, key := range others {
		if n := 101 + i; !h.readyComment(owner2, repo2, n) || !h.deployedOK(owner2, repo2, sha(n, 1)) {
			t.Errorf("%s of the other installation was held up by the pause", key)
		}
	}
	t.Logf("limit %d/h: paused at %v after %d requests, until %v; %d passes during the pause; %d previews built but not yet shown, %d not started",
		limit, pausedAt.Sub(start), atPause, until.Sub(start), pausedPasses, unshown, waiting)

	res = h.drive(keys, start.Add(4*time.Hour), nil)
	if res.left != 0 || res.errors != 0 {
		t.Fatalf("after the reset: %+v", res)
	}
	for n := 1; n <= 6; n++ {
		if !h.readyComment(owner, repo, n) || !h.deployedOK(owner, repo, sha(n, 1)) {
			t.Errorf("PR %d: comment ready %v, deployment success %v", n, h.readyComment(owner, repo, n), h.deployedOK(owner, repo, sha(n, 1)))
		}
	}
	if n := h.static.refused(instID); n > 1 {
		t.Errorf("GitHub refused %d requests in all", n)
	}
	t.Logf("in all: %d requests of the limited installation for 6 previews, %d refused", h.static.requests(instID), h.static.refused(instID))
}

// TestLongSecondaryLimitPausesAndTheDeploymentFollows: GitHub refuses the
// deployment with a secondary limit and a Retry-After of half an hour. The
// build goes on in the Cloud without a deployment; when the wait is over
// the deployment is created with its final status.
func TestLongSecondaryLimitPausesAndTheDeploymentFollows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tokenLimit: 5000})
	h.gh.Inject(ghsim.Fault{Status: http.StatusForbidden, RetryAfter: 30 * time.Minute, Method: "POST", PathContains: "/deployments"})
	start := h.clock.Now()
	key := h.open(7, nil)
	res := h.drive([]string{key}, start.Add(29*time.Minute), nil)
	if res.errors != 0 || res.left != 1 {
		t.Fatalf("during the wait: %+v", res)
	}
	until, paused := h.rec.Budgets.pausedUntil(instID)
	if !paused || !until.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("paused %v until %v, want until %v", paused, until, start.Add(30*time.Minute))
	}
	p := h.preview(key)
	if p.Status != store.StatusReady || p.DeploymentID != 0 || len(h.gh.Deployments(owner, repo)) != 0 {
		t.Fatalf("before the wait is over: %+v, deployments %d", p, len(h.gh.Deployments(owner, repo)))
	}
	before := h.static.requests(instID)
	if res = h.drive([]string{key}, start.Add(2*time.Hour), nil); res.errors != 0 || res.left != 0 {
		t.Fatalf("after the wait: %+v", res)
	}
	deps := h.gh.Deployments(owner, repo)
	if len(deps) != 1 || deps[0].Ref != sha(7, 1) || len(deps[0].Statuses) != 1 || latest(deps[0]) != "success" {
		t.Fatalf("deployments after the wait: %+v", deps)
	}
	if p := h.preview(key); p.DeploymentID != deps[0].ID {
		t.Errorf("deployment id %d not saved (%d)", p.DeploymentID, deps[0].ID)
	}
	if !h.readyComment(owner, repo, 7) {
		t.Errorf("comment after the wait:\n%s", h.sticky(7))
	}
	if got := h.static.requests(instID) - before; got > 6 {
		t.Errorf("%d requests to show the final state, want a handful", got)
	}
}

// TestRestartDuringPauseSendsNothing: the pause lives in the store. A new
// process reads it before its first GitHub call and sends nothing until the
// reset.
func TestRestartDuringPauseSendsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tokenLimit: 12})
	start := h.clock.Now()
	keys := []string{h.open(1, nil), h.open(2, nil)}
	h.drive(keys, start.Add(20*time.Minute), nil)
	if _, paused := h.rec.Budgets.pausedUntil(instID); !paused {
		t.Fatal("the installation never reached its limit")
	}
	h.restart()
	h.clock.Advance(5 * time.Minute) // past the configuration cache, which a new process lacks anyway
	before := h.static.requests(instID)
	res := h.drive(keys, start.Add(50*time.Minute), nil)
	if res.errors != 0 {
		t.Errorf("%d passes failed after the restart", res.errors)
	}
	if n := h.static.requests(instID) - before; n != 0 || h.static.refused(instID) != 0 {
		t.Errorf("after the restart: %d requests, %d refused; want none", n, h.static.refused(instID))
	}
	if res = h.drive(keys, start.Add(3*time.Hour), nil); res.left != 0 || res.errors != 0 {
		t.Fatalf("after the reset: %+v", res)
	}
	for n := 1; n <= 2; n++ {
		if !h.readyComment(owner, repo, n) || !h.deployedOK(owner, repo, sha(n, 1)) {
			t.Errorf("PR %d not shown after the reset", n)
		}
	}
}

// TestLowBudgetShowsOnlyFinalStates: with less than a tenth of the hourly
// budget left, a preview's progress edits and in_progress status are left
// out; its final comment and status are written as ever.
func TestLowBudgetShowsOnlyFinalStates(t *testing.T) {
	t.Parallel()
	const limit = 200
	h := newHarness(t, harnessOptions{tokenLimit: limit})

	h.openBuilt(1)
	normal := h.static.requests(instID)
	st := h.gh.Stats()
	if st.CommentUpdates == 0 || st.DeploymentStatusCreates != 2 {
		t.Fatalf("a preview with budget to spare: %+v", st)
	}

	h.static.spend(instID, owner, repo, limit-normal-limit/10+1) // leaves a tenth, less one
	h.clock.Advance(2 * configCacheTTL)                          // so that the first answer is the configuration's
	before := h.static.requests(instID)
	h.openBuilt(2)
	low := h.static.requests(instID) - before
	after := h.gh.Stats()
	if after.CommentUpdates != st.CommentUpdates || after.CommentCreates != st.CommentCreates+1 {
		t.Errorf("comment writes for the second preview: %d creates, %d edits; want the final one only",
			after.CommentCreates-st.CommentCreates, after.CommentUpdates-st.CommentUpdates)
	}
	var d ghsim.Deployment
	for _, x := range h.gh.Deployments(owner, repo) {
		if x.Ref == sha(2, 1) {
			d = x
		}
	}
	if len(d.Statuses) != 1 || latest(d) != "success" {
		t.Errorf("statuses of the second deployment: %+v, want success alone", d.Statuses)
	}
	if body := h.sticky(2); !strings.Contains(body, "is ready") {
		t.Errorf("final comment:\n%s", body)
	}
	if low >= normal {
		t.Errorf("requests per preview: %d with budget to spare, %d when short; want fewer", normal, low)
	}
	t.Logf("GitHub requests per preview: %d with budget to spare, %d when short of it", normal, low)
}

// TestCloseDuringPauseDeletesAtOnce: a PR closed while its installation
// waits out GitHub's limit loses its app in the Cloud at once; the comment
// and the deployments say so after the reset.
func TestCloseDuringPauseDeletesAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{tokenLimit: 12})
	start := h.clock.Now()
	keys := []string{h.open(1, nil), h.open(2, nil)}
	h.drive(keys, start.Add(20*time.Minute), nil)
	until, paused := h.rec.Budgets.pausedUntil(instID)
	if !paused {
		t.Fatal("the installation never reached its limit")
	}
	if _, ok := h.cloud.Project("shop-pr-1"); !ok {
		t.Fatal("PR 1 was not built before the pause")
	}
	before := h.static.requests(instID)
	h.update(1, func(pr *store.PullRequest) { pr.Closed = true })
	again, err := h.rec.Reconcile(h.ctx, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.cloud.Project("shop-pr-1"); ok {
		t.Fatal("the app of a PR closed during the pause is still running")
	}
	if n := h.static.requests(instID) - before; n != 0 {
		t.Fatalf("the delete during the pause made %d GitHub requests", n)
	}
	if wait := until.Sub(h.clock.Now()); again < wait {
		t.Fatalf("again = %v, want at least until the reset (%v) to show the deletion", again, wait)
	}
	if res := h.drive(keys[:1], start.Add(3*time.Hour), nil); res.left != 0 || res.errors != 0 {
		t.Fatalf("after the reset: %+v", res)
	}
	if body := h.sticky(1); !strings.Contains(body, "deleted") {
		t.Fatalf("the comment after the reset does not say deleted:\n%s", body)
	}
}
