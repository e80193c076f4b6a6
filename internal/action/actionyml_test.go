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
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Image string `yaml:"image"`
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
	if m.Runs.Using != "docker" || m.Runs.Image != "Dockerfile" {
		t.Errorf("runs = %+v, want a docker action built from the Dockerfile", m.Runs)
	}
}

// TestActionYMLDeclaresWhatTheCodeReads compares action.yml's inputs with
// the inputs readInputs asks for: an undeclared input never reaches a
// Docker action (the runner passes only declared ones), and a declared one
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

// TestDockerfileDefaultStageIsTheAction: `image: Dockerfile` builds the
// last stage, which must be the action's (root, no USER, no WORKDIR).
func TestDockerfileDefaultStageIsTheAction(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages := regexp.MustCompile(`(?mi)^FROM\s+\S+\s+AS\s+(\S+)`).FindAllStringSubmatch(string(raw), -1)
	if len(stages) == 0 || stages[len(stages)-1][1] != "action" {
		t.Fatalf("last stage %v, want action", stages)
	}
	last := string(raw)[strings.LastIndex(string(raw), stages[len(stages)-1][0]):]
	for _, forbidden := range []string{"\nUSER", "\nWORKDIR"} {
		if strings.Contains(last, forbidden) {
			t.Errorf("the action stage sets %s: GitHub runs Docker actions as root in its own workdir", strings.TrimSpace(forbidden))
		}
	}
	if !regexp.MustCompile(`(?m)^ENTRYPOINT \["/hasura-preview-action"\]`).MatchString(last) {
		t.Error("the action stage's ENTRYPOINT is not the action binary in exec form")
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
