package reliability

import (
	"os"
	"slices"
	"testing"
)

// TestActionRunnerPrepare: the environment names the files it created and
// takes the repository and refs from the event, as a runner does.
func TestActionRunnerPrepare(t *testing.T) {
	step, err := ActionRunner{Dir: t.TempDir(), Event: editPR(7, "topic", "", nil), GitHubAPI: "http://127.0.0.1:1/api/v3",
		GitHubToken: "ghs_x", CloudPAT: "hcpat_x", Inputs: map[string]string{"allow-forks": "true", "a b": "c"}}.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"GITHUB_REPOSITORY=Codertocat/Hello-World", "GITHUB_REPOSITORY_OWNER=Codertocat",
		"GITHUB_REF=refs/pull/7/merge", "GITHUB_HEAD_REF=topic", "GITHUB_BASE_REF=main", "GITHUB_SHA=" + FixtureHeadSHA,
		"INPUT_ALLOW-FORKS=true", "INPUT_A_B=c", "GITHUB_TOKEN=ghs_x", "HASURA_CLOUD_ACCESS_TOKEN=hcpat_x"} {
		if !slices.Contains(step.Env, kv) {
			t.Errorf("environment lacks %s", kv)
		}
	}
	if len(step.Files) != len(fileCommands) {
		t.Fatalf("files %v", step.Files)
	}
	for name, path := range step.Files {
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 || !slices.Contains(step.Env, name+"="+path) {
			t.Errorf("%s: %s not created empty and named (%v)", name, path, err)
		}
	}
	if _, err := (ActionRunner{Dir: t.TempDir(), Event: []byte("[")}).Prepare(); err == nil {
		t.Error("a broken event was accepted")
	}
}
