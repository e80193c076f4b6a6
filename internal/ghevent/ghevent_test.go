package ghevent_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghevent"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

func loadEvent(t *testing.T, name string) *ghevent.PullRequestEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ghevent.Decode(b)
	if err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return ev
}

func TestDecide(t *testing.T) {
	def := preview.DefaultPolicy()
	withLabel := preview.DefaultPolicy()
	withLabel.RequireLabel = "preview"
	noDraftSkip := preview.DefaultPolicy()
	noDraftSkip.SkipDrafts = false
	forks := preview.DefaultPolicy()
	forks.AllowForks = true
	// The most restrictive policy there is: closing must still destroy.
	strict := preview.Policy{SkipDrafts: true, RequireLabel: "preview", ProjectDir: "hasura", ChangedFiles: []string{"README.md"}, OnlyWhenDirChanged: true}

	tests := []struct {
		file   string
		policy preview.Policy
		want   preview.Action
		reason string // a fragment the reason must contain
	}{
		{"pull_request.opened.json", def, preview.ActionEnsure, "opened"},
		{"pull_request.reopened.json", def, preview.ActionEnsure, "reopened"},
		{"pull_request.synchronize.json", def, preview.ActionEnsure, "pushed"},
		{"pull_request.ready_for_review.json", def, preview.ActionEnsure, "ready for review"},
		{"pull_request.labeled.json", def, preview.ActionEnsure, "label"},
		{"pull_request.closed.json", def, preview.ActionDestroy, "closed"},
		{"pull_request.closed.json", strict, preview.ActionDestroy, "closed"},
		{"pull_request.closed.merged.json", strict, preview.ActionDestroy, "merged"},
		{"pull_request.assigned.json", def, preview.ActionSkip, `action "assigned" does not change a preview`},

		{"pull_request.opened.draft.json", def, preview.ActionSkip, "draft pull requests get no preview (set skip-drafts: false"},
		{"pull_request.opened.draft.json", noDraftSkip, preview.ActionEnsure, "opened"},
		{"pull_request.converted_to_draft.json", def, preview.ActionDestroy, "draft"},
		{"pull_request.converted_to_draft.json", noDraftSkip, preview.ActionSkip, "draft"},

		{"pull_request.opened.fork.json", def, preview.ActionSkip, "pull requests from forks are skipped: their migrations are untrusted code"},
		{"pull_request.opened.fork.json", forks, preview.ActionEnsure, "opened"},
		{"pull_request.opened.deleted_fork.json", forks, preview.ActionSkip, "head repository was deleted"},
		{"pull_request.closed.json", forks, preview.ActionDestroy, "closed"},

		{"pull_request.opened.json", withLabel, preview.ActionSkip, `the "preview" label is required`},
		{"pull_request.opened.preview_label.json", withLabel, preview.ActionEnsure, "opened"},
		{"pull_request.labeled.preview.json", withLabel, preview.ActionEnsure, "label"},
		// "bug" added, "preview" absent: nothing to build.
		{"pull_request.labeled.json", withLabel, preview.ActionSkip, `the "preview" label is required`},
		{"pull_request.unlabeled.preview.json", withLabel, preview.ActionDestroy, `"preview" label was removed`},
		{"pull_request.unlabeled.bug.json", withLabel, preview.ActionSkip, `removing the label "bug"`},
		{"pull_request.unlabeled.preview.json", def, preview.ActionSkip, "does not change a preview"},
		{"pull_request.labeled.closed_pr.json", def, preview.ActionSkip, "closed"},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+string(tc.want), func(t *testing.T) {
			got := preview.Decide(ghevent.Event(loadEvent(t, tc.file)), tc.policy)
			if got.Action != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Decide = {%s, %q}, want {%s, …%q…}", got.Action, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestDecideLabelCaseInsensitive(t *testing.T) {
	p := preview.DefaultPolicy()
	p.RequireLabel = "Preview"
	if got := preview.Decide(ghevent.Event(loadEvent(t, "pull_request.labeled.preview.json")), p); got.Action != preview.ActionEnsure {
		t.Errorf("labeled preview with RequireLabel Preview: %+v", got)
	}
	if got := preview.Decide(ghevent.Event(loadEvent(t, "pull_request.unlabeled.preview.json")), p); got.Action != preview.ActionDestroy {
		t.Errorf("unlabeled preview with RequireLabel Preview: %+v", got)
	}
}

func TestDecideLabeledEventWithoutLabelsList(t *testing.T) {
	// Some senders trim pull_request.labels; the event's own label counts.
	ev := loadEvent(t, "pull_request.labeled.preview.json")
	ev.PullRequest.Labels = nil
	p := preview.DefaultPolicy()
	p.RequireLabel = "preview"
	if got := preview.Decide(ghevent.Event(ev), p); got.Action != preview.ActionEnsure {
		t.Errorf("got %+v", got)
	}
}

func TestDecidePathFilter(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		files []string
		only  bool
		want  preview.Action
	}{
		{"unknown files never filter", "hasura", nil, true, preview.ActionEnsure},
		{"filter off", "hasura", []string{"README.md"}, false, preview.ActionEnsure},
		{"file under dir", "hasura", []string{"README.md", "hasura/metadata/tables.yaml"}, true, preview.ActionEnsure},
		{"dir itself", "hasura", []string{"hasura"}, true, preview.ActionEnsure},
		{"segment prefix is not a match", "hasura", []string{"hasura2/x", "hasuraX"}, true, preview.ActionSkip},
		{"nothing under dir", "hasura", []string{"README.md", "web/hasura/x"}, true, preview.ActionSkip},
		{"dir written ./hasura/", "./hasura/", []string{"hasura/x"}, true, preview.ActionEnsure},
		{"nested dir", "backend/hasura", []string{"backend/hasura/migrations/1/up.sql"}, true, preview.ActionEnsure},
		{"nested dir, sibling", "backend/hasura", []string{"backend/hasura-old/x"}, true, preview.ActionSkip},
		{"root matches everything", "", []string{"anything/at/all"}, true, preview.ActionEnsure},
		{"root as dot", ".", []string{"x"}, true, preview.ActionEnsure},
		{"known empty list", "hasura", []string{}, true, preview.ActionSkip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := preview.DefaultPolicy()
			p.ProjectDir, p.ChangedFiles, p.OnlyWhenDirChanged = tc.dir, tc.files, tc.only
			got := preview.Decide(ghevent.Event(loadEvent(t, "pull_request.synchronize.json")), p)
			if got.Action != tc.want {
				t.Fatalf("got %+v, want %s", got, tc.want)
			}
			if got.Action == preview.ActionSkip && tc.dir == "hasura" && got.Reason != "no files under hasura/ changed" {
				t.Errorf("reason %q", got.Reason)
			}
		})
	}
}

func TestDecideMalformed(t *testing.T) {
	if got := preview.Decide(ghevent.Event(nil), preview.DefaultPolicy()); got.Action != preview.ActionSkip {
		t.Errorf("nil event: %+v", got)
	}
	if got := preview.Decide(ghevent.Event(&ghevent.PullRequestEvent{Action: "opened"}), preview.DefaultPolicy()); got.Action != preview.ActionSkip {
		t.Errorf("no pull request: %+v", got)
	}
	ev := loadEvent(t, "pull_request.opened.json")
	ev.Action = ""
	if got := preview.Decide(ghevent.Event(ev), preview.DefaultPolicy()); got.Action != preview.ActionSkip || got.Reason == "" {
		t.Errorf("no action: %+v", got)
	}
}

// The actions print under the names logs and outputs use.
func TestTarget(t *testing.T) {
	got, err := ghevent.Target(loadEvent(t, "pull_request.opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := preview.Repo{Owner: "Codertocat", Name: "Hello-World", Branch: "changes",
		SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Number: 2, BaseOwner: "Codertocat", BaseName: "Hello-World"}
	if got != want {
		t.Errorf("Target = %+v\nwant %+v", got, want)
	}

	fork, err := ghevent.Target(loadEvent(t, "pull_request.opened.fork.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fork.Owner != "octocat" || fork.Name != "Hello-World" || fork.BaseOwner != "Codertocat" || fork.Branch != "changes" {
		t.Errorf("fork Target = %+v: the branch lives in octocat's fork", fork)
	}
}

func TestTargetErrors(t *testing.T) {
	noHead := loadEvent(t, "pull_request.opened.json")
	noHead.PullRequest.Head = nil
	noNumber := loadEvent(t, "pull_request.opened.json")
	noNumber.PullRequest.Number, noNumber.Number = 0, 0
	tests := []struct {
		name string
		ev   *ghevent.PullRequestEvent
		msg  string
	}{
		{"nil event", nil, "no event"},
		{"nil pull request", &ghevent.PullRequestEvent{}, "no pull_request"},
		{"nil head", noHead, "no head"},
		{"deleted fork", loadEvent(t, "pull_request.opened.deleted_fork.json"), "head.repo is missing"},
		{"empty branch", loadEvent(t, "pull_request.opened.empty_branch.json"), "branch"},
		{"no number", noNumber, "number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ghevent.Target(tc.ev)
			if err == nil || !errors.Is(err, preview.ErrMalformedEvent) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Target error = %v, want preview.ErrMalformedEvent mentioning %q", err, tc.msg)
			}
		})
	}
}

// TestDecodeRefuses: the one pull_request decoder names what is wrong, and
// refuses another event's payload (the event type is an unsigned header).
func TestDecodeRefuses(t *testing.T) {
	for body, want := range map[string]string{
		`{"action":"opened"`:              "malformed JSON",
		`[1]`:                             "wrong type",
		`{"pull_request":{"number":"2"}}`: "wrong type",
		`{"action":"created","comment":{},"issue":{}}`:         `no "comment": this is another event's payload`,
		`{"action":"submitted","pull_request":{},"review":{}}`: `no "review"`,
	} {
		if _, err := ghevent.Decode([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want an error saying %q", body, err, want)
		}
	}
	ev, err := ghevent.Decode([]byte(`{"action":"closed","number":3,"pull_request":{"number":3,"base":{}},"repository":{"name":"r","owner":{"login":"o"}}}`))
	if err != nil || ev.BaseRepo().Name != "r" {
		t.Errorf("Decode = %+v, %v: the base repository falls back to the event's", ev, err)
	}
}
