package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecretsStayOutOfEverything runs a build whose failure message echoes
// every secret back (as a Cloud error quoting its input might) and scans
// everything the run wrote or sent.
func TestSecretsStayOutOfEverything(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	secrets := map[string]string{"Cloud PAT": testPAT, "GitHub token": testToken, "JWT secret": jwtSecret}
	echo := "metadata rejected: jwt secret " + jwtSecret + " token " + testToken + " pat " + testPAT
	w.cloud.FailTask(appName, "apply-metadata", echo, "detail: "+testToken)
	failed := w.run(runOpts{event: "opened"})
	if failed.code != 1 {
		t.Fatalf("failing build: exit %d, want 1", failed.code)
	}
	ok := w.run(runOpts{event: "synchronize"})
	if ok.code != 0 {
		t.Fatalf("second build: exit %d, want 0", ok.code)
	}

	for _, res := range []runResult{failed, ok} {
		masks := commands(res.stdout)["add-mask"]
		for what, s := range secrets {
			if !slices.Contains(masks, s) {
				t.Errorf("no ::add-mask:: for the %s", what)
			}
		}
		places := map[string]string{
			"stdout (outside ::add-mask::)": withoutMasks(res.stdout),
			"stderr":                        res.stderr,
			"GITHUB_OUTPUT":                 res.outputRaw,
			"the step summary":              res.summary,
		}
		scan(t, places, secrets)
	}
	places := map[string]string{}
	for _, c := range w.gh.Comments(owner, repo, prNumber) {
		places["comment "+c.Body[:min(len(c.Body), 40)]] = c.Body
	}
	for i, r := range w.gh.Requests() {
		places["GitHub request "+r.Method+" "+r.Path+" #"+itoa(i)] = r.Path + "?" + r.Query + "\n" + r.Body
	}
	for i, r := range w.cloud.Log() {
		places["Cloud query "+strings.Join(r.Ops, ",")+" #"+itoa(i)] = r.Query
	}
	if len(places) < 5 {
		t.Fatalf("only %d places to scan: the runs did not get far", len(places))
	}
	scan(t, places, secrets)
}

// TestSupersededRunIsNotAFailure starts a second build while the first is
// still being created: the first is superseded, ends its deployment as
// inactive and exits 0 without a warning.
func TestSupersededRunIsNotAFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.cloud.SetDurations(appName, time.Minute, 0)
	first := w.start(runOpts{event: "opened"})
	waitFor(t, func() bool { return w.cloud.Count("createGitHubPreviewApp") == 1 })
	w.cloud.SetDurations(appName, 50*time.Millisecond, 20*time.Millisecond)
	second := w.run(runOpts{event: "synchronize"})
	res := first.wait()
	if res.code != 0 || res.outputs["status"] != "superseded" {
		t.Fatalf("first run: exit %d, status %q; want 0, superseded", res.code, res.outputs["status"])
	}
	if second.code != 0 || second.outputs["status"] != "success" {
		t.Fatalf("second run: exit %d, status %q", second.code, second.outputs["status"])
	}
	if warns := commands(res.stdout)["warning"]; len(warns) != 0 {
		t.Errorf("superseded run warned: %q", warns)
	}
	ds := w.gh.Deployments(owner, repo)
	if len(ds) != 2 {
		t.Fatalf("%d deployments, want 2", len(ds))
	}
	for _, st := range ds[0].Statuses {
		if st.State == "failure" || st.State == "error" {
			t.Errorf("superseded deployment got status %s", st.State)
		}
	}
	if last := lastStatus(t, ds[0]); last.State != "inactive" || last.Auto {
		t.Errorf("superseded deployment ends %s (auto %v), want inactive sent by the action", last.State, last.Auto)
	}
	if last := lastStatus(t, ds[1]); last.State != "success" {
		t.Errorf("second deployment ends %s", last.State)
	}
}

func scan(t *testing.T, places, secrets map[string]string) {
	t.Helper()
	for where, text := range places {
		for what, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("the %s appears in %s", what, where)
			}
		}
	}
}

func withoutMasks(stdout string) string {
	var b strings.Builder
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// waitFor polls cond (a simulator's state, which the test cannot be told
// about) for up to a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCancelledRunLeavesNothingInProgress stops a build the way the runner
// cancels a step (SIGINT, as with cancel-in-progress on a new push): the
// deployment must not stay in_progress and the comment must say so.
func TestCancelledRunLeavesNothingInProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.cloud.SetDurations(appName, time.Minute, 0)
	p := w.start(runOpts{event: "opened"})
	waitFor(t, func() bool {
		ds := w.gh.Deployments(owner, repo)
		return w.cloud.Count("createGitHubPreviewApp") == 1 && len(ds) == 1 && len(ds[0].Statuses) > 0 &&
			len(w.gh.Comments(owner, repo, prNumber)) == 1
	})
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	res := p.wait()
	if res.code == 0 {
		t.Error("a cancelled run exited 0")
	}
	if strings.Contains(res.stderr, "panic") {
		t.Errorf("panicked:\n%s", res.stderr)
	}
	ds := w.gh.Deployments(owner, repo)
	if last := lastStatus(t, ds[0]); last.State != "inactive" {
		t.Errorf("cancelled run's deployment ends %s, want inactive", last.State)
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || !strings.Contains(strings.ToLower(cs[0].Body), "cancelled") {
		t.Errorf("want one comment saying cancelled, got %+v", cs)
	}
}
