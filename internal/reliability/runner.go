package reliability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ActionRunner is what a GitHub runner hands the action's container for a
// pull_request step, for the benchmarks and suites that exec the built
// action: the event file, empty file-command files, the GITHUB_* variables
// (repository and refs read from the event, as the runner derives them)
// and the step's inputs as INPUT_* variables.
type ActionRunner struct {
	// Dir receives the event file and the file-command files; required.
	Dir string
	// Event is the pull_request payload [the opened fixture: PR 2 of
	// Codertocat/Hello-World].
	Event []byte
	// GitHubAPI is the API base URL (ghsim's), without a trailing slash as
	// the runner gives it; GitHubToken is the workflow's GITHUB_TOKEN and
	// CloudPAT is HASURA_CLOUD_ACCESS_TOKEN.
	GitHubAPI, GitHubToken, CloudPAT string
	// Inputs are the step's `with:` values by input name.
	Inputs map[string]string
}

// fileCommands are the files a runner creates for every step, by the
// variable that names each.
var fileCommands = []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STATE", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"}

// ActionStep is one prepared step.
type ActionStep struct {
	// Env is the environment to exec the action with.
	Env []string
	// Files are the file-command files by variable, to read after the run.
	Files map[string]string
}

// Prepare writes the event file and empty file-command files into Dir and
// returns the step's environment.
func (r ActionRunner) Prepare() (*ActionStep, error) {
	event := r.Event
	if event == nil {
		event = openedFixture
	}
	var ev struct {
		Number      int `json:"number"`
		PullRequest struct {
			Head struct{ Ref, SHA string } `json:"head"`
			Base struct{ Ref string }      `json:"base"`
		} `json:"pull_request"`
		Repository struct {
			FullName string `json:"full_name"`
			Owner    struct {
				Login string `json:"login"`
			} `json:"owner"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("the event is not a pull_request payload: %w", err)
	}
	eventPath := filepath.Join(r.Dir, "event.json")
	if err := os.WriteFile(eventPath, event, 0o644); err != nil {
		return nil, err
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": r.Dir, "CI": "true", "GITHUB_ACTIONS": "true",
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": eventPath,
		"GITHUB_REPOSITORY": ev.Repository.FullName, "GITHUB_REPOSITORY_OWNER": ev.Repository.Owner.Login,
		"GITHUB_REF":      "refs/pull/" + strconv.Itoa(ev.Number) + "/merge",
		"GITHUB_HEAD_REF": ev.PullRequest.Head.Ref, "GITHUB_BASE_REF": ev.PullRequest.Base.Ref,
		"GITHUB_SHA": ev.PullRequest.Head.SHA, "GITHUB_RUN_ID": "1", "GITHUB_RUN_NUMBER": "1",
		"GITHUB_API_URL": r.GitHubAPI, "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_TOKEN": r.GitHubToken, "HASURA_CLOUD_ACCESS_TOKEN": r.CloudPAT,
	}
	for name, v := range r.Inputs {
		// The runner's rule for an input's variable name.
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	step := &ActionStep{Files: map[string]string{}}
	for _, f := range fileCommands {
		p := filepath.Join(r.Dir, strings.ToLower(f))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, err
		}
		env[f] = p
		step.Files[f] = p
	}
	for k, v := range env {
		step.Env = append(step.Env, k+"="+v)
	}
	sort.Strings(step.Env)
	return step, nil
}
