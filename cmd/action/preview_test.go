package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// successOutputs are the outputs of a build, in any order.
var successOutputs = []string{"apiChanges", "consoleURL", "deploymentJobId", "endpoint", "graphQLEndpoint", "jobId", "projectId", "projectName", "status"}

func TestOpenedBuildsThePreview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.run(runOpts{event: "opened"})
	if res.code != 0 {
		t.Fatalf("exit %d, want 0", res.code)
	}
	proj, ok := w.cloud.Project(appName)
	if !ok {
		t.Fatalf("no app %s in the Cloud; projects: %+v", appName, w.cloud.Projects())
	}
	if proj.GraphQLURL == "" || proj.ID == "" {
		t.Fatalf("project without endpoint or id: %+v", proj)
	}

	// Outputs: exactly ours, with what the Cloud says.
	out := res.outputs
	if res.outputErr != nil {
		t.Fatalf("GITHUB_OUTPUT does not parse: %v\n%s", res.outputErr, res.outputRaw)
	}
	assertKeys(t, out, successOutputs)
	// A build sets every output action.yml declares.
	assertKeys(t, out, actionOutputs(t))
	want := map[string]string{
		"graphQLEndpoint": proj.GraphQLURL, "endpoint": proj.GraphQLURL, "projectName": appName, "projectId": proj.ID,
		"status": "success", "jobId": proj.LastCreationJobID, "deploymentJobId": proj.LastDeploymentJobID,
		"consoleURL": "https://cloud.hasura.io/project/" + proj.ID + "/console",
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q", k, out[k], v)
		}
	}
	if out["jobId"] == "" || out["deploymentJobId"] == "" {
		t.Errorf("job ids missing: %v", out)
	}

	// The Cloud got one create, for the PR's branch, with the env as written.
	if n := w.cloud.Count("createGitHubPreviewApp"); n != 1 {
		t.Errorf("createGitHubPreviewApp called %d times, want 1", n)
	}
	if proj.Owner != owner || proj.Repo != repo || proj.Branch != "changes" || proj.Directory != "" {
		t.Errorf("built from %s/%s@%s dir %q, want %s/%s@changes at the root", proj.Owner, proj.Repo, proj.Branch, proj.Directory, owner, repo)
	}
	if proj.Region != "us-west-1" || proj.Plan != "cloud_free" || proj.Cloud != "aws" {
		t.Errorf("region/plan/cloud = %s/%s/%s, want the defaults us-west-1/cloud_free/aws", proj.Region, proj.Plan, proj.Cloud)
	}
	if got := proj.Env["HASURA_GRAPHQL_JWT_SECRET"]; got != jwtSecret {
		t.Errorf("HASURA_GRAPHQL_JWT_SECRET reached the Cloud as %q, want %q byte for byte", got, jwtSecret)
	}
	if got := proj.Env["PLAIN_VALUE"]; got != plainValue {
		t.Errorf("PLAIN_VALUE reached the Cloud as %q, want %q", got, plainValue)
	}

	// One comment, with the endpoint.
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 {
		t.Fatalf("%d comments, want 1", len(cs))
	}
	if !strings.Contains(cs[0].Body, proj.GraphQLURL) {
		t.Errorf("comment lacks the endpoint %s:\n%s", proj.GraphQLURL, cs[0].Body)
	}

	// One deployment of the head commit, sent as a preview wants it.
	ds := w.gh.Deployments(owner, repo)
	if len(ds) != 1 {
		t.Fatalf("%d deployments, want 1", len(ds))
	}
	d := ds[0]
	if d.Environment != "preview/"+appName || d.Ref != headSHA {
		t.Errorf("deployment of %s to %s, want %s to preview/%s", d.Ref, d.Environment, headSHA, appName)
	}
	if d.AutoMerge == nil || *d.AutoMerge {
		t.Errorf("auto_merge = %v, want false sent", d.AutoMerge)
	}
	if d.RequiredContexts == nil || len(*d.RequiredContexts) != 0 {
		t.Errorf("required_contexts = %v, want [] sent", d.RequiredContexts)
	}
	if d.TransientEnvironment == nil || !*d.TransientEnvironment {
		t.Errorf("transient_environment = %v, want true", d.TransientEnvironment)
	}
	last := lastStatus(t, d)
	if last.State != "success" || last.EnvironmentURL != proj.GraphQLURL {
		t.Errorf("last status %s with environment_url %q, want success with %q", last.State, last.EnvironmentURL, proj.GraphQLURL)
	}
	// A new app has no earlier build whose deployment could matter.
	if n := w.gh.CountRequests("GET", "/deployments"); n != 0 {
		t.Errorf("%d deployment reads for an app that did not exist, want 0", n)
	}

	if !strings.Contains(res.summary, proj.GraphQLURL) {
		t.Errorf("step summary lacks the endpoint:\n%s", res.summary)
	}
	if res.envFile != "" {
		t.Errorf("GITHUB_ENV written: %q", res.envFile)
	}
}

func TestSynchronizeEditsTheCommentAndDeploysAgain(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if res := w.run(runOpts{event: "opened"}); res.code != 0 {
		t.Fatalf("opened: exit %d", res.code)
	}
	first := w.gh.Comments(owner, repo, prNumber)
	if len(first) != 1 {
		t.Fatalf("%d comments after opened, want 1", len(first))
	}
	creates := w.gh.CountRequests("POST", "/issues/2/comments")
	edits := w.gh.CountRequests("PATCH", "/issues/comments/")

	res := w.run(runOpts{event: "synchronize"})
	if res.code != 0 {
		t.Fatalf("synchronize: exit %d", res.code)
	}
	if res.outputs["status"] != "success" {
		t.Errorf("status = %q, want success", res.outputs["status"])
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || cs[0].ID != first[0].ID {
		t.Fatalf("comments after synchronize: %d (first id %d), want the same single one", len(cs), first[0].ID)
	}
	if n := w.gh.CountRequests("POST", "/issues/2/comments"); n != creates {
		t.Errorf("synchronize created a comment (%d creates, was %d)", n, creates)
	}
	if n := w.gh.CountRequests("PATCH", "/issues/comments/"); n <= edits {
		t.Errorf("synchronize did not edit the comment")
	}
	ds := w.gh.Deployments(owner, repo)
	if len(ds) != 2 {
		t.Fatalf("%d deployments, want 2", len(ds))
	}
	proj, _ := w.cloud.Project(appName)
	if proj.Builds != 2 {
		t.Errorf("app built %d times, want 2", proj.Builds)
	}
	if last := lastStatus(t, ds[1]); last.State != "success" || last.EnvironmentURL != proj.GraphQLURL {
		t.Errorf("second deployment ends %s %q", last.State, last.EnvironmentURL)
	}
	if !strings.Contains(cs[0].Body, proj.GraphQLURL) {
		t.Errorf("comment lacks the endpoint:\n%s", cs[0].Body)
	}
}

func TestFailingTaskFailsTheStep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const msg = "column users.email does not exist"
	w.cloud.FailTask(appName, "apply-migration", msg, "migration 1700000000000_init failed")
	res := w.run(runOpts{event: "opened"})
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	errs := commands(res.stdout)["error"]
	if !slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "apply-migration") }) {
		t.Errorf("no ::error naming apply-migration; errors: %q", errs)
	}
	if res.outputs["status"] != "failed" {
		t.Errorf("status = %q, want failed", res.outputs["status"])
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 {
		t.Fatalf("%d comments, want 1", len(cs))
	}
	for _, s := range []string{"apply-migration", msg} {
		if !strings.Contains(cs[0].Body, s) {
			t.Errorf("comment lacks %q:\n%s", s, cs[0].Body)
		}
	}
	ds := w.gh.Deployments(owner, repo)
	if len(ds) != 1 {
		t.Fatalf("%d deployments, want 1", len(ds))
	}
	if last := lastStatus(t, ds[0]); last.State != "failure" {
		t.Errorf("deployment ends %s, want failure", last.State)
	}
}

func TestClosedDeletesThePreview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if res := w.run(runOpts{event: "opened"}); res.code != 0 {
		t.Fatalf("opened: exit %d", res.code)
	}
	res := w.run(runOpts{event: "closed"})
	if res.code != 0 {
		t.Fatalf("closed: exit %d", res.code)
	}
	if _, ok := w.cloud.Project(appName); ok {
		t.Errorf("app %s still exists after close", appName)
	}
	if n := w.cloud.Count("deleteTenant"); n != 1 {
		t.Errorf("deleteTenant called %d times, want 1", n)
	}
	if res.outputs["status"] != "deleted" || res.outputs["projectName"] != appName {
		t.Errorf("outputs %v, want status deleted for %s", res.outputs, appName)
	}
	cs := w.gh.Comments(owner, repo, prNumber)
	if len(cs) != 1 || !strings.Contains(strings.ToLower(cs[0].Body), "deleted") {
		t.Fatalf("want one comment saying deleted, got %d: %+v", len(cs), cs)
	}
	for _, d := range w.gh.Deployments(owner, repo) {
		if last := lastStatus(t, d); last.State != "inactive" {
			t.Errorf("deployment %d ends %s, want inactive", d.ID, last.State)
		}
	}
}

func TestClosedWhenTheAppIsAlreadyGone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if res := w.run(runOpts{event: "opened"}); res.code != 0 {
		t.Fatalf("opened: exit %d", res.code)
	}
	if !w.cloud.DeleteByHand(appName) {
		t.Fatal("the app was not there to delete by hand")
	}
	res := w.run(runOpts{event: "closed"})
	if res.code != 0 {
		t.Fatalf("closed: exit %d, want 0 when the app is gone", res.code)
	}
	if res.outputs["status"] != "deleted" {
		t.Errorf("status = %q, want deleted", res.outputs["status"])
	}
	if n := w.cloud.Count("deleteTenant"); n != 0 {
		t.Errorf("deleteTenant called %d times for a missing app", n)
	}
	// A close with no preview ever built is the same.
	w2 := newWorld(t)
	if res := w2.run(runOpts{event: "closed"}); res.code != 0 || res.outputs["status"] != "deleted" {
		t.Errorf("close without a preview: exit %d, status %q", res.code, res.outputs["status"])
	}
}

func TestConcurrentRunsKeepOneComment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.start(runOpts{event: "opened"})
	b := w.start(runOpts{event: "synchronize"})
	ra, rb := a.wait(), b.wait()
	for i, r := range []runResult{ra, rb} {
		if r.code != 0 {
			t.Errorf("run %d: exit %d", i, r.code)
		}
		if s := r.outputs["status"]; s != "success" && s != "superseded" {
			t.Errorf("run %d: status %q, want success or superseded", i, s)
		}
	}
	if cs := w.gh.Comments(owner, repo, prNumber); len(cs) != 1 {
		t.Errorf("%d comments after two concurrent runs, want 1", len(cs))
	}
	if len(w.cloud.Projects()) != 1 {
		t.Errorf("projects: %+v, want one", w.cloud.Projects())
	}
}

func TestOfficialDropInInputs(t *testing.T) {
	t.Parallel()
	t.Run("cloud_free name and the README's directory input", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		res := w.run(runOpts{inputs: map[string]string{
			"name": "cloud_free", "hasuraCloudProjectDirPath": "hasura", "delete": "false",
			"hasuraEnv": "ENV_VAR_1=value1\nENV_VAR_2=value2\n",
		}})
		if res.code != 0 {
			t.Fatalf("exit %d", res.code)
		}
		proj, ok := w.cloud.Project(appName)
		if !ok {
			t.Fatalf("no app %s; projects %+v", appName, w.cloud.Projects())
		}
		if proj.Directory != "hasura" {
			t.Errorf("directory %q, want hasura", proj.Directory)
		}
		if proj.Env["ENV_VAR_1"] != "value1" || proj.Env["ENV_VAR_2"] != "value2" {
			t.Errorf("env %v", proj.Env)
		}
		if res.outputs["graphQLEndpoint"] != proj.GraphQLURL || res.outputs["projectName"] != appName {
			t.Errorf("outputs %v", res.outputs)
		}
	})
	t.Run("explicit name, delete false then true", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		res := w.run(runOpts{inputs: map[string]string{"name": "my-app", "hasuraProjectDirectoryPath": "hasura", "delete": "false"}})
		if res.code != 0 {
			t.Fatalf("exit %d", res.code)
		}
		proj, ok := w.cloud.Project("my-app")
		if !ok || res.outputs["projectName"] != "my-app" || res.outputs["graphQLEndpoint"] != proj.GraphQLURL {
			t.Fatalf("app my-app: %v, outputs %v", ok, res.outputs)
		}
		// The official delete job runs on closed with delete: true.
		res = w.run(runOpts{event: "closed", inputs: map[string]string{"name": "my-app", "delete": "true"}})
		if res.code != 0 {
			t.Fatalf("delete: exit %d", res.code)
		}
		if _, ok := w.cloud.Project("my-app"); ok {
			t.Error("my-app survived delete: true")
		}
	})
}

func TestForkWithoutCloudTokenIsSkipped(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.run(runOpts{
		editEvent: makeFork,
		env:       map[string]string{"HASURA_CLOUD_ACCESS_TOKEN": ""},
	})
	if res.code != 0 {
		t.Fatalf("exit %d, want 0", res.code)
	}
	if len(commands(res.stdout)["notice"]) == 0 {
		t.Error("no ::notice explaining the skip")
	}
	if res.outputs["status"] != "skipped" {
		t.Errorf("status = %q, want skipped", res.outputs["status"])
	}
	if n := len(w.cloud.Log()); n != 0 {
		t.Errorf("%d Cloud requests for a skipped fork", n)
	}
	if len(w.gh.Comments(owner, repo, prNumber)) != 0 || len(w.gh.Deployments(owner, repo)) != 0 {
		t.Error("a skipped fork got a comment or a deployment")
	}
}

// makeFork moves the PR's head to a fork owned by someone else.
func makeFork(ev map[string]any) {
	r := obj(ev, "pull_request", "head", "repo")
	r["full_name"] = "forker/Hello-World"
	r["fork"] = true
	obj(r, "owner")["login"] = "forker"
	obj(ev, "pull_request", "head")["label"] = "forker:changes"
}

func TestTokenWithoutPermissionStillBuilds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const readOnly = "ghs_TESTreadonly_0a9b8c7d6e5f4a3b"
	w.gh.AddToken(readOnly, ghsim.TokenSpec{Label: "read-only", Repos: []string{owner + "/" + repo},
		Permissions: map[string]string{"contents": "read"}})
	res := w.run(runOpts{env: map[string]string{"GITHUB_TOKEN": readOnly}})
	if res.code != 0 {
		t.Fatalf("exit %d, want 0", res.code)
	}
	if res.outputs["status"] != "success" {
		t.Errorf("status = %q, want success", res.outputs["status"])
	}
	warns := commands(res.stdout)["warning"]
	for _, what := range []string{"comment", "Deployment"} {
		if !slices.ContainsFunc(warns, func(s string) bool { return strings.Contains(s, what) }) {
			t.Errorf("no warning about %s; warnings %q", what, warns)
		}
	}
	if len(w.gh.Comments(owner, repo, prNumber)) != 0 || len(w.gh.Deployments(owner, repo)) != 0 {
		t.Error("comment or deployment written with a token that may not")
	}
	if !onlyInMasks(res.stdout, readOnly) || strings.Contains(res.stderr, readOnly) {
		t.Error("the token was printed")
	}
}

func TestBranchNameCannotInjectOutputs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	evil := "changes\nghadelimiter_x\nstatus<<EOF\npwned\nEOF\n::set-output name=status::pwned\nstatus=pwned"
	res := w.run(runOpts{
		editEvent: func(ev map[string]any) { obj(ev, "pull_request", "head")["ref"] = evil },
		inputs:    map[string]string{"name": "{branch}-{pr}"},
	})
	if res.outputErr != nil {
		t.Fatalf("GITHUB_OUTPUT does not parse: %v\n%s", res.outputErr, res.outputRaw)
	}
	for k, v := range res.outputs {
		if !slices.Contains(successOutputs, k) {
			t.Errorf("unexpected output %s=%q", k, v)
		}
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("output %s spans lines: %q", k, v)
		}
	}
	if s := res.outputs["status"]; s == "pwned" || s == "" {
		t.Errorf("status = %q", s)
	}
	if res.envFile != "" {
		t.Errorf("GITHUB_ENV written: %q", res.envFile)
	}
	// Nor can it issue workflow commands through the log.
	for name, msgs := range commands(res.stdout) {
		if !slices.Contains([]string{"add-mask", "group", "endgroup", "notice", "warning", "error", "debug"}, name) {
			t.Errorf("unexpected workflow command ::%s:: %q", name, msgs)
		}
	}
	if p, ok := w.cloud.Project(res.outputs["projectName"]); ok && p.Branch != evil {
		t.Errorf("the Cloud got branch %q, want the branch as named", p.Branch)
	}
}

func TestBadInputsFailBeforeAnything(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const pasted = "ghp_TESTpastedwithoutkey_77aa"
	res := w.run(runOpts{inputs: map[string]string{
		"cloud":     "azure",
		"hasuraEnv": "HASURA_GRAPHQL_JWT_SECRET=" + jwtSecret + "\n" + pasted + "\n",
		"timeout":   "soon",
	}})
	if res.code != 1 {
		t.Fatalf("exit %d, want 1", res.code)
	}
	errs := strings.Join(commands(res.stdout)["error"], "\n")
	for _, want := range []string{"cloud", "hasuraEnv line 2", "timeout"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors do not name %q: %q", want, errs)
		}
	}
	if n := len(w.cloud.Log()); n != 0 {
		t.Errorf("%d Cloud requests with bad inputs", n)
	}
	if n := len(w.gh.Requests()); n != 0 {
		t.Errorf("%d GitHub requests with bad inputs", n)
	}
	for _, s := range []string{testPAT, testToken, jwtSecret, pasted} {
		if strings.Contains(res.stdout, s) && !onlyInMasks(res.stdout, s) || strings.Contains(res.stderr, s) {
			t.Errorf("secret %q printed", s)
		}
	}
	if len(res.outputs) != 0 {
		t.Errorf("outputs written: %v", res.outputs)
	}
}

func assertKeys(t *testing.T, m map[string]string, want []string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	w := slices.Clone(want)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		t.Errorf("outputs %v, want exactly %v", got, w)
	}
}

func lastStatus(t *testing.T, d ghsim.Deployment) ghsim.DeploymentStatus {
	t.Helper()
	if len(d.Statuses) == 0 {
		t.Fatalf("deployment %d has no status", d.ID)
	}
	return d.Statuses[len(d.Statuses)-1]
}

// onlyInMasks reports whether every line of stdout holding s is an
// ::add-mask:: command.
func onlyInMasks(stdout, s string) bool {
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, s) && !strings.HasPrefix(line, "::add-mask::") {
			return false
		}
	}
	return true
}
