package main

import (
	"testing"
)

// On pull_request_target a fork's workflow runs with the base repository's
// secrets. With a {branch} template the fork's author picks the app name:
// a fork PR from a branch called like the maintainers' must not delete
// (or rebuild) the maintainers' preview when it closes.
func TestForkCloseDoesNotDeleteTheMaintainersPreview(t *testing.T) {
	t.Parallel()
	const app = "hello-world-changes"
	branchName := map[string]string{"name": "{repo}-{branch}"}
	target := map[string]string{"GITHUB_EVENT_NAME": "pull_request_target"}

	w := newWorld(t)
	if res := w.run(runOpts{event: "opened", inputs: branchName}); res.code != 0 {
		t.Fatalf("the maintainers' build: exit %d", res.code)
	}
	if _, ok := w.cloud.Project(app); !ok {
		t.Fatalf("no app %s: %+v", app, w.cloud.Projects())
	}

	// allow-forks off: a fork's close deletes nothing.
	res := w.run(runOpts{event: "closed", inputs: branchName, env: target, editEvent: makeFork})
	if res.code != 0 {
		t.Fatalf("the fork's close: exit %d", res.code)
	}
	if _, ok := w.cloud.Project(app); !ok || w.cloud.Count("deleteTenant") != 0 {
		t.Fatal("a fork's close deleted the maintainers' preview")
	}

	// allow-forks on: the app was built from Codertocat/Hello-World@changes,
	// not from forker/Hello-World@changes, so it is still not the fork's.
	forks := map[string]string{"name": "{repo}-{branch}", "allow-forks": "true"}
	res = w.run(runOpts{event: "closed", inputs: forks, env: target, editEvent: makeFork})
	if res.code != 0 {
		t.Fatalf("the fork's close with allow-forks: exit %d", res.code)
	}
	if _, ok := w.cloud.Project(app); !ok || w.cloud.Count("deleteTenant") != 0 {
		t.Fatal("a fork's close deleted an app another branch built")
	}
	// Nor may it rebuild it from its own branch.
	res = w.run(runOpts{event: "synchronize", inputs: forks, env: target, editEvent: makeFork})
	if res.code == 0 || w.cloud.Count("createGitHubPreviewApp") != 1 {
		t.Fatalf("the fork rebuilt the maintainers' app: exit %d, %d creates", res.code, w.cloud.Count("createGitHubPreviewApp"))
	}

	// The maintainers' own close still deletes it, with one lookup of
	// the app for the ownership check and the delete.
	lookups := w.cloud.Count("projects")
	if res := w.run(runOpts{event: "closed", inputs: branchName}); res.code != 0 {
		t.Fatalf("the maintainers' close: exit %d", res.code)
	}
	if n := w.cloud.Count("projects") - lookups; n != 1 {
		t.Errorf("the close looked the app up %d times, want 1", n)
	}
	if _, ok := w.cloud.Project(app); ok {
		t.Error("the maintainers' close left their app")
	}
}
