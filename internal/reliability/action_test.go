package reliability

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

const (
	actionPAT         = "hcpat_RELIABILITY_action_4d7e9a0c1b"
	actionGitHubToken = "ghs_RELIABILITYactiontoken_6f2c8e1a"
	actionAdminSecret = "adm_RELIABILITY*action[secret]<93b0>@x#~|&"
)

// TestActionUnderFaults runs the action binary for a PR's opening and
// closing while 30% of Cloud requests fail: the preview must be built and
// then deleted, and no secret may appear in stdout, stderr, the outputs,
// the environment file, the step summary or the PR comment (lines that
// register masks with the runner excepted: the runner hides them).
func TestActionUnderFaults(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses and poll intervals
	bin := builtAction(t)
	env := newActionSims(t, cloudsim.Options{PAT: actionPAT, CreationDuration: 100 * time.Millisecond,
		TaskDuration: 20 * time.Millisecond, Seed: 5})
	env.sim.SetRandomFaults(0.3, 5)

	texts := map[string]string{}
	for _, kind := range []string{"opened", "closed"} {
		event := editPR(0, "", "", func(m map[string]any) {
			m["action"] = kind
			if kind == "closed" {
				m["pull_request"].(map[string]any)["state"] = "closed"
			}
		})
		step, err := ActionRunner{Dir: t.TempDir(), Event: event, GitHubAPI: env.api,
			GitHubToken: actionGitHubToken, CloudPAT: actionPAT, Inputs: map[string]string{
				"hasuraCloudGraphQLEndpoint": env.cloud, "region": "us-west-1",
				"tier": "cloud_free", "cloud": "aws", "delete": "auto", "timeout": "5m", "comment": "true", "deployment": "true",
				"hasuraEnv": "HASURA_GRAPHQL_ADMIN_SECRET=" + actionAdminSecret + "\nPLAIN=1"}}.Prepare()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = step.Env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", kind, err, stdout.String(), stderr.String())
		}
		texts[kind+" stdout"] = withoutMaskLines(stdout.String())
		texts[kind+" stderr"] = stderr.String()
		for f, p := range step.Files {
			b, _ := os.ReadFile(p)
			texts[kind+" "+f] = string(b)
		}
		outputs, err := ghsim.ParseFileCommands(texts[kind+" GITHUB_OUTPUT"])
		if err != nil {
			t.Fatalf("%s: GITHUB_OUTPUT: %v", kind, err)
		}
		want := map[string]string{"opened": "success", "closed": "deleted"}[kind]
		if status := lastValue(outputs, "status"); status != want {
			t.Fatalf("%s: output status = %q, want %q\noutputs: %q\nstdout:\n%s", kind, status, want, outputs, stdout.String())
		}
	}
	if ps := env.sim.Projects(); len(ps) != 0 {
		t.Fatalf("orphans after close: %v", ps)
	}
	for i, c := range env.gh.Comments("Codertocat", "Hello-World", 2) {
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

// lastValue is the value the runner keeps for name: the last one written.
func lastValue(pairs [][2]string, name string) string {
	v := ""
	for _, p := range pairs {
		if p[0] == name {
			v = p[1]
		}
	}
	return v
}
