package release

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "embed"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/reliability"
)

var (
	//go:embed testdata/pull_request.opened.json
	openedEvent []byte
	//go:embed testdata/pull_request.closed.json
	closedEvent []byte
)

const (
	actionRepo = "hasura-preview/hasura-preview"
	testTag    = "v9.8.7-test"
	testPAT    = "hcpat_RELEASE_test_71c2e9"
	testToken  = "ghs_RELEASEtesttoken_5ad03f"
	headSHA    = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
)

// GitHub's runner.os and runner.arch values for the runners a release
// serves, in Go's names.
var (
	runnerOS   = map[string]string{"Linux": "linux", "macOS": "darwin", "Windows": "windows"}
	runnerArch = map[string]string{"X64": "amd64", "ARM64": "arm64"}
)

// Tools are what action.sh may find on PATH: those of a Linux runner, and
// of a macOS one, which has shasum instead of sha256sum. A run under either
// set alone shows the script needs nothing else.
var (
	linuxTools = []string{"bash", "curl", "mkdir", "rm", "mv", "chmod", "sha256sum"}
	macTools   = []string{"bash", "curl", "mkdir", "rm", "mv", "chmod", "shasum"}
)

// hostTools is the tool set of a runner like this machine.
func hostTools() []string {
	if _, err := exec.LookPath("sha256sum"); err == nil {
		return linuxTools
	}
	return macTools
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash: the step runs under bash")
	}
	root, err := reliability.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// toolPath is a PATH directory holding only the named commands.
func toolPath(t *testing.T, tools []string) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s is not installed here", tool)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// stepRun is the outcome of one run of the step.
type stepRun struct {
	err     error
	stdout  string
	outputs map[string]string
	rawOut  string
}

// job is one job of a workflow on a runner: the runner's temp directory
// (which outlives steps, as RUNNER_TEMP does for a job) and its identity.
type job struct {
	t                *testing.T
	action           *Action
	temp             string
	os, arch         string
	actionPath       string
	ref              string
	releaseURL       string
	githubAPI, cloud string
	// noRepository leaves github.action_repository empty, as the runner
	// can for a composite action (actions/runner#2473).
	noRepository bool
}

// run runs the step once for event, as a workflow step
// `uses: hasura-preview/hasura-preview@<ref>` with `with:`, and the
// runner's environment with only tools on PATH.
func (j *job) run(event []byte, with map[string]string, tools []string) stepRun {
	t := j.t
	t.Helper()
	dir := t.TempDir()
	step, err := reliability.ActionRunner{Dir: dir, Event: event, GitHubAPI: j.githubAPI, CloudPAT: testPAT}.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	env := append(step.Env, "PATH="+toolPath(t, tools), "RUNNER_OS="+j.os, "RUNNER_ARCH="+j.arch,
		"RUNNER_TEMP="+j.temp, "GITHUB_SERVER_URL="+j.releaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	repo := actionRepo
	if j.noRepository {
		repo = ""
	}
	cmd, err := j.action.Command(ctx, Invocation{ActionPath: j.actionPath, ActionRef: j.ref, ActionRepository: repo,
		With: with, Env: env, ScriptDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	r := stepRun{err: cmd.Run(), stdout: out.String()}
	raw, err := os.ReadFile(step.Files["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	r.rawOut = string(raw)
	if r.outputs, err = j.action.ActionOutputs(r.rawOut); err != nil {
		t.Fatalf("GITHUB_OUTPUT: %v\n%s", err, raw)
	}
	return r
}

// hostTarget is the release target of this machine, and the runner.os and
// runner.arch a runner like it reports.
func hostTarget(t *testing.T, root string) (Target, string, string) {
	t.Helper()
	targets, err := Targets(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.GOOS == runtime.GOOS && tg.GOARCH == runtime.GOARCH {
			for os, goos := range runnerOS {
				for arch, goarch := range runnerArch {
					if goos == tg.GOOS && goarch == tg.GOARCH {
						return tg, os, arch
					}
				}
			}
		}
	}
	t.Skipf("no release target for %s/%s", runtime.GOOS, runtime.GOARCH)
	return Target{}, "", ""
}

// builtAsset is cmd/action built as the release builds it for this machine.
func builtAsset(t *testing.T, root string, tg Target) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), tg.Asset)
	if err := BuildAsset(context.Background(), root, tg, testTag, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newGitHub(t *testing.T) (*ghsim.Server, string) {
	t.Helper()
	gh, base := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	gh.AddRepo("Codertocat", "Hello-World")
	gh.AddPull("Codertocat", "Hello-World", ghsim.PullSpec{Number: 2, HeadRef: "changes", HeadSHA: headSHA,
		User: "Codertocat", Title: "Update the README with new information."})
	gh.AddToken(testToken, ghsim.TokenSpec{Label: "GITHUB_TOKEN", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "deployments": "write"}})
	return gh, strings.TrimSuffix(base, "/")
}

// newCloud is cloudsim with quick jobs, and a count of the GraphQL
// requests it has answered.
func newCloud(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	_, url := cloudsim.NewTestServer(t, cloudsim.Options{PAT: testPAT, CreationDuration: 100 * time.Millisecond,
		TaskDuration: 20 * time.Millisecond, Seed: 3, OnRequest: func(cloudsim.Record) { n.Add(1) }})
	return url, &n
}

func dist(assets map[string][]byte, version string) map[string][]byte {
	return map[string][]byte{"checksums.txt": Checksums(assets), "version": []byte(version + "\n")}
}

func newJob(t *testing.T, root, os, arch, ref string, distFiles map[string][]byte, rel http.Handler) *job {
	t.Helper()
	a, err := LoadAction(root)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Checkout(root, t.TempDir(), actionRepo, ref, distFiles)
	if err != nil {
		t.Fatal(err)
	}
	j := &job{t: t, action: a, temp: t.TempDir(), os: os, arch: arch, actionPath: path, ref: ref}
	if rel != nil {
		srv := httptest.NewServer(rel)
		t.Cleanup(srv.Close)
		j.releaseURL = srv.URL
	}
	return j
}

// TestReleasedActionBuildsAPreview runs action.yml's step as a runner on
// this machine would, for `uses: hasura-preview/hasura-preview@v9`: the
// step downloads the release binary (through a 503 it retries), checks it,
// runs it with the inputs it passes on, and the preview is built with the
// outputs a workflow reads. A second use in the job (the PR's close) runs
// the verified binary again without a download.
func TestReleasedActionBuildsAPreview(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	tg, os_, arch := hostTarget(t, root)
	assets := map[string][]byte{tg.Asset: builtAsset(t, root, tg)}
	rel := NewServer(actionRepo, testTag, assets)
	rel.FailFirst(1)
	j := newJob(t, root, os_, arch, "v9", dist(assets, testTag), rel)
	gh, ghAPI := newGitHub(t)
	j.githubAPI = ghAPI
	var cloudRequests *atomic.Int64
	j.cloud, cloudRequests = newCloud(t)

	// Something other than the release's binary in the job's cache must
	// be replaced, never run (it would exit 0 with no outputs).
	cached := filepath.Join(j.temp, "hasura-preview", testTag, tg.Asset)
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	// The token comes only as the github-token input: INPUT_GITHUB-TOKEN
	// must survive bash. The PAT comes from the environment, as the
	// official action's README has it.
	with := map[string]string{"hasuraCloudGraphQLEndpoint": j.cloud, "github-token": testToken,
		"deployment": "false", "timeout": "2m"}
	r := j.run(openedEvent, with, hostTools())
	if r.err != nil {
		t.Fatalf("the step failed: %v\n%s", r.err, r.stdout)
	}
	if got := rel.Requests(); !slices.Equal(got, []string{tg.Asset, tg.Asset}) {
		t.Errorf("release downloads %v, want %s twice (a 503, then the retry)", got, tg.Asset)
	}
	if !strings.Contains(r.stdout, "hasura-preview "+testTag+": "+tg.Asset) {
		t.Errorf("the step does not say which binary it runs:\n%s", r.stdout)
	}
	if cloudRequests.Load() == 0 {
		t.Error("no request reached the Cloud")
	}
	want := map[string]string{"status": "success", "projectName": "hello-world-pr-2"}
	for k, v := range want {
		if r.outputs[k] != v {
			t.Errorf("output %s = %q, want %q\n%s", k, r.outputs[k], v, r.stdout)
		}
	}
	for _, k := range []string{"graphQLEndpoint", "consoleURL", "projectId", "jobId", "deploymentJobId"} {
		if r.outputs[k] == "" {
			t.Errorf("output %s is empty; GITHUB_OUTPUT:\n%s", k, r.rawOut)
		}
	}
	if r.outputs["endpoint"] != r.outputs["graphQLEndpoint"] {
		t.Errorf("endpoint %q, graphQLEndpoint %q: want the same", r.outputs["endpoint"], r.outputs["graphQLEndpoint"])
	}
	comments := gh.Comments("Codertocat", "Hello-World", 2)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "hasura-preview "+testTag) {
		t.Errorf("want one PR comment whose footer names %s (the version stamp), got %d: %+v", testTag, len(comments), comments)
	}

	// The close, on a macOS-like PATH: shasum must agree with the sum of
	// the cached binary, or the step would download it again.
	r = j.run(closedEvent, with, macTools)
	if r.err != nil {
		t.Fatalf("the closing step failed: %v\n%s", r.err, r.stdout)
	}
	if r.outputs["status"] != "deleted" {
		t.Errorf("closing: status %q, want deleted\n%s", r.outputs["status"], r.stdout)
	}
	if got := len(rel.Requests()); got != 2 {
		t.Errorf("the second use downloaded again (%d requests in all)", got)
	}
}

// TestReleasedActionRefusesATamperedBinary: an asset whose SHA-256 is not
// the one the tagged commit carries fails the step before it runs. Each
// replacement would run: the real binary with bytes appended (it would
// reach the Cloud), and a script in its place (it would leave a file).
func TestReleasedActionRefusesATamperedBinary(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	tg, os_, arch := hostTarget(t, root)
	good := builtAsset(t, root, tg)
	appended := append(append([]byte{}, good...), "tampered"...)
	appendedPath := filepath.Join(t.TempDir(), tg.Asset)
	if err := os.WriteFile(appendedPath, appended, 0o755); err != nil {
		t.Fatal(err)
	}
	// macOS may refuse a signed binary with bytes appended; Linux runs it.
	_, appendedErr := exec.Command(appendedPath, "-version").Output()
	if appendedErr != nil && runtime.GOOS == "linux" {
		t.Fatalf("the tampered binary does not run (%v): the test would prove nothing", appendedErr)
	}

	for _, c := range []struct {
		name   string
		asset  func(temp string) []byte
		tools  []string
		binary bool
	}{
		{"appended bytes, sha256sum", func(string) []byte { return appended }, linuxTools, true},
		{"appended bytes, shasum", func(string) []byte { return appended }, macTools, true},
		{"a script in its place", func(temp string) []byte {
			return []byte("#!/bin/sh\n: > '" + filepath.Join(temp, "ran") + "'\n")
		}, hostTools(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.binary && appendedErr != nil {
				t.Skipf("this OS does not run the binary with bytes appended (%v)", appendedErr)
			}
			j := newJob(t, root, os_, arch, testTag, dist(map[string][]byte{tg.Asset: good}, testTag), nil)
			rel := NewServer(actionRepo, testTag, map[string][]byte{tg.Asset: c.asset(j.temp)})
			srv := httptest.NewServer(rel)
			t.Cleanup(srv.Close)
			j.releaseURL = srv.URL
			var cloudRequests *atomic.Int64
			j.cloud, cloudRequests = newCloud(t)
			// With both tokens the binary, if it ran, would reach the Cloud.
			r := j.run(openedEvent, map[string]string{"hasuraCloudGraphQLEndpoint": j.cloud, "github-token": testToken,
				"comment": "false", "deployment": "false"}, c.tools)
			if r.err == nil {
				t.Fatalf("the step passed with a tampered binary:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "::error") || !strings.Contains(r.stdout, "not running it") {
				t.Errorf("no ::error naming the checksum mismatch:\n%s", r.stdout)
			}
			if got := rel.Requests(); len(got) != 1 {
				t.Errorf("download requests %v, want one", got)
			}
			if n := cloudRequests.Load(); n != 0 {
				t.Errorf("the tampered binary ran: %d Cloud requests", n)
			}
			if _, err := os.Stat(filepath.Join(j.temp, "ran")); err == nil {
				t.Error("the script in the binary's place ran")
			}
			if r.rawOut != "" {
				t.Errorf("outputs written: %q", r.rawOut)
			}
			entries, _ := os.ReadDir(filepath.Join(j.temp, "hasura-preview", testTag))
			if len(entries) != 0 {
				t.Errorf("the download was left behind: %v", entries)
			}
		})
	}
}

// TestReleasedActionPicksTheAssetsReleaseYMLBuilds runs the step for each
// runner.os/runner.arch a release serves and checks the asset it asks the
// release for is the one release.yml's matrix builds for that OS and
// architecture; runners without a release binary fail with an error.
func TestReleasedActionPicksTheAssetsReleaseYMLBuilds(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	targets, err := Targets(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != len(runnerOS)*len(runnerArch) {
		t.Errorf("release.yml builds %d targets, want %d (Linux, macOS, Windows × X64, ARM64): %v",
			len(targets), len(runnerOS)*len(runnerArch), targets)
	}
	// The sums of every target, as a release commit carries them; the
	// release serves none, so the step stops at the download.
	assets := map[string][]byte{}
	for _, tg := range targets {
		assets[tg.Asset] = []byte("not a binary: " + tg.Asset)
	}
	seen := map[string]bool{}
	for os_, goos := range runnerOS {
		for arch, goarch := range runnerArch {
			var want []string
			for _, tg := range targets {
				if tg.GOOS == goos && tg.GOARCH == goarch {
					want = append(want, tg.Asset)
				}
			}
			if len(want) != 1 {
				t.Errorf("%s/%s: release.yml builds %v for %s/%s, want one asset", os_, arch, want, goos, goarch)
				continue
			}
			if exe := strings.HasSuffix(want[0], ".exe"); exe != (goos == "windows") {
				t.Errorf("%s: a Windows binary, and only one, ends in .exe", want[0])
			}
			seen[want[0]] = true
			rel := NewServer(actionRepo, testTag, nil)
			j := newJob(t, root, os_, arch, "v9", dist(assets, testTag), rel)
			r := j.run(openedEvent, nil, hostTools())
			if r.err == nil || !strings.Contains(r.stdout, "downloading") {
				t.Errorf("%s/%s: want a failed download, got %v:\n%s", os_, arch, r.err, r.stdout)
			}
			if got := rel.Requests(); !slices.Equal(got, want) {
				t.Errorf("%s/%s: the step asked for %v, release.yml builds %v", os_, arch, got, want)
			}
		}
	}
	for _, tg := range targets {
		if !seen[tg.Asset] {
			t.Errorf("release.yml builds %s, which no runner downloads", tg.Asset)
		}
	}

	for _, r := range [][2]string{{"Linux", "X86"}, {"Windows", "ARM"}, {"FreeBSD", "X64"}} {
		rel := NewServer(actionRepo, testTag, nil)
		j := newJob(t, root, r[0], r[1], "v9", dist(assets, testTag), rel)
		out := j.run(openedEvent, nil, hostTools())
		if out.err == nil || !strings.Contains(out.stdout, fmt.Sprintf("::error title=hasura-preview::no release binary for a %s %s runner", r[0], r[1])) {
			t.Errorf("%s/%s: want an error naming the runner, got %v:\n%s", r[0], r[1], out.err, out.stdout)
		}
		if got := rel.Requests(); len(got) != 0 {
			t.Errorf("%s/%s: downloaded %v", r[0], r[1], got)
		}
	}
}

// TestReleasedActionRefusals: a ref that is no release, a release commit
// whose files do not cover this runner, and a missing asset each fail the
// step with an error that says what is wrong, and run nothing.
func TestReleasedActionRefusals(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	tg, os_, arch := hostTarget(t, root)
	other := map[string][]byte{"hasura-preview-action_plan9_amd64": []byte("x")}
	mine := map[string][]byte{tg.Asset: []byte("#!/bin/sh\necho ran\n")}
	for _, c := range []struct {
		name         string
		ref          string
		dist         map[string][]byte
		serve        map[string][]byte
		noRepository bool
		wantError    string
		downloads    int
	}{
		{"a branch", "main", nil, mine, false, "hasura-preview/hasura-preview@main carries no dist/checksums.txt", 0},
		{"no sum for this runner", "v9", dist(other, testTag), mine, false, "has no SHA-256 for " + tg.Asset, 0},
		{"a version that is no tag", "v9", dist(mine, "v1/../../evil"), mine, false, "dist/version holds no release tag", 0},
		{"no such asset", "v9", dist(mine, testTag), nil, false, "downloading", 1},
		// The repository then comes from the action's path: the request
		// still reaches this release (the server counts only its own paths).
		{"no such asset, no action_repository", "v9", dist(mine, testTag), nil, true, "downloading", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rel := NewServer(actionRepo, testTag, c.serve)
			j := newJob(t, root, os_, arch, c.ref, c.dist, rel)
			j.noRepository = c.noRepository
			r := j.run(openedEvent, nil, hostTools())
			if r.err == nil || !strings.Contains(r.stdout, "::error title=hasura-preview::") || !strings.Contains(r.stdout, c.wantError) {
				t.Errorf("want the step to fail with %q, got %v:\n%s", c.wantError, r.err, r.stdout)
			}
			if strings.Contains(r.stdout, "ran") {
				t.Error("the binary ran")
			}
			if got := len(rel.Requests()); got != c.downloads {
				t.Errorf("%d download requests, want %d", got, c.downloads)
			}
		})
	}
}
