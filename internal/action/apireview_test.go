package action

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/apireview"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const (
	fixtures = "../apireview/testdata/nextjs-13/"
	baseSHA  = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
)

// newReviewRun is newInproc with the nextjs-13 fixture under hasura/ on
// the base commit and on the PR's head, and an event naming the base sha.
func newReviewRun(t *testing.T) *inproc {
	t.Helper()
	p := newInproc(t)
	p.gh.SetRef("Codertocat", "Hello-World", "master", baseSHA)
	seedDir(t, p.gh, "master", fixtures+"base")
	seedDir(t, p.gh, "changes", fixtures+"head")
	event := `{"action":"synchronize","number":2,"pull_request":{"number":2,"state":"open",
	  "head":{"ref":"changes","sha":"` + testSHA + `","repo":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}},
	  "base":{"ref":"master","sha":"` + baseSHA + `","repo":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}}},
	  "repository":{"name":"Hello-World","full_name":"Codertocat/Hello-World","owner":{"login":"Codertocat"}}}`
	write(t, filepath.Join(p.dir, "event.json"), event)
	p.env["INPUT_HASURAPROJECTDIRECTORYPATH"] = "hasura"
	return p
}

func seedDir(t *testing.T, sim *ghsim.Server, branch, dir string) {
	t.Helper()
	if err := sim.SetDir("Codertocat", "Hello-World", branch, "hasura", os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
}

func wantSummary(t *testing.T) string {
	t.Helper()
	b, h := apireview.LoadPair(os.DirFS(fixtures+"base"), os.DirFS(fixtures+"head"), apireview.Limits{})
	return apireview.Diff(b, h, apireview.Options{}).Summary
}

// TestAPIReviewThroughTheAPI: a shallow checkout (no workspace) reads
// both sides as archives; the section is in the first comment (while
// building), the last one, the step summary and the apiChanges output.
func TestAPIReviewThroughTheAPI(t *testing.T) {
	p := newReviewRun(t)
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	summary := wantSummary(t)
	var first string
	for _, rq := range p.gh.Requests() {
		if rq.Method == "POST" && strings.HasSuffix(rq.Path, "/issues/2/comments") {
			first = rq.Body
			break
		}
	}
	if !strings.Contains(first, "is building") || !strings.Contains(first, "### API changes") || !strings.Contains(first, summary) {
		t.Errorf("first comment (while building) lacks the section:\n%s", first)
	}
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "is ready") || !strings.Contains(cs[0].Body, summary) {
		t.Errorf("final comment: %+v", cs)
	}
	var rep apireview.Report
	if err := json.Unmarshal([]byte(p.outputs()["apiChanges"]), &rep); err != nil || rep.Summary != summary {
		t.Errorf("apiChanges output: %v %q", err, rep.Summary)
	}
	if s, _ := os.ReadFile(filepath.Join(p.dir, "summary")); !strings.Contains(string(s), "### API changes") {
		t.Errorf("step summary lacks the section:\n%s", s)
	}
	if n := p.gh.CountRequests("GET", "/tarball/"); n != 2 {
		t.Errorf("%d archive requests, want 2", n)
	}
}

// TestAPIReviewOnAFailedBuild: the section does not depend on the build.
func TestAPIReviewOnAFailedBuild(t *testing.T) {
	p := newReviewRun(t)
	p.cloud.FailTask("hello-world-pr-2", "apply-migration", "migration failed", "")
	if err := p.run(); err == nil {
		t.Fatal("the build was meant to fail")
	}
	cs := p.gh.Comments("Codertocat", "Hello-World", 2)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "failed") || !strings.Contains(cs[0].Body, wantSummary(t)) {
		t.Errorf("comment of a failed build: %+v", cs)
	}
	if p.outputs()["apiChanges"] == "" {
		t.Error("no apiChanges output on a failed build")
	}
}

// TestAPIReviewHeadFromTheWorkspace: when the checkout holds the head
// commit, head is read from disk (one archive request, for base), and a
// symbolic link in the pull request is not followed.
func TestAPIReviewHeadFromTheWorkspace(t *testing.T) {
	p := newReviewRun(t)
	ws := t.TempDir()
	if err := os.CopyFS(filepath.Join(ws, "hasura"), os.DirFS(fixtures+"head")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(ws, ".git"))
	write(t, filepath.Join(ws, ".git", "HEAD"), testSHA+"\n")
	p.env["GITHUB_WORKSPACE"] = ws
	secret := filepath.Join(t.TempDir(), "runner-secret.yaml")
	write(t, secret, "table: {schema: public, name: LEAKED_"+testPAT+"}\n")
	tables := filepath.Join(ws, "hasura/metadata/databases/default/tables")
	if err := os.Symlink(secret, filepath.Join(tables, "public_leak.yaml")); err != nil {
		t.Fatal(err)
	}
	list, _ := os.ReadFile(filepath.Join(tables, "tables.yaml"))
	write(t, filepath.Join(tables, "tables.yaml"), string(list)+"- '!include public_leak.yaml'\n")

	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if n := p.gh.CountRequests("GET", "/tarball/"); n != 1 {
		t.Errorf("%d archive requests, want 1 (base only)", n)
	}
	out := p.outputs()["apiChanges"]
	var rep apireview.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, "symbolic link") || rep.Problems[0].File != "metadata/databases/default/tables/public_leak.yaml" {
		t.Errorf("problems: %+v", rep.Problems)
	}
	body := p.gh.Comments("Codertocat", "Hello-World", 2)[0].Body
	if strings.Contains(body+out, "LEAKED") {
		t.Error("the linked file was read")
	}
	if !strings.Contains(body, "public_leak.yaml") {
		t.Errorf("the refused file is not named in the comment:\n%s", body)
	}
}

// TestAPIReviewMergeCheckout: actions/checkout's default for pull
// requests is the merge commit, not the head: head comes from the API.
func TestAPIReviewMergeCheckout(t *testing.T) {
	p := newReviewRun(t)
	ws := t.TempDir()
	if err := os.CopyFS(filepath.Join(ws, "hasura"), os.DirFS(fixtures+"base")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(ws, ".git"))
	write(t, filepath.Join(ws, ".git", "HEAD"), "ref: refs/remotes/pull/2/merge\n")
	write(t, filepath.Join(ws, ".git", "packed-refs"), "# pack-refs with: peeled fully-peeled sorted\nf95f852bd8fca8fcc58a9a2d6c842781e32a215e refs/remotes/pull/2/merge\n")
	p.env["GITHUB_WORKSPACE"] = ws
	if err := p.run(); err != nil {
		t.Fatal(err)
	}
	if n := p.gh.CountRequests("GET", "/tarball/"); n != 2 {
		t.Errorf("%d archive requests, want 2", n)
	}
	if got := p.gh.Comments("Codertocat", "Hello-World", 2)[0].Body; !strings.Contains(got, wantSummary(t)) {
		t.Errorf("comment:\n%s", got)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
