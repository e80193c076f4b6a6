package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// releaseJobScripts are the run scripts of release.yml's release job, by
// step name.
func releaseJobScripts(t *testing.T, root string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	runs := map[string]string{}
	for _, s := range wf.Jobs["release"].Steps {
		if s.Run != "" {
			runs[s.Name] = s.Run
		}
	}
	return runs
}

// gitRepos is an origin (bare) and the maintainer's clone, in a git
// environment of their own.
type gitRepos struct {
	t           *testing.T
	origin, dir string
	env         []string
}

func (g *gitRepos) git(dir string, args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = g.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// step runs a release.yml script in dir as the runner runs `run:` on
// ubuntu-latest (bash -e -o pipefail), with the job's variables.
func (g *gitRepos) step(dir, script string, env ...string) string {
	g.t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, g.env...), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("step failed: %v\n%s", err, out)
	}
	return string(out)
}

func (g *gitRepos) remoteTag(tag string) string {
	g.t.Helper()
	out := g.git(g.dir, "ls-remote", "--tags", "--refs", "origin", "refs/tags/"+tag)
	sha, _, _ := strings.Cut(out, "\t")
	return sha
}

// TestReleaseWorkflowCommitsTheSumsOntoTheTag runs the release job's git
// steps from release.yml against a local origin: the pushed tag ends on a
// child of the tagged commit that adds only dist/checksums.txt and
// dist/version, a re-run makes the very same commit, and the major tag
// follows only the newest final release of its line.
func TestReleaseWorkflowCommitsTheSumsOntoTheTag(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	if runtime.GOOS != "linux" {
		t.Skip("release.yml's steps run on ubuntu-latest (GNU sort -V, git)")
	}
	runs := releaseJobScripts(t, root)
	commitStep, majorStep := runs["Commit dist/ on the tagged commit and move the tag onto it"], runs["Move the major tag"]
	if commitStep == "" || majorStep == "" {
		t.Fatalf("release.yml's release job lacks its git steps: %v", runs)
	}

	base := t.TempDir()
	g := &gitRepos{t: t, origin: filepath.Join(base, "origin.git"), dir: filepath.Join(base, "maintainer"),
		env: append(os.Environ(), "HOME="+base, "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=Maintainer",
			"GIT_AUTHOR_EMAIL=m@example.com", "GIT_COMMITTER_NAME=Maintainer", "GIT_COMMITTER_EMAIL=m@example.com")}
	g.git(base, "init", "-q", "--bare", g.origin)
	g.git(base, "clone", "-q", g.origin, g.dir)
	if err := os.WriteFile(filepath.Join(g.dir, "action.yml"), []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g.git(g.dir, "add", "action.yml")
	g.git(g.dir, "commit", "-q", "-m", "source")
	src := g.git(g.dir, "rev-parse", "HEAD")
	g.git(g.dir, "push", "-q", "origin", "HEAD:refs/heads/main")

	sums := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  hasura-preview-action_linux_amd64\n"
	// release is the release job for tag in a fresh checkout of src, as
	// actions/checkout makes it; it returns the checkout.
	release := func(tag string) string {
		g.git(g.dir, "tag", "-f", tag, src)
		g.git(g.dir, "push", "-q", "--force", "origin", "refs/tags/"+tag)
		co := t.TempDir()
		g.git(base, "clone", "-q", g.origin, co)
		g.git(co, "checkout", "-q", "--detach", src)
		if err := os.MkdirAll(filepath.Join(co, "out"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(co, "out", "checksums.txt"), []byte(sums), 0o644); err != nil {
			t.Fatal(err)
		}
		g.step(co, commitStep, "TAG="+tag, "GITHUB_SHA="+src)
		return co
	}

	co := release("v1.2.3")
	rel := g.remoteTag("v1.2.3")
	if rel == src || rel == "" {
		t.Fatalf("the tag was not moved (origin has %q, source %s)", rel, src)
	}
	if parent := g.git(co, "rev-parse", rel+"^"); parent != src {
		t.Errorf("the release commit's parent is %s, want the tagged commit %s", parent, src)
	}
	if files := g.git(co, "diff", "--name-only", src, rel); files != "dist/checksums.txt\ndist/version" {
		t.Errorf("the release commit changes %q, want only dist/checksums.txt and dist/version", files)
	}
	if got := g.git(co, "show", rel+":dist/checksums.txt"); got+"\n" != sums {
		t.Errorf("dist/checksums.txt = %q, want the build's %q", got, sums)
	}
	if got := g.git(co, "show", rel+":dist/version"); got != "v1.2.3" {
		t.Errorf("dist/version = %q", got)
	}
	if branches := g.git(co, "ls-remote", "--heads", "origin"); strings.Count(branches, "\n") != 0 || !strings.HasSuffix(branches, "refs/heads/main") {
		t.Errorf("the release touched branches: %s", branches)
	}

	// A re-run (the tag pushed again at the source, as a retry would
	// find it or as a maintainer re-pushes it) makes the same commit.
	release("v1.2.3")
	if again := g.remoteTag("v1.2.3"); again != rel {
		t.Errorf("a re-run made release commit %s, the first %s", again, rel)
	}

	g.step(co, majorStep, "TAG=v1.2.3")
	if got := g.remoteTag("v1"); got != rel {
		t.Errorf("v1 = %q, want the release commit %s", got, rel)
	}
	// v1.10.0 sorts after v1.2.x by version, not as text: a later fix on
	// the 1.2 line leaves v1 where it is, and so does a prerelease.
	co10 := release("v1.10.0")
	g.step(co10, majorStep, "TAG=v1.10.0")
	rel10 := g.remoteTag("v1.10.0")
	if got := g.remoteTag("v1"); got != rel10 {
		t.Errorf("v1 = %q after v1.10.0, want %s", got, rel10)
	}
	co4 := release("v1.2.4")
	if out := g.step(co4, majorStep, "TAG=v1.2.4"); !strings.Contains(out, "v1.10.0 is newer") {
		t.Errorf("no word on why v1 stays:\n%s", out)
	}
	coRC := release("v1.11.0-rc.1")
	g.step(coRC, majorStep, "TAG=v1.11.0-rc.1")
	if got := g.remoteTag("v1"); got != rel10 {
		t.Errorf("v1 = %q after a fix on an older line and a prerelease, want v1.10.0's %s", got, rel10)
	}
}
