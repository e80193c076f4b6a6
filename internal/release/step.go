package release

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Action is what the runner reads from action.yml to run the composite
// action.
type Action struct {
	// Defaults are the inputs' defaults by input name.
	Defaults map[string]string
	// Outputs are the outputs' value expressions by output name.
	Outputs map[string]string
	// Step is the one step of runs.steps.
	Step Step
}

// Step is a composite action's run step.
type Step struct {
	ID, Shell, Run string
	Env            map[string]string
}

// LoadAction reads action.yml under the module root.
func LoadAction(root string) (*Action, error) {
	raw, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		return nil, err
	}
	var m struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Value string `yaml:"value"`
		} `yaml:"outputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID    string            `yaml:"id"`
				Shell string            `yaml:"shell"`
				Run   string            `yaml:"run"`
				Env   map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("action.yml: %w", err)
	}
	if m.Runs.Using != "composite" || len(m.Runs.Steps) != 1 {
		return nil, fmt.Errorf("action.yml: runs is %q with %d steps, want one composite step", m.Runs.Using, len(m.Runs.Steps))
	}
	s := m.Runs.Steps[0]
	a := &Action{Defaults: map[string]string{}, Outputs: map[string]string{},
		Step: Step{ID: s.ID, Shell: s.Shell, Run: s.Run, Env: s.Env}}
	for n, in := range m.Inputs {
		a.Defaults[n] = in.Default
	}
	for n, out := range m.Outputs {
		a.Outputs[n] = out.Value
	}
	return a, nil
}

// Checkout lays out the action as the runner unpacks `uses: <repository>@<ref>`
// (the runner's _actions/<owner>/<repo>/<ref>): action.yml and action.sh
// from the module root, and dist holds the files the release commit adds
// (checksums.txt, version). It returns the action path.
func Checkout(root, dir, repository, ref string, dist map[string][]byte) (string, error) {
	path := filepath.Join(dir, "_actions", filepath.FromSlash(repository), ref)
	if err := os.MkdirAll(filepath.Join(path, "dist"), 0o755); err != nil {
		return "", err
	}
	for _, f := range []string{"action.yml", "action.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(path, f), b, 0o644); err != nil {
			return "", err
		}
	}
	for name, b := range dist {
		if err := os.WriteFile(filepath.Join(path, "dist", name), b, 0o644); err != nil {
			return "", err
		}
	}
	return path, nil
}

// Invocation is one use of the action in a workflow's job.
type Invocation struct {
	// ActionPath, ActionRef and ActionRepository are github.action_path,
	// github.action_ref and github.action_repository.
	ActionPath, ActionRef, ActionRepository string
	// With is the `with:` of the workflow's step.
	With map[string]string
	// Env is the environment the runner gives every step of the job (the
	// GITHUB_* and RUNNER_* variables, file-command files, the `uses:`
	// step's env), without INPUT_*: a composite step gets none.
	Env []string
	// ScriptDir receives the run script, as the runner writes it to RUNNER_TEMP.
	ScriptDir string
}

// expr is one ${{ ... }} expression.
var expr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval replaces the expressions of s the way the runner would with the
// given contexts. It knows only plain property references (inputs.x,
// github.x, steps.<id>.outputs.x); anything else is an error, so a new
// expression in action.yml fails the tests until this learns it.
func eval(s string, contexts map[string]map[string]string) (string, error) {
	var bad error
	out := expr.ReplaceAllStringFunc(s, func(m string) string {
		ref := expr.FindStringSubmatch(m)[1]
		ctx, prop, ok := strings.Cut(ref, ".")
		if strings.HasPrefix(ref, "steps.") {
			i := strings.LastIndex(ref, ".")
			ctx, prop, ok = ref[:i], ref[i+1:], true
		}
		vals, known := contexts[ctx]
		if !ok || !known || strings.ContainsAny(prop, " ()|&!=<>'\"") {
			bad = fmt.Errorf("expression %q: not a property this harness knows", m)
			return ""
		}
		// A step's missing output reads empty, as on a runner; any other
		// missing property is one this harness does not give.
		v, found := vals[prop]
		if !found && !strings.HasPrefix(ctx, "steps.") {
			bad = fmt.Errorf("expression %q: not given by this harness (or no such input)", m)
		}
		return v
	})
	return out, bad
}

// Command is the process the runner starts for the step: the run script,
// with its expressions replaced, written to a file and run as GitHub runs
// `shell: bash` on every OS: "bash --noprofile --norc -eo pipefail {0}"
// (GitHub's docs, workflow syntax, jobs.<job_id>.steps[*].shell), with
// the job's environment and the step's evaluated env on top.
func (a *Action) Command(ctx context.Context, inv Invocation) (*exec.Cmd, error) {
	if a.Step.Shell != "bash" {
		return nil, fmt.Errorf("the step's shell is %q: only bash exists on all three runner OSes", a.Step.Shell)
	}
	inputs := maps.Clone(a.Defaults)
	for n, v := range inv.With {
		if _, ok := a.Defaults[n]; !ok {
			return nil, fmt.Errorf("with: %s is not an input of action.yml", n)
		}
		inputs[n] = v
	}
	contexts := map[string]map[string]string{
		"inputs": inputs,
		"github": {"action_path": inv.ActionPath, "action_ref": inv.ActionRef, "action_repository": inv.ActionRepository},
	}
	// The caller's env flows into a composite action's steps, and the
	// step's own env wins over it (actions/runner#1619: "we want to favor
	// what the action author has set"); exec.Cmd keeps the last of
	// duplicate keys.
	env := append([]string{}, inv.Env...)
	// The runner sets GITHUB_ACTION_PATH for a composite action's steps.
	env = append(env, "GITHUB_ACTION_PATH="+inv.ActionPath)
	for k, v := range a.Step.Env {
		ev, err := eval(v, contexts)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", k, err)
		}
		env = append(env, k+"="+ev)
	}
	script, err := eval(a.Step.Run, contexts)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	f, err := os.CreateTemp(inv.ScriptDir, "step-*.sh")
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-eo", "pipefail", f.Name())
	cmd.Env = env
	return cmd, nil
}
