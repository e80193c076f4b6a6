package preview

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func loadEvent(t *testing.T, name string) *github.PullRequestEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev github.PullRequestEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return &ev
}

func TestDecide(t *testing.T) {
	def := DefaultPolicy()
	withLabel := DefaultPolicy()
	withLabel.RequireLabel = "preview"
	noDraftSkip := DefaultPolicy()
	noDraftSkip.SkipDrafts = false
	forks := DefaultPolicy()
	forks.AllowForks = true
	// The most restrictive policy there is: closing must still destroy.
	strict := Policy{SkipDrafts: true, RequireLabel: "preview", ProjectDir: "hasura", ChangedFiles: []string{"README.md"}, OnlyWhenDirChanged: true}

	tests := []struct {
		file   string
		policy Policy
		want   Action
		reason string // a fragment the reason must contain
	}{
		{"pull_request.opened.json", def, ActionEnsure, "opened"},
		{"pull_request.reopened.json", def, ActionEnsure, "reopened"},
		{"pull_request.synchronize.json", def, ActionEnsure, "pushed"},
		{"pull_request.ready_for_review.json", def, ActionEnsure, "ready for review"},
		{"pull_request.labeled.json", def, ActionEnsure, "label"},
		{"pull_request.closed.json", def, ActionDestroy, "closed"},
		{"pull_request.closed.json", strict, ActionDestroy, "closed"},
		{"pull_request.closed.merged.json", strict, ActionDestroy, "merged"},
		{"pull_request.assigned.json", def, ActionSkip, `action "assigned" does not change a preview`},

		{"pull_request.opened.draft.json", def, ActionSkip, "draft pull requests get no preview (set skip-drafts: false"},
		{"pull_request.opened.draft.json", noDraftSkip, ActionEnsure, "opened"},
		{"pull_request.converted_to_draft.json", def, ActionDestroy, "draft"},
		{"pull_request.converted_to_draft.json", noDraftSkip, ActionSkip, "draft"},

		{"pull_request.opened.fork.json", def, ActionSkip, "pull requests from forks are skipped: their migrations are untrusted code"},
		{"pull_request.opened.fork.json", forks, ActionEnsure, "opened"},
		{"pull_request.opened.deleted_fork.json", forks, ActionSkip, "head repository was deleted"},
		{"pull_request.closed.json", forks, ActionDestroy, "closed"},

		{"pull_request.opened.json", withLabel, ActionSkip, `the "preview" label is required`},
		{"pull_request.opened.preview_label.json", withLabel, ActionEnsure, "opened"},
		{"pull_request.labeled.preview.json", withLabel, ActionEnsure, "label"},
		// "bug" added, "preview" absent: nothing to build.
		{"pull_request.labeled.json", withLabel, ActionSkip, `the "preview" label is required`},
		{"pull_request.unlabeled.preview.json", withLabel, ActionDestroy, `"preview" label was removed`},
		{"pull_request.unlabeled.bug.json", withLabel, ActionSkip, `removing the label "bug"`},
		{"pull_request.unlabeled.preview.json", def, ActionSkip, "does not change a preview"},
		{"pull_request.labeled.closed_pr.json", def, ActionSkip, "closed"},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+string(tc.want), func(t *testing.T) {
			got := Decide(loadEvent(t, tc.file), tc.policy)
			if got.Action != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("Decide = {%s, %q}, want {%s, …%q…}", got.Action, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestDecideLabelCaseInsensitive(t *testing.T) {
	p := DefaultPolicy()
	p.RequireLabel = "Preview"
	if got := Decide(loadEvent(t, "pull_request.labeled.preview.json"), p); got.Action != ActionEnsure {
		t.Errorf("labeled preview with RequireLabel Preview: %+v", got)
	}
	if got := Decide(loadEvent(t, "pull_request.unlabeled.preview.json"), p); got.Action != ActionDestroy {
		t.Errorf("unlabeled preview with RequireLabel Preview: %+v", got)
	}
}

func TestDecideLabeledEventWithoutLabelsList(t *testing.T) {
	// Some senders trim pull_request.labels; the event's own label counts.
	ev := loadEvent(t, "pull_request.labeled.preview.json")
	ev.PullRequest.Labels = nil
	p := DefaultPolicy()
	p.RequireLabel = "preview"
	if got := Decide(ev, p); got.Action != ActionEnsure {
		t.Errorf("got %+v", got)
	}
}

func TestDecidePathFilter(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		files []string
		only  bool
		want  Action
	}{
		{"unknown files never filter", "hasura", nil, true, ActionEnsure},
		{"filter off", "hasura", []string{"README.md"}, false, ActionEnsure},
		{"file under dir", "hasura", []string{"README.md", "hasura/metadata/tables.yaml"}, true, ActionEnsure},
		{"dir itself", "hasura", []string{"hasura"}, true, ActionEnsure},
		{"segment prefix is not a match", "hasura", []string{"hasura2/x", "hasuraX"}, true, ActionSkip},
		{"nothing under dir", "hasura", []string{"README.md", "web/hasura/x"}, true, ActionSkip},
		{"dir written ./hasura/", "./hasura/", []string{"hasura/x"}, true, ActionEnsure},
		{"nested dir", "backend/hasura", []string{"backend/hasura/migrations/1/up.sql"}, true, ActionEnsure},
		{"nested dir, sibling", "backend/hasura", []string{"backend/hasura-old/x"}, true, ActionSkip},
		{"root matches everything", "", []string{"anything/at/all"}, true, ActionEnsure},
		{"root as dot", ".", []string{"x"}, true, ActionEnsure},
		{"known empty list", "hasura", []string{}, true, ActionSkip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.ProjectDir, p.ChangedFiles, p.OnlyWhenDirChanged = tc.dir, tc.files, tc.only
			got := Decide(loadEvent(t, "pull_request.synchronize.json"), p)
			if got.Action != tc.want {
				t.Fatalf("got %+v, want %s", got, tc.want)
			}
			if got.Action == ActionSkip && tc.dir == "hasura" && got.Reason != "no files under hasura/ changed" {
				t.Errorf("reason %q", got.Reason)
			}
		})
	}
}

func TestDecideMalformed(t *testing.T) {
	if got := Decide(nil, DefaultPolicy()); got.Action != ActionSkip {
		t.Errorf("nil event: %+v", got)
	}
	if got := Decide(&github.PullRequestEvent{Action: github.String("opened")}, DefaultPolicy()); got.Action != ActionSkip {
		t.Errorf("no pull request: %+v", got)
	}
	ev := loadEvent(t, "pull_request.opened.json")
	ev.Action = nil
	if got := Decide(ev, DefaultPolicy()); got.Action != ActionSkip || got.Reason == "" {
		t.Errorf("no action: %+v", got)
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{ActionEnsure: "ensure", ActionDestroy: "destroy", ActionSkip: "skip"} {
		if a.String() != want {
			t.Errorf("%q.String() = %q", string(a), a.String())
		}
	}
}

func TestTarget(t *testing.T) {
	got, err := Target(loadEvent(t, "pull_request.opened.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Repo{Owner: "Codertocat", Name: "Hello-World", Branch: "changes",
		SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", Number: 2, BaseOwner: "Codertocat", BaseName: "Hello-World"}
	if got != want {
		t.Errorf("Target = %+v\nwant %+v", got, want)
	}

	fork, err := Target(loadEvent(t, "pull_request.opened.fork.json"))
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
	noNumber.PullRequest.Number, noNumber.Number = nil, nil
	tests := []struct {
		name string
		ev   *github.PullRequestEvent
		msg  string
	}{
		{"nil event", nil, "no event"},
		{"nil pull request", &github.PullRequestEvent{}, "no pull_request"},
		{"nil head", noHead, "no head"},
		{"deleted fork", loadEvent(t, "pull_request.opened.deleted_fork.json"), "head.repo is missing"},
		{"empty branch", loadEvent(t, "pull_request.opened.empty_branch.json"), "branch"},
		{"no number", noNumber, "number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Target(tc.ev)
			if err == nil || !errors.Is(err, ErrMalformedEvent) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Target error = %v, want ErrMalformedEvent mentioning %q", err, tc.msg)
			}
		})
	}
}
