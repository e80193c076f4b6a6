package reliability

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const (
	actionPAT         = "hcpat_RELIABILITY_action_4d7e9a0c1b"
	actionGitHubToken = "ghs_RELIABILITYactiontoken_6f2c8e1a"
	actionAdminSecret = "adm_RELIABILITY_action_secret_93b0"
)

// TestActionUnderFaults runs the action binary for a PR's opening and
// closing while 30% of Cloud requests fail: the preview must be built and
// then deleted, and no secret may appear in stdout, stderr, the outputs,
// the environment file, the step summary or the PR comment (lines that
// register masks with the runner excepted: the runner hides them).
func TestActionUnderFaults(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses and poll intervals
	bin := builtAction(t)
	sim, err := cloudsim.New(cloudsim.Options{PAT: actionPAT, CreationDuration: 100 * time.Millisecond,
		TaskDuration: 20 * time.Millisecond, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetRandomFaults(0.3, 5)
	cs := httptest.NewServer(sim)
	defer cs.Close()
	gh := ghsim.New(ghsim.Options{Prefix: "/api/v3/"})
	gh.AddRepo("Codertocat", "Hello-World")
	gh.AddPull("Codertocat", "Hello-World", ghsim.PullSpec{Number: 2, HeadRef: "changes", HeadSHA: FixtureHeadSHA,
		User: "Codertocat", Title: "Update the README with new information."})
	gh.AddToken(actionGitHubToken, ghsim.TokenSpec{Label: "GITHUB_TOKEN", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "deployments": "write"}})
	ghs := httptest.NewServer(gh)
	defer ghs.Close()

	texts := map[string]string{}
	for _, action := range []string{"opened", "closed"} {
		dir := t.TempDir()
		event := editPR(0, "", "", func(m map[string]any) {
			m["action"] = action
			if action == "closed" {
				m["pull_request"].(map[string]any)["state"] = "closed"
			}
		})
		if err := os.WriteFile(filepath.Join(dir, "event.json"), event, 0o644); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CI=true", "GITHUB_ACTIONS=true",
			"GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + filepath.Join(dir, "event.json"),
			"GITHUB_REPOSITORY=Codertocat/Hello-World", "GITHUB_REPOSITORY_OWNER=Codertocat",
			"GITHUB_API_URL=" + ghs.URL + "/api/v3", "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=7",
			"GITHUB_TOKEN=" + actionGitHubToken, "HASURA_CLOUD_ACCESS_TOKEN=" + actionPAT,
			"INPUT_HASURACLOUDGRAPHQLENDPOINT=" + cs.URL + cloudsim.DefaultPath, "INPUT_REGION=us-west-1",
			"INPUT_TIER=cloud_free", "INPUT_CLOUD=aws", "INPUT_DELETE=auto", "INPUT_TIMEOUT=5m",
			"INPUT_COMMENT=true", "INPUT_DEPLOYMENT=true",
			"INPUT_HASURAENV=HASURA_GRAPHQL_ADMIN_SECRET=" + actionAdminSecret + "\nPLAIN=1"}
		for _, f := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
			p := filepath.Join(dir, strings.ToLower(f))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			files[f] = p
			env = append(env, f+"="+p)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", action, err, stdout.String(), stderr.String())
		}
		texts[action+" stdout"] = withoutMaskLines(stdout.String())
		texts[action+" stderr"] = stderr.String()
		for f, p := range files {
			b, _ := os.ReadFile(p)
			texts[action+" "+f] = string(b)
		}
		outputs := texts[action+" GITHUB_OUTPUT"]
		want := map[string]string{"opened": "success", "closed": "deleted"}[action]
		if !strings.Contains(outputs, want) {
			t.Fatalf("%s: outputs do not say %s:\n%s\nstdout:\n%s", action, want, outputs, stdout.String())
		}
	}
	if ps := sim.Projects(); len(ps) != 0 {
		t.Fatalf("orphans after close: %v", ps)
	}
	for i, c := range gh.Comments("Codertocat", "Hello-World", 2) {
		texts[fmt.Sprintf("comment %d", i)] = c.Body
	}
	leaks, err := ScanSecrets(map[string]string{"PAT": actionPAT, "GitHub token": actionGitHubToken,
		"admin secret": actionAdminSecret}, texts)
	if err != nil || len(leaks) > 0 {
		t.Fatalf("leaks: %v %v", leaks, err)
	}
}

// withoutMaskLines drops ::add-mask:: commands: they hand the secret to the
// runner, which hides it everywhere, and are never shown.
func withoutMaskLines(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "::add-mask::") {
			b.WriteString(sc.Text())
			b.WriteByte('\n')
		}
	}
	return b.String()
}
