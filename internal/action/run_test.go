package action

// In-process runs of Run on a manual clock, for what a subprocess test
// cannot reach in reasonable time (a timeout) and for small edge cases.
// cmd/action's tests run the real binary for the main paths.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const (
	testPAT   = "hcpat_TESTinprocess_6a5b4c3d2e1f"
	testToken = "ghs_TESTinprocess_0f1e2d3c4b5a"
	testSHA   = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
)

type inproc struct {
	t      *testing.T
	clock  *clock.Manual
	cloud  *cloudsim.Server
	gh     *ghsim.Server
	env    map[string]string
	dir    string
	stdout bytes.Buffer
}

// newInproc prepares a pull_request opened run of Codertocat/Hello-World#2
// on a manual clock that moves only when the engine sleeps.
func newInproc(t *testing.T) *inproc {
	t.Helper()
	clock := clock.NewManual(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	cs, cloudURL := cloudsim.NewTestServer(t, cloudsim.Options{PAT: testPAT, Clock: clock, CreationDuration: 30 * time.Second, TaskDuration: 5 * time.Second})
	gh, api := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/", Now: clock.Now})
	gh.AddRepo("Codertocat", "Hello-World")
	gh.AddPull("Codertocat", "Hello-World", ghsim.PullSpec{Number: 2, HeadRef: "changes", HeadSHA: testSHA})
	gh.AddToken(testToken, ghsim.TokenSpec{Repos: []string{"Codertocat/Hello-World"}})

	dir := t.TempDir()
	event := `{"action":"opened","number":2,"pull_request":{"number":2,"state":"open",
	  "head":{"ref":"changes","sha":"` + testSHA + `","repo":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}},
	  "base":{"ref":"master","repo":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}}},
	  "repository":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}}`
	write(t, filepath.Join(dir, "event.json"), event)
	for _, f := range []string{"output", "summary"} {
		write(t, filepath.Join(dir, f), "")
	}
	return &inproc{t: t, clock: clock, cloud: cs, gh: gh, dir: dir, env: map[string]string{
		"INPUT_HASURACLOUDGRAPHQLENDPOINT": cloudURL,
		"GITHUB_OUTPUT":                    filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY":              filepath.Join(dir, "summary"),
		"GITHUB_EVENT_NAME":                "pull_request",
		"GITHUB_EVENT_PATH":                filepath.Join(dir, "event.json"),
		"GITHUB_REPOSITORY":                "Codertocat/Hello-World",
		"GITHUB_SHA":                       "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
		"GITHUB_REF":                       "refs/pull/2/merge",
		"GITHUB_RUN_ID":                    "99",
		"GITHUB_SERVER_URL":                "https://github.com",
		"GITHUB_API_URL":                   strings.TrimSuffix(api, "/"),
		"GITHUB_TOKEN":                     testToken,
		"HASURA_CLOUD_ACCESS_TOKEN":        testPAT,
	}}
}

func (p *inproc) run() error {
	p.t.Helper()
	return p.runWith(p.env, &p.stdout, nil)
}

// runWith runs with env, writing to stdout; onSleep (may be nil) runs each
// time the run sleeps, after the clock has moved.
func (p *inproc) runWith(env map[string]string, stdout *bytes.Buffer, onSleep func()) error {
	p.t.Helper()
	err := Run(context.Background(), Deps{
		Getenv: func(k string) string { return env[k] },
		Stdout: stdout,
		Now:    p.clock.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			p.clock.Advance(d)
			if onSleep != nil {
				onSleep()
			}
			return ctx.Err()
		},
		Version: "test",
	})
	p.t.Cleanup(func() {
		if p.t.Failed() {
			p.t.Logf("stdout:\n%s", stdout.String())
		}
	})
	return err
}

func (p *inproc) outputs() map[string]string {
	p.t.Helper()
	raw, err := os.ReadFile(filepath.Join(p.dir, "output"))
	if err != nil {
		p.t.Fatal(err)
	}
	kv, err := ghsim.ParseFileCommands(string(raw))
	if err != nil {
		p.t.Fatalf("GITHUB_OUTPUT: %v", err)
	}
	out := map[string]string{}
	for _, e := range kv {
		out[e[0]] = e[1]
	}
	return out
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunTimesOut(t *testing.T) {
	p := newInproc(t)
	p.env["INPUT_TIMEOUT"] = "5m"
	p.cloud.SetDurations("hello-world-pr-2", 3*time.Hour, 0)
	err := p.run()
	if err == nil {
		t.Fatal("a timed-out preview succeeded")
	}
	out := p.outputs()
	if out["status"] != "timed_out" || out["jobId"] == "" {
		t.Errorf("outputs %v, want status timed_out with the job id", out)
	}
	if !strings.Contains(p.stdout.String(), "::error") {
		t.Error("no ::error for the timeout")
	}
	ds := p.gh.Deployments("Codertocat", "Hello-World")
	if len(ds) != 1 || ds[0].Statuses[len(ds[0].Statuses)-1].State != "failure" {
		t.Errorf("deployments %+v, want one ending in failure", ds)
	}
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 1 || !strings.Contains(strings.ToLower(cs[0].Body), "timed out") {
		t.Errorf("want one comment saying timed out, got %+v", cs)
	}
	// The engine paced its reads: 5 minutes of a pending job is not 150
	// reads at the official action's 2 s.
	if n := p.cloud.Requests("jobs_by_pk"); n >= 75 {
		t.Errorf("%d job reads in 5 minutes", n)
	}
}

func TestRunOnABranchPush(t *testing.T) {
	p := newInproc(t)
	p.env["GITHUB_EVENT_NAME"] = "push"
	p.env["GITHUB_REF"] = "refs/heads/feature/login"
	write(t, p.env["GITHUB_EVENT_PATH"], `{"ref":"refs/heads/feature/login","after":"`+testSHA+`"}`)
	p.env["GITHUB_SHA"] = testSHA
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	out := p.outputs()
	if out["status"] != "success" {
		t.Fatalf("outputs %v", out)
	}
	// No pull request, so no {pr}: the name comes from the branch, and two
	// branches never share one app.
	if out["projectName"] != "hello-world-feature-login" {
		t.Errorf("projectName %q, want hello-world-feature-login", out["projectName"])
	}
	proj, ok := p.cloud.Project(out["projectName"])
	if !ok || proj.Branch != "feature/login" {
		t.Errorf("project %+v", proj)
	}
	if n := len(p.gh.Comments("Codertocat", "Hello-World", 2)); n != 0 {
		t.Errorf("%d comments for a push", n)
	}
}

func TestRunRefusesPRPlaceholderWithoutPR(t *testing.T) {
	p := newInproc(t)
	p.env["GITHUB_EVENT_NAME"] = "push"
	p.env["GITHUB_REF"] = "refs/heads/main"
	p.env["INPUT_NAME"] = "app-pr-{pr}"
	write(t, p.env["GITHUB_EVENT_PATH"], `{"ref":"refs/heads/main"}`)
	if err := p.run(); err == nil {
		t.Fatal("a {pr} name on a push succeeded")
	}
	if !strings.Contains(p.stdout.String(), "{pr}") {
		t.Errorf("the error does not explain {pr}:\n%s", p.stdout.String())
	}
	if n := len(p.cloud.Log()); n != 0 {
		t.Errorf("%d Cloud requests", n)
	}
}

func TestRunWithARejectedPAT(t *testing.T) {
	p := newInproc(t)
	const wrong = "hcpat_TESTwrongtoken_99887766"
	p.env["HASURA_CLOUD_ACCESS_TOKEN"] = wrong
	if err := p.run(); err == nil {
		t.Fatal("a rejected PAT succeeded")
	}
	out := p.stdout.String()
	if !strings.Contains(out, "::error") {
		t.Error("no ::error")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, wrong) && !strings.HasPrefix(line, "::add-mask::") {
			t.Errorf("the PAT is printed: %s", line)
		}
	}
	if n := p.cloud.Count("createGitHubPreviewApp"); n != 0 {
		t.Errorf("%d creates with a rejected PAT", n)
	}
	if o := p.outputs(); o["status"] != "failed" {
		t.Errorf("status %q, want failed", o["status"])
	}
}

func TestRunWithoutGitHubOutput(t *testing.T) {
	p := newInproc(t)
	delete(p.env, "GITHUB_OUTPUT")
	delete(p.env, "GITHUB_STEP_SUMMARY")
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.stdout.String(), "::warning::GITHUB_OUTPUT is not set") {
		t.Errorf("no warning about the missing GITHUB_OUTPUT:\n%s", p.stdout.String())
	}
}

func TestRunWithoutGitHubToken(t *testing.T) {
	p := newInproc(t)
	delete(p.env, "GITHUB_TOKEN")
	if err := p.run(); err == nil {
		t.Fatal("succeeded without a token for the Cloud to read the branch")
	}
	if n := len(p.cloud.Log()); n != 0 {
		t.Errorf("%d Cloud requests", n)
	}
	// Deleting needs no GitHub token: the comment is skipped, not the delete.
	write(t, p.env["GITHUB_EVENT_PATH"], strings.Replace(readString(t, p.env["GITHUB_EVENT_PATH"]), `"opened"`, `"closed"`, 1))
	if err := p.run(); err != nil {
		t.Fatalf("closing without a GitHub token: %v", err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoggerRedactsErrorsAndStrings(t *testing.T) {
	var out bytes.Buffer
	r := &runner{d: Deps{Stdout: &out}, secrets: &preview.Masker{}}
	r.secrets.Add(testPAT)
	r.logger().Info("calling with "+testPAT, "error", fmt.Errorf("post: %w", errors.New("proxy said: Authorization: pat "+testPAT)),
		"token", testPAT, "n", 3)
	if strings.Contains(out.String(), testPAT) {
		t.Errorf("the logger printed the PAT: %s", out.String())
	}
	if !strings.Contains(out.String(), "proxy said") || !strings.Contains(out.String(), "n=3") {
		t.Errorf("the logger lost the rest of the line: %s", out.String())
	}
}

func TestCommentAndDeploymentCanBeTurnedOff(t *testing.T) {
	p := newInproc(t)
	p.env["INPUT_COMMENT"] = "false"
	p.env["INPUT_DEPLOYMENT"] = "false"
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if o := p.outputs(); o["status"] != "success" {
		t.Errorf("outputs %v", o)
	}
	// Only GET /user, which checks what a person's token handed to the
	// Cloud may do, and the API review's reads of the project (for the apiChanges
	// output and the step summary).
	for _, rq := range p.gh.Requests() {
		if !(rq.Method == "GET" && rq.Path == "/user") && !strings.Contains(rq.Path, "/tarball/") && !strings.Contains(rq.Path, "/codeload/") {
			t.Errorf("GitHub request with comment and deployment off: %s %s", rq.Method, rq.Path)
		}
	}
}

// TestSupersededRunLeavesTheNewerComment: a run that notices only after
// the newer run finished that its build was replaced must not overwrite
// the newer run's comment ("ready", with the endpoint) with "superseded".
func TestSupersededRunLeavesTheNewerComment(t *testing.T) {
	p := newInproc(t)
	newer := map[string]string{}
	for k, v := range p.env {
		newer[k] = v
	}
	newer["GITHUB_OUTPUT"] = filepath.Join(p.dir, "output-newer")
	var newerOut bytes.Buffer
	var newerErr error
	ran := false
	// The older run sleeps after its first read of its (pending) creation
	// job; the newer run starts and finishes within that sleep.
	onSleep := func() {
		if ran {
			return
		}
		ran = true
		newerErr = p.runWith(newer, &newerOut, nil)
	}
	if err := p.runWith(p.env, &p.stdout, onSleep); err != nil {
		t.Fatalf("older run: %v", err)
	}
	if newerErr != nil {
		t.Fatalf("newer run: %v\n%s", newerErr, newerOut.String())
	}
	if o := p.outputs(); o["status"] != "superseded" {
		t.Fatalf("older run: outputs %v, want superseded", o)
	}
	proj, _ := p.cloud.Project("hello-world-pr-2")
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	if !strings.Contains(cs[0].Body, "is ready") || !strings.Contains(cs[0].Body, proj.GraphQLURL) {
		t.Errorf("the comment no longer shows the newer run's ready preview:\n%s", cs[0].Body)
	}
}

// TestDeleteWithoutCommentAsksNoOwner: GET /user serves the scope check of
// a token handed to the Cloud and the comment's author; a delete with the
// comment off needs neither.
func TestDeleteWithoutCommentAsksNoOwner(t *testing.T) {
	p := newInproc(t)
	const pat = "github_pat_TESTdeletenoowner_5e6f7a8b9c"
	p.gh.AddToken(pat, ghsim.TokenSpec{Login: "octocat", Type: "User", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "issues": "write", "deployments": "write"}})
	p.env["GITHUB_TOKEN"] = pat
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	before := p.gh.CountRequests("GET", "/user")
	if before == 0 {
		t.Fatal("the build did not check its token with GET /user")
	}
	write(t, p.env["GITHUB_EVENT_PATH"], strings.Replace(readString(t, p.env["GITHUB_EVENT_PATH"]), `"opened"`, `"closed"`, 1))
	p.env["INPUT_COMMENT"] = "false"
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if o := p.outputs(); o["status"] != "deleted" {
		t.Errorf("outputs %v", o)
	}
	if n := p.gh.CountRequests("GET", "/user") - before; n != 0 {
		t.Errorf("%d GET /user for a delete with the comment off, want 0", n)
	}
}

// TestInstallationTokenAsksNoOwner: GET /user refuses every installation
// token (ghs_), GITHUB_TOKEN included, so none is sent; the comment is
// still GITHUB_TOKEN's bot's.
func TestInstallationTokenAsksNoOwner(t *testing.T) {
	p := newInproc(t)
	if !strings.HasPrefix(testToken, "ghs_") {
		t.Fatalf("testToken %q is not an installation token", testToken)
	}
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if n := p.gh.CountRequests("GET", "/user"); n != 0 {
		t.Errorf("%d GET /user with an installation token, want 0", n)
	}
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 1 || cs[0].User != actionsBot {
		t.Errorf("comments %+v, want one by %s", cs, actionsBot)
	}
}
