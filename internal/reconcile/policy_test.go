package reconcile

import (
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func TestDraftAndLabelPolicyIsLevelTriggered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: baseConfig + "policy:\n  skip_drafts: true\n  require_label: preview\n"})
	key := h.open(7, func(s *ghsim.PullSpec) { s.Draft = true })
	h.mustSettle(key)
	if h.creates() != 0 || len(h.ourComments(7)) != 0 {
		t.Fatalf("a draft got a preview or a comment: creates %d, comments %d", h.creates(), len(h.ourComments(7)))
	}
	h.update(7, func(pr *store.PullRequest) { pr.Draft = false })
	h.mustSettle(key)
	if h.creates() != 0 {
		t.Fatal("built without the required label")
	}
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"Preview"} })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 1 {
		t.Fatalf("with the label: %+v, creates %d", p, h.creates())
	}
	// Another label changes nothing: same head, already built.
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"Preview", "bug"} })
	h.mustSettle(key)
	if h.creates() != 1 {
		t.Fatalf("an unrelated label rebuilt: creates %d", h.creates())
	}
	// Back to draft: the preview goes, and the comment says why.
	h.update(7, func(pr *store.PullRequest) { pr.Draft = true })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusDeleted || len(h.cloud.Projects()) != 0 {
		t.Fatalf("after converting to draft: %+v", p)
	}
	if body := h.sticky(7); !strings.Contains(body, "Draft pull requests get no preview") {
		t.Fatalf("comment:\n%s", body)
	}
	// Ready again, but the label is removed: still nothing.
	h.update(7, func(pr *store.PullRequest) { pr.Draft, pr.Labels = false, []string{"bug"} })
	h.mustSettle(key)
	if h.creates() != 1 {
		t.Fatalf("built without the label: creates %d", h.creates())
	}
	if body := h.sticky(7); !strings.Contains(body, `label is required`) {
		t.Fatalf("comment:\n%s", body)
	}
}

func TestForkIsSkipped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.open(7, func(s *ghsim.PullSpec) { s.HeadOwner, s.HeadRepo = "mallory", "shop" })
	h.mustSettle(key)
	if h.creates() != 0 || len(h.ourComments(7)) != 0 || len(h.gh.MintedTokens()) > 1 {
		t.Fatalf("a fork was built or commented on: creates %d, comments %d, tokens %d",
			h.creates(), len(h.ourComments(7)), len(h.gh.MintedTokens()))
	}
}

func TestOnlyWhenChangedListsFiles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{config: baseConfig + "policy:\n  only_when_changed: true\n"})
	key := h.open(7, func(s *ghsim.PullSpec) { s.Files = []string{"docs/readme.md", "hasura2/x.yaml"} })
	h.mustSettle(key)
	if h.creates() != 0 {
		t.Fatal("built although nothing under hasura/ changed")
	}
	h.gh.UpdatePull(owner, repo, 7, func(s *ghsim.PullSpec) { s.Files = []string{"docs/readme.md", "hasura/metadata/tables.yaml"} })
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 1 {
		t.Fatalf("after a change under hasura/: %+v, creates %d", p, h.creates())
	}
}
