package ghreport_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const commentsPath = "/issues/7/comments"

func TestUpdateCreatesThenEditsInPlace(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t)
	ctx := context.Background()

	if err := r.Update(ctx, view(preview.StatusCreating, running("create-project"))); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	if err := r.Update(ctx, view(preview.StatusDeploying, running("apply-metadata"))); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	final := view(preview.StatusSuccess)
	if err := r.Update(ctx, final); err != nil {
		t.Fatal(err)
	}
	// The same view again sends nothing.
	if err := r.Update(ctx, final); err != nil {
		t.Fatal(err)
	}

	got := e.marked(ghreport.Marker)
	if len(got) != 1 {
		t.Fatalf("want 1 sticky comment, got %d", len(got))
	}
	if got[0].Body != ghreport.Render(final) || got[0].User != botLogin {
		t.Errorf("comment is not the final rendering by the bot:\n%s", got[0].Body)
	}
	st := e.sim.Stats()
	if st.CommentCreates != 1 || st.CommentUpdates != 2 {
		t.Errorf("creates=%d updates=%d, want 1 and 2", st.CommentCreates, st.CommentUpdates)
	}
	// Listed before creating and once after (the duplicate check), then
	// remembered: progress edits do not list again.
	if n := e.sim.CountRequests("GET", commentsPath); n != 2 {
		t.Errorf("listed comments %d times, want 2", n)
	}
	if r.CommentID() != got[0].ID {
		t.Errorf("CommentID = %d, want %d", r.CommentID(), got[0].ID)
	}
}

// TestUpdateFindsOursBehindOthers: 250 comments from others with ours on
// page 3 (per_page 100) must be found and edited, not duplicated.
func TestUpdateFindsOursBehindOthers(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	var ours int64
	for i := range 250 {
		switch i {
		case 120:
			// Quotes our marker but does not open with it: not ours.
			e.sim.AddComment(owner, repoName, prNumber, "alice", "what does "+ghreport.Marker+" mean?")
		case 230:
			ours = e.sim.AddComment(owner, repoName, prNumber, botLogin, ghreport.Marker+"\nold body")
		default:
			e.sim.AddComment(owner, repoName, prNumber, fmt.Sprintf("user%d", i%7), fmt.Sprintf("comment %d", i))
		}
	}
	r := e.reporter(t)
	v := view(preview.StatusSuccess)
	if err := r.Update(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	all := e.sim.Comments(owner, repoName, prNumber)
	if len(all) != 250 {
		t.Errorf("comment count went from 250 to %d", len(all))
	}
	st := e.sim.Stats()
	if st.CommentCreates != 0 || st.CommentUpdates != 1 {
		t.Errorf("creates=%d updates=%d, want 0 and 1", st.CommentCreates, st.CommentUpdates)
	}
	for _, c := range all {
		if c.ID == ours && c.Body != ghreport.Render(v) {
			t.Errorf("our comment was not edited: %q", c.Body)
		}
	}
	if n := e.sim.CountRequests("GET", commentsPath); n != 3 {
		t.Errorf("listed %d pages, want 3", n)
	}
}

func TestCommentAuthorFilter(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	// Someone pasted our marker at the top of their own comment.
	forged := e.sim.AddComment(owner, repoName, prNumber, "mallory", ghreport.Marker+"\nfake")
	r := e.reporter(t, ghreport.WithCommentAuthor(botLogin))
	if err := r.Update(context.Background(), view(preview.StatusSuccess)); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.sim.Comments(owner, repoName, prNumber) {
		if c.ID == forged && c.Body != ghreport.Marker+"\nfake" {
			t.Errorf("edited mallory's comment")
		}
	}
	if r.CommentID() == forged || r.CommentID() == 0 {
		t.Errorf("CommentID = %d, want a new comment of our own", r.CommentID())
	}
}

// TestConcurrentUpdatesLeaveOneComment races two Reporters (two workflow
// runs of one PR, separate clients, no shared gate). The simulator holds
// each comment creation until both have arrived, so both runs have looked,
// found nothing and created: the race happens every time, and the loser
// must delete its own comment.
func TestConcurrentUpdatesLeaveOneComment(t *testing.T) {
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var (
				mu      sync.Mutex
				creates int
				both    = make(chan struct{})
			)
			e := newEnv(t, ghsim.Options{OnWrite: func(method, path string) {
				if method != "POST" || !strings.HasSuffix(path, commentsPath) {
					return
				}
				mu.Lock()
				creates++
				if creates == 2 {
					close(both)
				}
				n := creates
				mu.Unlock()
				if n <= 2 {
					<-both
				}
			}})
			a, b := e.reporter(t), e.reporter(t)
			va, vb := view(preview.StatusSuccess), view(preview.StatusFailed)
			vb.SHA = strings.Repeat("b", 40)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() { errs[0] = a.Update(context.Background(), va) })
			wg.Go(func() { errs[1] = b.Update(context.Background(), vb) })
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got := e.marked(ghreport.Marker)
			if len(got) != 1 {
				t.Fatalf("want exactly one sticky comment, got %d", len(got))
			}
			st := e.sim.Stats()
			if st.CommentCreates != 2 || st.CommentDeletes != 1 {
				t.Errorf("creates=%d deletes=%d: the race did not happen as staged", st.CommentCreates, st.CommentDeletes)
			}
			if a.CommentID() != got[0].ID || b.CommentID() != got[0].ID {
				t.Errorf("reporters point at %d and %d, survivor is %d", a.CommentID(), b.CommentID(), got[0].ID)
			}
			if body := got[0].Body; body != ghreport.Render(va) && body != ghreport.Render(vb) {
				t.Errorf("survivor holds neither run's body")
			}
		})
	}
}

func TestProgressEditsAreRateLimited(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t) // default minimum interval: 10 s
	ctx := context.Background()
	edits := func() int { return e.sim.Stats().CommentCreates + e.sim.Stats().CommentUpdates }

	must(t, r.Update(ctx, view(preview.StatusCreating, running("a"))))
	e.clk.Advance(3 * time.Second)
	must(t, r.Update(ctx, view(preview.StatusCreating, running("b"))))
	e.clk.Advance(3 * time.Second)
	held := view(preview.StatusDeploying, running("c"))
	must(t, r.Update(ctx, held))
	if n := edits(); n != 1 {
		t.Fatalf("progress within 10 s of the last edit was written: %d writes", n)
	}
	if !r.Pending() {
		t.Fatal("held-back view not remembered")
	}
	must(t, r.Flush(ctx))
	if got := e.marked(ghreport.Marker); len(got) != 1 || got[0].Body != ghreport.Render(held) {
		t.Fatalf("Flush did not write the held-back view")
	}
	if r.Pending() {
		t.Error("still pending after Flush")
	}

	// Right after that edit, a final view is written all the same.
	e.clk.Advance(time.Second)
	final := view(preview.StatusFailed)
	must(t, r.Update(ctx, final))
	if got := e.marked(ghreport.Marker); got[0].Body != ghreport.Render(final) {
		t.Errorf("final view not written")
	}

	// After the interval, progress is written again.
	e.clk.Advance(10 * time.Second)
	must(t, r.Update(ctx, view(preview.StatusCreating, running("d"))))
	if n := edits(); n != 4 {
		t.Errorf("writes = %d, want 4 (create, flush, final, late progress)", n)
	}
}

func TestDeletedCommentIsRecreated(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t)
	ctx := context.Background()
	must(t, r.Update(ctx, view(preview.StatusCreating, running("a"))))
	first := r.CommentID()

	// A maintainer deletes it.
	if _, err := e.client(t, botToken).Issues.DeleteComment(ctx, owner, repoName, first); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	v := view(preview.StatusSuccess)
	must(t, r.Update(ctx, v))
	got := e.marked(ghreport.Marker)
	if len(got) != 1 || got[0].Body != ghreport.Render(v) {
		t.Fatalf("want one re-created comment with the new body, got %d", len(got))
	}
	if got[0].ID == first || r.CommentID() != got[0].ID {
		t.Errorf("ids: first %d, now %d, reporter %d", first, got[0].ID, r.CommentID())
	}
}

func TestOversizedBodyIsTruncated(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	r := e.reporter(t)
	ctx := context.Background()
	for i, size := range []int{90000, 300000} {
		v := view(preview.StatusFailed, preview.TaskState{
			Job: preview.JobDeployment, Name: "apply-migration", State: preview.TaskFailed,
			Error: strings.Repeat(fmt.Sprintf("ERROR %d: relation does not exist\n", i), size/32),
		})
		must(t, r.Update(ctx, v))
	}
	got := e.marked(ghreport.Marker)
	if len(got) != 1 {
		t.Fatalf("want one comment, got %d", len(got))
	}
	body := got[0].Body
	if !strings.HasPrefix(body, ghreport.Marker) || !strings.Contains(body, "app-pr-7.hasura.app") ||
		!strings.Contains(body, "failed") || !strings.Contains(body, "shortened") {
		t.Errorf("truncated body lost its marker, endpoint, status or note")
	}
	if !strings.Contains(body, "ERROR 1") {
		t.Errorf("second update not written")
	}
}

func TestRedact(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	const secret = "hunter2-secret"
	r := e.reporter(t, ghreport.WithRedact(func(s string) string { return strings.ReplaceAll(s, secret, "***") }))
	v := view(preview.StatusFailed, preview.TaskState{Name: "x", State: preview.TaskFailed, Error: "auth failed for " + secret})
	must(t, r.Update(context.Background(), v))
	for _, req := range e.sim.Requests() {
		if strings.Contains(req.Body, secret) {
			t.Fatalf("%s %s sent the secret", req.Method, req.Path)
		}
	}
	if got := e.marked(ghreport.Marker); len(got) != 1 || !strings.Contains(got[0].Body, "auth failed for ***") {
		t.Errorf("redacted body not written")
	}
}

// TestWriteGate: Reporters for different PRs of one installation sharing a
// gate never have two content writes in flight.
func TestWriteGate(t *testing.T) {
	e := newEnv(t, ghsim.Options{OnWrite: func(string, string) {
		// Hold each write open long enough for an ungated one to overlap.
		time.Sleep(5 * time.Millisecond)
	}})
	for n := 8; n <= 12; n++ {
		e.sim.AddPull(owner, repoName, ghsim.PullSpec{Number: n})
	}
	gate := ghreport.NewWriteGate()
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		r := ghreport.New(e.client(t, botToken), owner, repoName, 8+i,
			ghreport.WithWriteGate(gate), ghreport.WithClock(e.clk.Now), ghreport.WithSleep(e.slp.Sleep))
		wg.Go(func() {
			if errs[i] = r.Update(context.Background(), view(preview.StatusCreating)); errs[i] != nil {
				return
			}
			errs[i] = r.Update(context.Background(), view(preview.StatusSuccess))
		})
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	st := e.sim.Stats()
	if st.CommentCreates != 5 || st.CommentUpdates != 5 {
		t.Errorf("creates=%d updates=%d, want 5 and 5", st.CommentCreates, st.CommentUpdates)
	}
	if st.MaxConcurrentWrites != 1 {
		t.Errorf("%d content writes in flight at once, want 1", st.MaxConcurrentWrites)
	}
}

func TestWriteGateHonoursContext(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	gate := ghreport.NewWriteGate()
	gate <- struct{}{} // someone else is writing
	r := e.reporter(t, ghreport.WithWriteGate(gate))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Update(ctx, view(preview.StatusSuccess)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := e.sim.Stats().Requests; n != 0 {
		t.Errorf("%d requests made without the gate", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateExistingWritesOnlyOverOurComment: news of a deletion goes to a
// PR that has our comment and nowhere else (a PR that never had a preview
// gets no "deleted" comment).
func TestUpdateExistingWritesOnlyOverOurComment(t *testing.T) {
	e := newEnv(t, ghsim.Options{})
	ctx := context.Background()
	deleted := view(preview.StatusDeleted)

	wrote, err := e.reporter(t).UpdateExisting(ctx, deleted)
	if err != nil || wrote {
		t.Fatalf("UpdateExisting without a comment = %v, %v; want false, nil", wrote, err)
	}
	if got := e.marked(ghreport.Marker); len(got) != 0 {
		t.Fatalf("UpdateExisting created %d comments", len(got))
	}

	if err := e.reporter(t).Update(ctx, view(preview.StatusSuccess)); err != nil {
		t.Fatal(err)
	}
	wrote, err = e.reporter(t).UpdateExisting(ctx, deleted)
	if err != nil || !wrote {
		t.Fatalf("UpdateExisting over our comment = %v, %v; want true, nil", wrote, err)
	}
	got := e.marked(ghreport.Marker)
	if len(got) != 1 || got[0].Body != ghreport.Render(deleted) {
		t.Fatalf("want our one comment to show the deletion, got %d comments", len(got))
	}
}
