package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
)

// TestAPIReviewInTheRealBinary: the built action reads graphql-engine's
// nextjs-13 sample at the event's base sha and the PR head through the
// GitHub simulator and puts the review in the comment, the step summary
// and the apiChanges output.
func TestAPIReviewInTheRealBinary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const fixtures = "../../internal/apireview/testdata/nextjs-13/"
	w.gh.SetRef(owner, repo, "master", "f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
	for branch, dir := range map[string]string{"master": fixtures + "base", "changes": fixtures + "head"} {
		if err := w.gh.SetDir(owner, repo, branch, "hasura", os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
	}
	b, h := apireview.LoadPair(os.DirFS(fixtures+"base"), os.DirFS(fixtures+"head"), apireview.Limits{})
	summary := apireview.Diff(b, h, apireview.Options{}).Summary

	res := w.run(runOpts{inputs: map[string]string{"hasuraProjectDirectoryPath": "hasura"}})
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	var rep apireview.Report
	if err := json.Unmarshal([]byte(res.outputs["apiChanges"]), &rep); err != nil || rep.Summary != summary {
		t.Errorf("apiChanges: %v %q, want %q", err, rep.Summary, summary)
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "### API changes") || !strings.Contains(cs[0].Body, summary) {
		t.Errorf("comment: %+v", cs)
	}
	if !strings.Contains(res.summary, summary) {
		t.Errorf("step summary:\n%s", res.summary)
	}
}
