package webhook_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// Headers are not signed; these tests post signed payloads under headers
// an attacker chose.

// TestReplayUnderNewGUID: a captured signed payload posted again under a
// new X-GitHub-Delivery, from any claimed source, is a duplicate: no second
// generation, no second job.
func TestReplayUnderNewGUID(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		body := fixture(t, "pull_request.synchronize.json")
		e.expect(delivery{event: "pull_request", guid: "original", body: body}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "replay-1", body: body}, 200, "duplicate")
		e.expect(delivery{event: "pull_request", guid: "replay-2", body: body, header: map[string]string{
			"X-GitHub-Hook-ID": "1", "X-GitHub-Hook-Installation-Target-ID": "777"}}, 200, "duplicate")
		if pr := e.pr(key); pr.Generation != 1 {
			t.Fatalf("generation %d after two replays, want 1", pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
		if d := e.deliveries(); len(d) != 1 || d[0].GUID != "original" || d[0].Redeliveries != 2 {
			t.Fatalf("deliveries: %+v", d)
		}
	})
}

// reencode returns the same JSON document with other bytes (another
// key order and spacing): another body, same comment.
func reencode(t *testing.T, body []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(m)
	}
	out, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommandOncePerComment: a command is taken once per signed comment
// id, whatever body and GUID it arrives with; a tick of the rebuild box is
// taken once per edit of the comment.
func TestCommandOncePerComment(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		created := fixture(t, "issue_comment.created.rebuild.json")
		e.expect(delivery{event: "issue_comment", guid: "c1", body: created}, 202, "accepted")
		body := e.expect(delivery{event: "issue_comment", guid: "c2", body: reencode(t, created, nil)}, 200, "duplicate")
		if !strings.Contains(body["reason"], "492700400") {
			t.Fatalf("reason %q does not name the comment", body["reason"])
		}
		if pr := e.pr(key); pr.Generation != 1 {
			t.Fatalf("generation %d, want 1 (one command)", pr.Generation)
		}

		box := fixture(t, "issue_comment.edited.checkbox.json")
		e.expect(delivery{event: "issue_comment", guid: "b1", body: box}, 202, "accepted")
		e.expect(delivery{event: "issue_comment", guid: "b2", body: reencode(t, box, nil)}, 200, "duplicate")
		later := reencode(t, box, func(m map[string]any) {
			m["comment"].(map[string]any)["updated_at"] = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		})
		e.expect(delivery{event: "issue_comment", guid: "b3", body: later}, 202, "accepted")
		if pr := e.pr(key); pr.Generation != 3 {
			t.Fatalf("generation %d, want 3 (the comment and two ticks)", pr.Generation)
		}
		if s := e.jobs(); s["available"] != 1 {
			t.Fatalf("jobs: %v", s)
		}
	})
}

// TestPayloadMustMatchEvent: X-GitHub-Event is unsigned, so a signed
// payload of one event posted as another is refused, above all as an
// uninstall.
func TestPayloadMustMatchEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.expect(delivery{event: "installation", guid: "i1", body: fixture(t, "installation.created.json")}, 202, "accepted")
		e.expect(delivery{event: "pull_request", guid: "p1", body: fixture(t, "pull_request.opened.json")}, 202, "accepted")

		// A comment deleted on any PR of the installation: "action": "deleted".
		commentDeleted := reencode(t, fixture(t, "issue_comment.created.rebuild.json"), func(m map[string]any) { m["action"] = "deleted" })
		prClosed := fixture(t, "pull_request.closed.json")
		uninstall := fixture(t, "installation.deleted.json")
		removed := fixture(t, "installation_repositories.removed.json")
		review := reencode(t, fixture(t, "pull_request.opened.json"), func(m map[string]any) {
			m["action"], m["review"] = "edited", map[string]any{"id": 1, "body": "lgtm"}
		})
		for _, c := range []struct {
			name, event string
			body        []byte
		}{
			{"issue_comment deleted as installation", "installation", commentDeleted},
			{"issue_comment deleted as installation_repositories", "installation_repositories", commentDeleted},
			{"pull_request closed as installation", "installation", prClosed},
			{"installation deleted as installation_repositories", "installation_repositories", uninstall},
			{"installation_repositories removed as installation", "installation", removed},
			{"installation deleted as issue_comment", "issue_comment", uninstall},
			{"issue_comment as pull_request", "pull_request", commentDeleted},
			{"pull_request_review edited as pull_request", "pull_request", review},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.t = t
				e.expect(delivery{event: c.event, guid: "x-" + c.name, body: c.body}, 400, "rejected")
			})
		}
		e.t = t
		if pr := e.pr(key); pr.Uninstalled || pr.Closed || pr.Generation != 1 {
			t.Fatalf("the PR after mismatched payloads: %+v", pr)
		}
		if inst, err := storetest.Installation(ctx, e.st, 1); err != nil || inst.Deleted || len(inst.Repositories) != 2 {
			t.Fatalf("the installation after mismatched payloads: %+v %v", inst, err)
		}
		// The real ones still work.
		e.expect(delivery{event: "installation_repositories", guid: "r1", body: removed}, 202, "accepted")
		e.expect(delivery{event: "installation", guid: "i2", body: uninstall}, 202, "accepted")
		if pr := e.pr(key); !pr.Uninstalled {
			t.Fatalf("the PR after a real uninstall: %+v", pr)
		}
	})
}
