package reconcile

import (
	"os"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

const reviewFixtures = "../apireview/testdata/nextjs-13/"

func seedProject(t *testing.T, sim *ghsim.Server, branch, dir string) {
	t.Helper()
	if err := sim.SetDir(owner, repo, branch, "hasura", os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}

// TestAPIReviewInTheComment: the service reviews the head against the
// base branch with the installation's token, one archive per side; the
// section is in the comment while the build runs and after it failed,
// and a later pass on the same head does not fetch again.
func TestAPIReviewInTheComment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	seedProject(t, h.gh, "main", reviewFixtures+"base")
	seedProject(t, h.gh, "feature-7", reviewFixtures+"head")
	b, hd := apireview.LoadPair(os.DirFS(reviewFixtures+"base"), os.DirFS(reviewFixtures+"head"), apireview.Limits{})
	summary := apireview.Diff(b, hd, apireview.Options{}).Summary
	h.cloud.FailTask("shop-pr-7", "apply-migration", "relation already exists", "")

	key := h.openBuilt(7)
	if p := h.preview(key); p.Status != store.StatusFailed {
		t.Fatalf("preview: %+v", p)
	}
	body := h.sticky(7)
	if !strings.Contains(body, "failed") || !strings.Contains(body, "### API changes") || !strings.Contains(body, summary) {
		t.Fatalf("comment of the failed build:\n%s", body)
	}
	var first string
	for _, rq := range h.gh.Requests() {
		if rq.Method == "POST" && strings.HasSuffix(rq.Path, "/issues/7/comments") {
			first = rq.Body
			break
		}
	}
	if !strings.Contains(first, "building") || !strings.Contains(first, summary) {
		t.Errorf("the first comment (build under way) lacks the section:\n%s", first)
	}
	if n := h.gh.CountRequests("GET", "/tarball/"); n != 2 {
		t.Errorf("%d archive requests, want 2", n)
	}

	// A rebuild of the same head reuses the review.
	h.command(7, store.CommandRebuild, "alice", 0)
	h.mustSettle(key)
	if h.creates() != 2 {
		t.Fatalf("creates %d, want a rebuild", h.creates())
	}
	if n := h.gh.CountRequests("GET", "/tarball/"); n != 2 || !strings.Contains(h.sticky(7), summary) {
		t.Errorf("%d archive requests after a rebuild of the same head, want 2", n)
	}
}
