package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

func TestLateSynchronizeDoesNotReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.expect(delivery{event: "pull_request", guid: "g1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "g2", body: fixture(t, "pull_request.closed.json")}, 202, "accepted")
		late := edit(t, fixture(t, "pull_request.synchronize.json"), 0, "1111111111111111111111111111111111111111", time.Time{})
		body := e.expect(delivery{event: "pull_request", guid: "g3", body: late}, 202, "accepted")
		if !strings.Contains(body["reason"], "older") {
			t.Fatalf("reason: %v", body)
		}
		pr := e.pr(key)
		if !pr.Closed || pr.HeadSHA == "1111111111111111111111111111111111111111" || pr.Generation != 2 {
			t.Fatalf("after a late synchronize: %+v", pr)
		}
	})
}

func TestBurstOfPushesLeavesOneJob(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		base := fixture(t, "pull_request.synchronize.json")
		t0 := time.Date(2019, 5, 15, 15, 20, 33, 0, time.UTC)
		for i := range 50 {
			body := edit(t, base, 0, fmt.Sprintf("%040x", i+1), t0.Add(time.Duration(i)*time.Second))
			e.expect(delivery{event: "pull_request", guid: fmt.Sprintf("push-%d", i), body: body}, 202, "accepted")
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs after 50 pushes: %v", s)
		}
		if pr := e.pr(key); pr.HeadSHA != fmt.Sprintf("%040x", 50) || pr.Generation != 50 {
			t.Fatalf("PR after 50 pushes: sha %s gen %d", pr.HeadSHA, pr.Generation)
		}
	})
}

func TestConcurrentDeliveries(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		base := fixture(t, "pull_request.opened.json")
		const n = 64
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// 48 distinct PRs, and 16 more deliveries for PR 1000.
				num := 1000 + i
				if i >= 48 {
					num = 1000
				}
				// One timestamp per PR: equal times all apply, so PR 1000 counts every delivery.
				body := edit(e.t, base, num, fmt.Sprintf("%040x", i+1), time.Date(2020, 1, 1, 0, 0, num-1000, 0, time.UTC))
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/webhook", bytes.NewReader(body))
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("c-%d", i))
				req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					errs <- fmt.Sprintf("%d %s", resp.StatusCode, b)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
		if got := len(e.deliveries()); got != n {
			t.Fatalf("%d deliveries recorded, want %d", got, n)
		}
		if s := e.jobs(); s["available"] != 48 {
			t.Fatalf("jobs: %v, want 48", s)
		}
		if pr := e.pr("Codertocat/Hello-World#1000"); pr.Generation != 17 {
			t.Fatalf("PR 1000 generation %d, want 17", pr.Generation)
		}
		if strings.Contains(e.logs.String(), "SQLITE_BUSY") || strings.Contains(e.logs.String(), "database is locked") {
			t.Fatal("SQLite reported busy")
		}
	})
}

func TestUninstallMarksThenForgets(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.expect(delivery{event: "installation", guid: "i1", body: fixture(t, "installation.created.json")}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "p1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
		inst, err := storetest.Installation(ctx, e.st, 1)
		if err != nil || inst.Account != "Codertocat" || len(inst.Repositories) != 2 {
			t.Fatalf("installation: %+v %v", inst, err)
		}
		if err := e.st.SavePreview(ctx, &store.Preview{Key: key, Status: store.StatusReady}); err != nil {
			t.Fatal(err)
		}
		e.expect(delivery{event: "installation", guid: "i2", body: fixture(t, "installation.deleted.json")}, 202, "accepted")
		pr := e.pr(key)
		if !pr.Uninstalled || pr.Generation != 2 {
			t.Fatalf("PR after uninstall: %+v", pr)
		}
		if live, _ := e.st.ListPreviews(ctx, store.PreviewFilter{InstallationID: 1, ActiveOnly: true}); len(live) != 1 {
			t.Fatalf("the live preview must stay listed until the reconciler deletes it: %d", len(live))
		}
		// The reconciler deletes the preview, then forgets the installation.
		if err := e.q.ForgetInstallation(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.GetPR(ctx, key); err == nil {
			t.Fatal("PR still recorded")
		}
		if s := e.jobs(); s["available"] != 0 || s["cancelled"] != 1 {
			t.Fatalf("jobs after forgetting: %v", s)
		}
	})
}

func TestRepositoryRemovedMarksItsPRs(t *testing.T) {
	e := sqliteEnv(t)
	e.expect(delivery{event: "installation", guid: "i1", body: fixture(t, "installation.created.json")}, 202, "accepted")
	e.expect(delivery{event: "pull_request", guid: "p1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")
	e.expect(delivery{event: "installation_repositories", guid: "r1", body: fixture(t, "installation_repositories.removed.json")}, 202, "accepted")
	if pr := e.pr(key); !pr.Uninstalled {
		t.Fatal("PR of a removed repository not marked")
	}
	inst, _ := storetest.Installation(context.Background(), e.st, 1)
	if len(inst.Repositories) != 1 || inst.Repositories[0] != "Codertocat/Other" {
		t.Fatalf("repositories: %v", inst.Repositories)
	}
}

func TestCommentCommands(t *testing.T) {
	e := sqliteEnv(t)
	e.expect(delivery{event: "issue_comment", guid: "c1", body: fixture(t, "issue_comment.created.rebuild.json")}, 202, "accepted")
	pr := e.pr(key)
	if pr.Command == nil || pr.Command.Kind != store.CommandRebuild || pr.Command.Actor != "Codertocat" || pr.Command.CommentID != 492700400 || pr.HeadSHA != "" {
		t.Fatalf("command from a comment before any PR event: %+v %+v", pr, pr.Command)
	}
	if s := e.jobs(); s["available"] != 1 {
		t.Fatalf("jobs: %v", s)
	}
	e.expect(delivery{event: "issue_comment", guid: "c2", body: fixture(t, "issue_comment.created.on_issue.json")}, 202, "ignored")
	if _, err := e.st.GetPR(context.Background(), "Codertocat/Hello-World#1"); err == nil {
		t.Fatal("a comment on an issue made a PR")
	}

	ctx := context.Background()
	if ok, err := e.st.ClearCommand(ctx, key, pr.Command.At); err != nil || !ok {
		t.Fatal(ok, err)
	}
	box := fixture(t, "issue_comment.edited.checkbox.json")
	e.expect(delivery{event: "issue_comment", guid: "c3", body: box}, 202, "accepted")
	if pr := e.pr(key); pr.Command == nil || pr.Command.Kind != store.CommandRebuild || pr.Command.Actor != "Codertocat" || pr.Command.CommentID != 1500000001 {
		t.Fatalf("checkbox command: %+v", pr.Command)
	}
	// Our bot clearing the tick, or a box in someone else's comment, does nothing.
	byBot := bytes.Replace(box, []byte(`"sender": {
    "login": "Codertocat"`), []byte(`"sender": {
    "login": "hasura-preview[bot]"`), 1)
	if bytes.Equal(byBot, box) {
		t.Fatal("fixture shape changed: sender not found")
	}
	e.expect(delivery{event: "issue_comment", guid: "c4", body: byBot}, 202, "ignored")
	notOurs := bytes.ReplaceAll(box, []byte("hasura-preview:comment"), []byte("someone-else"))
	e.expect(delivery{event: "issue_comment", guid: "c5", body: notOurs}, 202, "ignored")
	if pr := e.pr(key); pr.Generation != 2 {
		t.Fatalf("generation %d, want 2 (two commands)", pr.Generation)
	}
}

// Headers are not signed: stray bytes in X-GitHub-Delivery or X-GitHub-Event
// must not make a delivery unstorable (500, redelivered for nothing) on
// PostgreSQL, whose text refuses invalid UTF-8.
func TestInvalidUTF8InHeadersIsStored(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		opened := delivery{event: "pull_request", guid: "g\xfe-opened", body: fixture(t, "pull_request.opened.json")}
		e.expect(opened, 202, "accepted")
		e.expect(opened, 200, "duplicate")
		e.expect(delivery{event: "made\xff-up", guid: "g-other", body: []byte(`{}`)}, 202, "ignored")
		if got := e.deliveries(); len(got) != 2 {
			t.Fatalf("deliveries: %+v", got)
		}
	})
}
