package action

// actionlint lints workflows, not action metadata: given action.yml it
// reports missing "on" and "jobs" sections. These tests check action.yml
// itself, and that the examples only use inputs and outputs it declares
// (actionlint cannot: it does not know a remote action's metadata).

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
	"gopkg.in/yaml.v3"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

type actionMeta struct {
	Name        string            `yaml:"name"`
	Description string            `yaml:"description"`
	Author      string            `yaml:"author"`
	Branding    map[string]string `yaml:"branding"`
	Inputs      map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readActionYML(t *testing.T) actionMeta {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m actionMeta
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	// Unknown keys are typos ("defualt") the runner would ignore.
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return m
}

// officialInputs are hasura/hasura-cloud-preview-apps's inputs with its
// defaults, except name: its default "cloud_free" is a copy-paste slip that
// both actions treat as "use the naming rule", and ours says so with "".
// delete defaults to auto here (the event decides), which is what a
// workflow passing delete: true or false explicitly never sees.
var officialInputs = map[string]string{
	"name":                       "",
	"hasuraProjectDirectoryPath": "",
	"hasuraCloudProjectDirPath":  "",
	"region":                     "us-west-1",
	"tier":                       "cloud_free",
	"hasuraEnv":                  "",
	"postgresDBConfig":           "",
	"hasuraCloudGraphQLEndpoint": "https://data.pro.hasura.io/v1/graphql",
}

var allOutputs = []string{"graphQLEndpoint", "consoleURL", "projectName", "projectId", "endpoint", "status", "jobId", "deploymentJobId", "apiChanges"}

func TestActionYMLIsADropIn(t *testing.T) {
	m := readActionYML(t)
	for name, def := range officialInputs {
		in, ok := m.Inputs[name]
		if !ok {
			t.Errorf("official input %s is missing", name)
			continue
		}
		if in.Default == nil || *in.Default != def {
			t.Errorf("input %s default = %v, want %q", name, in.Default, def)
		}
		if in.Required {
			t.Errorf("input %s is required: a workflow that omits it would fail", name)
		}
	}
	if d := m.Inputs["name"].Default; d == nil || !preview.IsUnsetName(*d) {
		t.Error("the name default must mean the naming rule")
	}
	if d := m.Inputs["delete"].Default; d == nil || *d != DeleteAuto {
		t.Errorf("delete default = %v, want auto", d)
	}
	for _, name := range allOutputs {
		if _, ok := m.Outputs[name]; !ok {
			t.Errorf("output %s is missing", name)
		}
	}
	if len(m.Outputs) != len(allOutputs) {
		t.Errorf("outputs %v, want exactly %v", slices.Sorted(maps.Keys(m.Outputs)), allOutputs)
	}
	for name, in := range m.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
}

// TestActionYMLPassesEveryInputOn: a composite step gets no INPUT_*
// variables, so action.yml's step must set, for every input, the variable
// go-githubactions reads for it (asked of go-githubactions itself), and
// map every output to the step's. It runs under bash, the one shell of all
// three runner OSes. internal/release runs the step itself.
func TestActionYMLPassesEveryInputOn(t *testing.T) {
	m := readActionYML(t)
	if m.Runs.Using != "composite" || len(m.Runs.Steps) != 1 {
		t.Fatalf("runs = %+v, want a composite action of one step", m.Runs)
	}
	step := m.Runs.Steps[0]
	if step.Shell != "bash" || step.ID == "" {
		t.Errorf("the step has shell %q and id %q, want bash and an id for the outputs", step.Shell, step.ID)
	}
	passed := map[string]bool{}
	for name := range m.Inputs {
		var read []string
		gha := githubactions.New(githubactions.WithGetenv(func(k string) string { read = append(read, k); return "" }))
		_ = gha.GetInput(name)
		if len(read) != 1 {
			t.Fatalf("go-githubactions read %v for input %s, want one variable", read, name)
		}
		passed[read[0]] = true
		if got, want := step.Env[read[0]], "${{ inputs."+name+" }}"; got != want {
			t.Errorf("step env %s = %q, want %q", read[0], got, want)
		}
	}
	for k := range step.Env {
		if strings.HasPrefix(k, "INPUT_") && !passed[k] {
			t.Errorf("step env sets %s, which is no input's variable", k)
		}
	}
	for name, out := range m.Outputs {
		if want := "${{ steps." + step.ID + ".outputs." + name + " }}"; out.Value != want {
			t.Errorf("output %s = %q, want %q", name, out.Value, want)
		}
	}
}

// TestActionYMLDeclaresWhatTheCodeReads compares action.yml's inputs with
// the inputs readInputs asks for: an undeclared input never reaches the
// binary (the step passes only declared ones), and a declared one
// nobody reads is a setting that silently does nothing.
func TestActionYMLDeclaresWhatTheCodeReads(t *testing.T) {
	m := readActionYML(t)
	read := map[string]bool{}
	get := func(name string) string { read[name] = true; return "" }
	_, _ = readInputs(get, func(string) string { return "" })
	for name := range read {
		if _, ok := m.Inputs[name]; !ok {
			t.Errorf("the code reads input %s, which action.yml does not declare", name)
		}
	}
	for name := range m.Inputs {
		if !read[name] {
			t.Errorf("action.yml declares input %s, which the code never reads", name)
		}
	}
}

// TestDockerfileBuildsTheServiceImage: the Dockerfile now builds only the
// webhook service (the action ships as release binaries). Its default stage
// is the service's, as nonroot, and its build stage cross-compiles on the
// builder's platform so the release's linux/arm64 image needs no emulation.
func TestDockerfileBuildsTheServiceImage(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	stages := regexp.MustCompile(`(?mi)^FROM\s+(?:--platform=\S+\s+)?\S+\s+AS\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(stages) == 0 || stages[len(stages)-1][1] != "webhook" {
		t.Fatalf("last stage %v, want webhook", stages)
	}
	last := text[strings.LastIndex(text, stages[len(stages)-1][0]):]
	for _, want := range []string{"\nUSER nonroot:nonroot", "\nENTRYPOINT [\"/hasura-preview-webhook\"]"} {
		if !strings.Contains(last, want) {
			t.Errorf("the webhook stage lacks %q", strings.TrimSpace(want))
		}
	}
	for _, want := range []string{"FROM --platform=$BUILDPLATFORM ", "GOOS=$TARGETOS GOARCH=$TARGETARCH"} {
		if !strings.Contains(text, want) {
			t.Errorf("the build stage lacks %q: an arm64 image would compile under emulation", want)
		}
	}
}

// TestExamplesUseDeclaredInputsAndOutputs reads every example workflow:
// each step that uses this action may only pass declared inputs, and every
// steps.<id>.outputs.<name> of such a step must be a declared output.
func TestExamplesUseDeclaredInputsAndOutputs(t *testing.T) {
	m := readActionYML(t)
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yml"))
	if len(files) == 0 {
		// A skip would pass in CI with the examples moved or renamed.
		t.Fatal("no examples/*.yml to check")
	}
	outRef := regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)
	uses := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					ID   string            `yaml:"id"`
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(raw, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ours := map[string]bool{}
		for job, j := range wf.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "hasura-preview/hasura-preview@") {
					continue
				}
				uses++
				if s.ID != "" {
					ours[s.ID] = true
				}
				for k := range s.With {
					if _, ok := m.Inputs[k]; !ok {
						t.Errorf("%s: job %s passes input %s, which action.yml does not declare", filepath.Base(f), job, k)
					}
				}
			}
		}
		for _, ref := range outRef.FindAllStringSubmatch(string(raw), -1) {
			if !ours[ref[1]] {
				continue
			}
			if _, ok := m.Outputs[ref[2]]; !ok {
				t.Errorf("%s: uses output %s, which action.yml does not declare", filepath.Base(f), ref[2])
			}
		}
	}
	if uses == 0 {
		t.Error("no example uses hasura-preview/hasura-preview")
	}
}
