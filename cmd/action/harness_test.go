package main

// The tests in this package run the real binary the way action.yml's step
// runs it: every input of action.yml as INPUT_*, with its default
// unless the test overrides it, the file-command files, the event payload
// and the GITHUB_* variables, against the Cloud simulator and the GitHub
// simulator (mounted under /api/v3/, as on GitHub Enterprise, so a client
// that drops the prefix is caught).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hasura-preview/hasura-preview/internal/cloud/cloudsim"
	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// actionBin is the binary under test, built once by TestMain.
var actionBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	// Each run spends most of its time waiting on the engine's 2 s poll,
	// not on a CPU: run more of them at once than there are cores, unless
	// -parallel says otherwise.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "8")
	}
	dir, err := os.MkdirTemp("", "hasura-preview-action-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	actionBin = filepath.Join(dir, "action")
	build := exec.Command("go", "build", "-o", actionBin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the action: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// The run's secrets: distinctive, so a leak anywhere is found by substring.
const (
	testPAT     = "hcpat_TESTpat_5d1f0c9e7a3b4e21"
	testToken   = "ghs_TESTgithubtoken_8c2e4a6f0b1d3e5a"
	jwtSecret   = `{"type":"RS256","jwk_url":"https://clerk.example.com/.well-known/jwks.json"}`
	plainValue  = "a=b;c"
	headSHA     = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	owner, repo = "Codertocat", "Hello-World"
	prNumber    = 2
	appName     = "hello-world-pr-2"
)

// defaultHasuraEnv has values the official action would mangle: a JSON JWT
// secret (as Clerk's docs give it) and a value with '=' and ';'.
var defaultHasuraEnv = "HASURA_GRAPHQL_JWT_SECRET=" + jwtSecret + "\nPLAIN_VALUE=" + plainValue + "\n"

// world is one Cloud and one GitHub, shared by the runs of a test.
type world struct {
	t             *testing.T
	cloud         *cloudsim.Server
	cloudEndpoint string
	gh            *ghsim.Server
	ghAPI         string // without a trailing slash, as the runner gives it
}

func newWorld(t *testing.T, mutate ...func(*cloudsim.Options)) *world {
	t.Helper()
	cs, cloudEndpoint := cloudsim.NewTestServer(t, cloudsim.Options{PAT: testPAT,
		CreationDuration: 50 * time.Millisecond, TaskDuration: 20 * time.Millisecond}, mutate...)
	gh, api := ghsim.NewTestServer(t, ghsim.Options{Prefix: "/api/v3/"})
	gh.AddRepo(owner, repo)
	gh.AddPull(owner, repo, ghsim.PullSpec{Number: prNumber, HeadRef: "changes", HeadSHA: headSHA, User: owner,
		Title: "Update the README with new information."})
	// What a workflow with `permissions: pull-requests: write, deployments:
	// write, contents: read` gets.
	gh.AddToken(testToken, ghsim.TokenSpec{Label: "GITHUB_TOKEN", Repos: []string{owner + "/" + repo},
		Permissions: map[string]string{"contents": "read", "pull_requests": "write", "deployments": "write"}})
	return &world{t: t, cloud: cs, cloudEndpoint: cloudEndpoint, gh: gh, ghAPI: strings.TrimSuffix(api, "/")}
}

// runOpts describes one step run.
type runOpts struct {
	// event names the fixture: opened, synchronize or closed.
	event string
	// editEvent changes the payload before it is written.
	editEvent func(ev map[string]any)
	// inputs override action.yml's defaults, by input name.
	inputs map[string]string
	// env overrides the runner's variables; an empty value removes one.
	env map[string]string
}

// runResult is what the runner sees of a step.
type runResult struct {
	code           int
	stdout, stderr string
	outputRaw      string
	outputs        map[string]string
	outputErr      error
	summary        string
	envFile        string
}

// proc is a started step.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	cancel context.CancelFunc
}

// actionMeta is the part of action.yml a runner reads for a step.
type actionMeta struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]any `yaml:"outputs"`
}

func readActionYML(t *testing.T) actionMeta {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta actionMeta
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return meta
}

// actionInputs reads action.yml's inputs with their defaults.
func actionInputs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, in := range readActionYML(t).Inputs {
		out[name] = in.Default
	}
	return out
}

// actionOutputs lists action.yml's outputs.
func actionOutputs(t *testing.T) []string {
	t.Helper()
	var out []string
	for name := range readActionYML(t).Outputs {
		out = append(out, name)
	}
	return out
}

// inputEnv is the runner's name for an input's variable.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

func (w *world) start(o runOpts) *proc {
	t := w.t
	t.Helper()
	dir := t.TempDir()
	if o.event == "" {
		o.event = "opened"
	}
	eventPath := filepath.Join(dir, "event.json")
	writeEvent(t, o.event, eventPath, o.editEvent)

	inputs := actionInputs(t)
	inputs["hasuraCloudGraphQLEndpoint"] = w.cloudEndpoint
	inputs["hasuraEnv"] = defaultHasuraEnv
	for k, v := range o.inputs {
		if _, ok := inputs[k]; !ok {
			t.Fatalf("input %q is not in action.yml", k)
		}
		inputs[k] = v
	}
	env := map[string]string{
		"HOME":                      dir,
		"PATH":                      os.Getenv("PATH"),
		"CI":                        "true",
		"GITHUB_ACTIONS":            "true",
		"GITHUB_ACTION":             "preview",
		"GITHUB_ACTOR":              owner,
		"GITHUB_WORKFLOW":           "Preview",
		"GITHUB_JOB":                "preview",
		"GITHUB_OUTPUT":             touch(t, dir, "output"),
		"GITHUB_ENV":                touch(t, dir, "env"),
		"GITHUB_STATE":              touch(t, dir, "state"),
		"GITHUB_PATH":               touch(t, dir, "path"),
		"GITHUB_STEP_SUMMARY":       touch(t, dir, "summary"),
		"GITHUB_WORKSPACE":          mkdir(t, dir, "workspace"),
		"RUNNER_TEMP":               mkdir(t, dir, "runner-temp"),
		"GITHUB_SHA":                "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", // the merge commit, not the head
		"GITHUB_REF":                fmt.Sprintf("refs/pull/%d/merge", prNumber),
		"GITHUB_HEAD_REF":           "changes",
		"GITHUB_BASE_REF":           "master",
		"GITHUB_RUN_ID":             "4242",
		"GITHUB_RUN_NUMBER":         "7",
		"GITHUB_RUN_ATTEMPT":        "1",
		"GITHUB_REPOSITORY":         owner + "/" + repo,
		"GITHUB_REPOSITORY_OWNER":   owner,
		"GITHUB_EVENT_NAME":         "pull_request",
		"GITHUB_EVENT_PATH":         eventPath,
		"GITHUB_API_URL":            w.ghAPI,
		"GITHUB_SERVER_URL":         "https://github.com",
		"GITHUB_GRAPHQL_URL":        w.ghAPI + "/graphql",
		"GITHUB_TOKEN":              testToken,
		"HASURA_CLOUD_ACCESS_TOKEN": testPAT,
	}
	for k, v := range inputs {
		env[inputEnv(k)] = v
	}
	for k, v := range o.env {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, actionBin)
	cmd.Dir = env["GITHUB_WORKSPACE"]
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{t: t, cmd: cmd, dir: dir, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, cancel: cancel}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	return p
}

func (p *proc) wait() runResult {
	t := p.t
	t.Helper()
	defer p.cancel()
	err := p.cmd.Wait()
	res := runResult{stdout: p.stdout.String(), stderr: p.stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running the action: %v", err)
	}
	res.outputRaw = readFile(t, filepath.Join(p.dir, "output"))
	res.outputs, res.outputErr = parseOutputs(res.outputRaw)
	res.summary = readFile(t, filepath.Join(p.dir, "summary"))
	res.envFile = readFile(t, filepath.Join(p.dir, "env"))
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		}
	})
	return res
}

func (w *world) run(o runOpts) runResult {
	w.t.Helper()
	return w.start(o).wait()
}

// writeEvent copies testdata/pull_request.<event>.json to path, edited.
func writeEvent(t *testing.T, event, path string, edit func(map[string]any)) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "pull_request."+event+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev)
		if raw, err = json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// obj walks a decoded payload: obj(ev, "pull_request", "head").
func obj(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func touch(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parseOutputs reads GITHUB_OUTPUT as the runner does (a heredoc without
// its delimiter fails the step), and refuses a repeated name: the action
// never sets one output twice.
func parseOutputs(text string) (map[string]string, error) {
	out := map[string]string{}
	kv, err := ghsim.ParseFileCommands(text)
	for _, e := range kv {
		if _, dup := out[e[0]]; dup {
			return out, fmt.Errorf("%s set twice", e[0])
		}
		out[e[0]] = e[1]
	}
	return out, err
}

// commands returns the workflow commands (::name ...::message) printed on
// stdout, as the runner would see them, by name.
func commands(stdout string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "::") {
			continue
		}
		rest := line[2:]
		end := strings.Index(rest, "::")
		if end < 0 {
			continue
		}
		name, _, _ := strings.Cut(rest[:end], " ")
		out[name] = append(out[name], rest[end+2:])
	}
	return out
}
