package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func (h *harness) pendingCommand(key string) *store.Command {
	h.t.Helper()
	pr, err := h.st.GetPR(h.ctx, key)
	if err != nil {
		h.t.Fatal(err)
	}
	return pr.Command
}

func (h *harness) replies(n int) []string {
	var out []string
	for _, c := range h.ourComments(n) {
		if !strings.HasPrefix(c.Body, ghreport.Marker) {
			out = append(out, c.Body)
		}
	}
	return out
}

func TestRebuildCommandByWriterRebuildsSameSHA(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	id := h.gh.AddComment(owner, repo, 7, "alice", "/preview rebuild")
	h.command(7, store.CommandRebuild, "alice", id)
	h.mustSettle(key)
	if h.creates() != 2 {
		t.Fatalf("creates = %d, want a second build at the same commit", h.creates())
	}
	if p := h.preview(key); p.Status != store.StatusReady || p.BuiltSHA != sha(7, 1) {
		t.Fatalf("preview: %+v", p)
	}
	if c := h.pendingCommand(key); c != nil {
		t.Fatalf("command not cleared: %+v", c)
	}
	if d := h.gh.Deployments(owner, repo); len(d) != 2 || latest(d[0]) != "inactive" || latest(d[1]) != "success" {
		t.Fatalf("deployments after the rebuild: %d", len(d))
	}
	if r := h.replies(7); len(r) != 0 {
		t.Fatalf("unexpected replies: %q", r)
	}
	// The user's own comment is left alone.
	for _, c := range h.gh.Comments(owner, repo, 7) {
		if c.ID == id && c.Body != "/preview rebuild" {
			t.Fatalf("the command comment was edited: %q", c.Body)
		}
	}
}

func TestRebuildCommandByReaderIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	id := h.gh.AddComment(owner, repo, 7, "bob", "/preview rebuild")
	h.command(7, store.CommandRebuild, "bob", id)
	h.mustSettle(key)
	if h.creates() != 1 {
		t.Fatalf("a reader's command rebuilt: creates %d", h.creates())
	}
	r := h.replies(7)
	if len(r) != 1 || !strings.Contains(r[0], "@bob, only people with write access") || !strings.Contains(r[0], "rebuild") {
		t.Fatalf("replies: %q", r)
	}
	if c := h.pendingCommand(key); c != nil {
		t.Fatalf("command not cleared: %+v", c)
	}
	h.mustSettle(key)
	if len(h.replies(7)) != 1 {
		t.Fatal("the refusal was repeated")
	}
}

// tick edits our comment the way GitHub does when someone clicks the box.
func (h *harness) tick(n int) int64 {
	h.t.Helper()
	var id int64
	var body string
	for _, c := range h.ourComments(n) {
		if strings.HasPrefix(c.Body, ghreport.Marker) {
			id, body = c.ID, c.Body
		}
	}
	ticked := strings.Replace(body, "- [ ] Rebuild this preview", "- [x] Rebuild this preview", 1)
	if !ghreport.ParseRebuildTicked(ticked) {
		h.t.Fatalf("no checkbox to tick in:\n%s", body)
	}
	gh, err := h.app.Installation(h.ctx, instID)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, _, err := gh.Issues.EditComment(h.ctx, owner, repo, id, &github.IssueComment{Body: github.String(ticked)}); err != nil {
		h.t.Fatal(err)
	}
	return id
}

func TestCheckboxTickRebuildsAndIsCleared(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.command(7, store.CommandRebuild, "alice", h.tick(7))
	h.mustSettle(key)
	if h.creates() != 2 {
		t.Fatalf("creates = %d, want 2", h.creates())
	}
	if body := h.sticky(7); ghreport.ParseRebuildTicked(body) || !strings.Contains(body, "- [ ] Rebuild this preview") {
		t.Fatalf("the box is still ticked:\n%s", body)
	}

	// A reader's tick is refused and cleared all the same.
	h.command(7, store.CommandRebuild, "bob", h.tick(7))
	h.mustSettle(key)
	if h.creates() != 2 {
		t.Fatalf("a reader's tick rebuilt: creates %d", h.creates())
	}
	if body := h.sticky(7); ghreport.ParseRebuildTicked(body) {
		t.Fatalf("the reader's tick was left:\n%s", body)
	}
	if r := h.replies(7); len(r) != 1 || !strings.Contains(r[0], "@bob") {
		t.Fatalf("replies: %q", r)
	}
}

func TestDeleteCommandHoldsUntilPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.command(7, store.CommandDelete, "alice", h.gh.AddComment(owner, repo, 7, "alice", "/preview delete"))
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusDeleted || len(h.cloud.Projects()) != 0 {
		t.Fatalf("after /preview delete: %+v", p)
	}
	if body := h.sticky(7); !strings.Contains(body, "Deleted on request by alice") {
		t.Fatalf("comment:\n%s", body)
	}
	// A label does not bring it back; a push does.
	h.update(7, func(pr *store.PullRequest) { pr.Labels = []string{"bug"} })
	h.mustSettle(key)
	if h.creates() != 1 {
		t.Fatalf("a label rebuilt a deleted preview: creates %d", h.creates())
	}
	h.update(7, func(pr *store.PullRequest) { pr.HeadSHA = sha(7, 2) })
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || h.creates() != 2 {
		t.Fatalf("after a push: %+v", p)
	}
}

func TestDeleteCommandByReaderIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	h.command(7, store.CommandDelete, "bob", h.gh.AddComment(owner, repo, 7, "bob", "/preview delete"))
	h.mustSettle(key)
	if p := h.preview(key); p.Status != store.StatusReady || len(h.cloud.Projects()) != 1 {
		t.Fatalf("a reader deleted the preview: %+v", p)
	}
	if r := h.replies(7); len(r) != 1 || !strings.Contains(r[0], "can delete this preview") {
		t.Fatalf("replies: %q", r)
	}
}

func TestCommandBeforeAnyPullRequestEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.gh.AddPull(owner, repo, ghsimPull(7))
	// Only a comment was delivered: the row has no head yet.
	pr := &store.PullRequest{Key: store.PRKey(owner, repo, 7), InstallationID: instID, BaseOwner: owner, BaseRepo: repo, Number: 7}
	h.prs[7] = pr
	h.command(7, store.CommandRebuild, "alice", h.gh.AddComment(owner, repo, 7, "alice", "/preview rebuild"))
	h.mustSettle(pr.Key)
	p := h.preview(pr.Key)
	if p.Status != store.StatusReady || p.BuiltSHA != sha(7, 1) || h.creates() != 1 {
		t.Fatalf("preview: %+v", p)
	}
	stored, err := h.st.GetPR(h.ctx, pr.Key)
	if err != nil || stored.HeadSHA != sha(7, 1) || stored.Branch != "feature-7" {
		t.Fatalf("the head was not recorded: %+v %v", stored, err)
	}
}

// TestRefusedCommandsAreThrottled: anyone can comment on a public PR; each
// refused command must not make the bot post again. One reply per user per
// PR per hour, a reaction otherwise, and the hour holds across a restart.
func TestRefusedCommandsAreThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	key := h.openBuilt(7)
	var ids []int64
	for i := range 5 {
		if i == 3 {
			h.restart() // a new process (or another replica) remembers
		}
		id := h.gh.AddComment(owner, repo, 7, "bob", "/preview delete")
		ids = append(ids, id)
		h.command(7, store.CommandDelete, "bob", id)
		h.mustSettle(key)
		h.clock.Advance(time.Minute)
	}
	if r := h.replies(7); len(r) != 1 {
		t.Fatalf("%d replies to five refused commands within the hour, want 1: %q", len(r), r)
	}
	reacted := 0
	for _, c := range h.gh.Comments(owner, repo, 7) {
		for _, x := range c.Reactions {
			if x.User == bot && x.Content == "-1" {
				reacted++
			}
		}
	}
	if reacted != 4 {
		t.Errorf("%d refused commands got a reaction, want 4", reacted)
	}
	// Another user still gets an answer, and bob again after the hour.
	h.command(7, store.CommandDelete, "carol", h.gh.AddComment(owner, repo, 7, "carol", "/preview delete"))
	h.mustSettle(key)
	h.clock.Advance(time.Hour)
	h.command(7, store.CommandDelete, "bob", h.gh.AddComment(owner, repo, 7, "bob", "/preview delete"))
	h.mustSettle(key)
	if r := h.replies(7); len(r) != 3 {
		t.Fatalf("replies: %q", r)
	}
	if h.preview(key).Status != store.StatusReady {
		t.Fatalf("a refused delete deleted")
	}
}
