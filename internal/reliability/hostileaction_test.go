package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
	"github.com/hasura-preview/hasura-preview/internal/testnet"
)

// hostileActionEnv is one run of the action binary between its own
// simulators.
type hostileActionEnv struct {
	sim   *cloudsim.Server
	gh    *ghsim.Server
	cloud string // the Cloud endpoint
	api   string // ghsim's API base
}

// newActionSims starts a Cloud simulator with opts and a GitHub simulator
// holding the fixture's PR Codertocat/Hello-World#2 and a GITHUB_TOKEN
// that may read contents, comment and deploy.
func newActionSims(t *testing.T, opts cloudsim.Options) *hostileActionEnv {
	t.Helper()
	sim, cloudURL := cloudsim.NewTestServer(t, opts)
	gh, api := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	gh.AddRepo("Codertocat", "Hello-World")
	gh.AddPull("Codertocat", "Hello-World", ghsim.PullSpec{Number: 2, HeadRef: "changes", HeadSHA: FixtureHeadSHA,
		User: "Codertocat", Title: "Update the README with new information."})
	gh.AddToken(actionGitHubToken, ghsim.TokenSpec{Label: "GITHUB_TOKEN", Repos: []string{"Codertocat/Hello-World"},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "deployments": "write"}})
	// GITHUB_API_URL has no trailing slash, as the runner sets it.
	return &hostileActionEnv{sim: sim, gh: gh, cloud: cloudURL, api: strings.TrimSuffix(api, "/")}
}

func newHostileActionEnv(t *testing.T) *hostileActionEnv {
	t.Helper()
	return newActionSims(t, cloudsim.Options{PAT: actionPAT, CreationDuration: 50 * time.Millisecond,
		TaskDuration: 10 * time.Millisecond, Seed: 9})
}

// actionRun is what one run of the binary left behind.
type actionRun struct {
	err    error
	killed bool // the watchdog had to kill it
	texts  map[string]string
	stdout string
}

// run execs the action for PR 2's opening with inputs over the defaults;
// a run still going after watchdog is killed and reported as such.
func (e *hostileActionEnv) run(t *testing.T, token string, inputs map[string]string, watchdog time.Duration) actionRun {
	t.Helper()
	in := map[string]string{"hasuraCloudGraphQLEndpoint": e.cloud, "region": "us-west-1", "tier": "cloud_free",
		"cloud": "aws", "timeout": "5m", "comment": "true", "deployment": "true"}
	for k, v := range inputs {
		in[k] = v
	}
	step, err := ActionRunner{Dir: t.TempDir(), GitHubAPI: e.api, GitHubToken: token, CloudPAT: actionPAT, Inputs: in}.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	cmd := exec.CommandContext(ctx, builtAction(t))
	cmd.Env = step.Env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := actionRun{err: err, killed: ctx.Err() != nil, stdout: stdout.String(), texts: map[string]string{
		"stdout": withoutMaskLines(stdout.String()), "stderr": stderr.String()}}
	for f, p := range step.Files {
		b, _ := os.ReadFile(p)
		r.texts[f] = string(b)
	}
	for i, c := range e.gh.Comments("Codertocat", "Hello-World", 2) {
		r.texts[fmt.Sprintf("comment %d", i)] = c.Body
	}
	return r
}

// TestHostileActionOutputs drives the action binary as an attacker would
// (findings 1, 8, 9, 11 and 12 of issue 10): a Cloud error that quotes
// secrets full of Markdown punctuation and holds a bare link, a
// participant's comment that forges our marker, a Cloud that asks to be
// left alone for an hour, a database server that never answers, and a
// token with write scopes.
func TestHostileActionOutputs(t *testing.T) {
	t.Parallel() // mostly waiting on subprocesses

	t.Run("secrets and links in a Cloud error", func(t *testing.T) {
		t.Parallel()
		e := newHostileActionEnv(t)
		e.sim.FailTask("hello-world-pr-2", "apply-migration", hostileCloudError(), "cloning as "+hostileAdminSecret)
		const forged = ghreport.Marker + "\nThe preview moved: https://evil.example/login"
		forgedID := e.gh.AddComment("Codertocat", "Hello-World", 2, "mallory", forged)
		r := e.run(t, actionGitHubToken, map[string]string{"hasuraEnv": "HASURA_GRAPHQL_ADMIN_SECRET=" + hostileAdminSecret +
			"\nHASURA_GRAPHQL_JWT_SECRET<<EOF\n" + hostileJWTSecret + "\nEOF\nPLAIN=1"}, 2*time.Minute)
		if r.killed || r.err == nil {
			t.Fatalf("want a failed run, got %v (killed %v)\n%s", r.err, r.killed, r.stdout)
		}
		leaks, err := ScanSecrets(map[string]string{"admin secret": hostileAdminSecret, "JWT secret": hostileJWTSecret,
			"PAT": actionPAT, "GitHub token": actionGitHubToken}, r.texts)
		if err != nil || len(leaks) > 0 {
			t.Errorf("leaks: %v %v", leaks, err)
		}
		var ours int
		for _, c := range e.gh.Comments("Codertocat", "Hello-World", 2) {
			switch {
			case c.ID == forgedID:
				if c.Body != forged {
					t.Errorf("the action edited mallory's comment that forged its marker")
				}
			case strings.HasPrefix(c.Body, ghreport.Marker):
				ours++
				if !strings.Contains(c.Body, "failed") {
					t.Errorf("our comment does not show the failure:\n%s", c.Body)
				}
				if bareLinks(c.Body, "evil.example") {
					t.Errorf("the Cloud's URL is a link in our comment:\n%s", c.Body)
				}
			}
		}
		if ours != 1 {
			t.Errorf("%d comments of ours, want 1", ours)
		}
		if bareLinks(r.texts["GITHUB_STEP_SUMMARY"], "evil.example") {
			t.Errorf("the Cloud's URL is a link in the step summary:\n%s", r.texts["GITHUB_STEP_SUMMARY"])
		}
	})

	t.Run("a Cloud asking to wait an hour", func(t *testing.T) {
		t.Parallel()
		e := newHostileActionEnv(t)
		e.sim.Inject(cloudsim.Fault{Op: cloud.OpCreatePreviewApp, Kind: cloudsim.FaultRateLimit, RetryAfter: time.Hour, Count: 100})
		r := e.run(t, actionGitHubToken, map[string]string{"timeout": "1m"}, 90*time.Second)
		if r.killed {
			t.Fatalf("the action was still waiting after 90 s on a Retry-After of an hour:\n%s", r.stdout)
		}
		var exit *exec.ExitError
		if !errors.As(r.err, &exit) || !strings.Contains(r.stdout, "::error") {
			t.Errorf("want a reported failure, got %v:\n%s", r.err, r.stdout)
		}
	})

	t.Run("a database server that never answers", func(t *testing.T) {
		t.Parallel()
		e := newHostileActionEnv(t)
		const password = "pw_RELIABILITY_blackhole_5e1f"
		hole := testnet.BlackHole(t)
		r := e.run(t, actionGitHubToken, map[string]string{"postgresDBConfig": "POSTGRES_SERVER_CONNECTION_URI=postgres://admin:" +
			password + "@" + hole + "/postgres?sslmode=disable\nPG_ENV_VARS_FOR_HASURA=PG_DATABASE_URL"}, 90*time.Second)
		if r.killed {
			t.Fatalf("the action was still connecting after 90 s:\n%s", r.stdout)
		}
		if r.err == nil {
			t.Errorf("a preview was reported built without its database")
		}
		if leaks, err := ScanSecrets(map[string]string{"server password": password}, r.texts); err != nil || len(leaks) > 0 {
			t.Errorf("leaks: %v %v", leaks, err)
		}
	})

	t.Run("a token with write scopes", func(t *testing.T) {
		t.Parallel()
		e := newHostileActionEnv(t)
		const classic = "ghp_RELIABILITYclassicRepoScope0a1b2c3d"
		e.gh.AddToken(classic, ghsim.TokenSpec{Login: "octocat", Type: "User", Repos: []string{"Codertocat/Hello-World"},
			Scopes: []string{"repo", "workflow"}})
		r := e.run(t, classic, nil, 2*time.Minute)
		if r.err != nil {
			t.Fatalf("run: %v\n%s", r.err, r.stdout)
		}
		if !strings.Contains(r.stdout, "::warning::") || !strings.Contains(r.stdout, "write scopes (repo, workflow)") {
			t.Errorf("no warning that the token handed to the Cloud can write:\n%s", r.stdout)
		}
		if leaks, err := ScanSecrets(map[string]string{"token": classic}, r.texts); err != nil || len(leaks) > 0 {
			t.Errorf("leaks: %v %v", leaks, err)
		}
	})
}
