package webhook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameAsStdlib fails when fastPullRequest accepts body but decodes it
// differently from json.Unmarshal, or accepts what json.Unmarshal refuses.
func sameAsStdlib(t *testing.T, body []byte) (fastOK bool) {
	t.Helper()
	fast, ok := fastPullRequest(body)
	if !ok {
		return false
	}
	var std pullRequestEvent
	if err := json.Unmarshal(body, &std); err != nil {
		t.Fatalf("the fast path accepted what encoding/json refuses (%v): %q", err, body)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("the fast path decoded %q as\n%#v\nencoding/json as\n%#v", body, fast, std)
	}
	return true
}

func TestFastPullRequestTakesGitHubPayloads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pull_request.*.json"))
	if len(files) < 4 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !sameAsStdlib(t, b) {
			t.Errorf("%s: the fast path refused a real payload", name)
		}
	}
}

// Shapes where a careless fast path and encoding/json part ways. Each must
// be refused by the fast path or decoded identically.
var fastEdgeCases = []string{
	`{"action":"opened","action":"closed"}`,
	`{"Action":"opened"}`,
	`{"ACTION":"opened","action":"closed"}`,
	`{"\u0061ction":"opened"}`,
	`{"pull_request":{"ſtate":"closed"}}`,
	`{"pull_request":{"number":2.0}}`,
	`{"pull_request":{"number":2e0}}`,
	`{"pull_request":{"number":"2"}}`,
	`{"pull_request":{"number":99999999999999999999}}`,
	`{"pull_request":{"number":-0}}`,
	`{"pull_request":{"number":null,"title":null,"draft":null,"updated_at":null,"user":null,"labels":null}}`,
	`{"pull_request":{"labels":[]}}`,
	`{"pull_request":{"labels":[null]}}`,
	`{"pull_request":{"labels":[1]}}`,
	`{"pull_request":{"labels":{"name":"x"}}}`,
	`{"pull_request":{"labels":[{"name":"a"},{"name":"b","name":"c"}]}}`,
	`{"pull_request":{"updated_at":5}}`,
	`{"pull_request":{"updated_at":"yesterday"}}`,
	`{"pull_request":{"updated_at":"2024-01-02T03:04:05Z"}}`,
	`{"pull_request":{"updated_at":"2024-01-02T03:04:05\u005a"}}`,
	`{"pull_request":{"title":"caf\u00e9 \ud800 \"q\""}}`,
	`{"pull_request":{"title":"tab\there"}}`,
	`{"pull_request":{"draft":"true"}}`,
	`{"pull_request":{"head":{"repo":null,"sha":"x"},"base":{"repo":{"owner":{"login":"o"},"name":"r"}}}}`,
	`{"pull_request":{"head":[],"base":null}}`,
	`{"pull_request":null,"repository":null,"installation":null}`,
	`{"pull_request":{},"pull_request":{"number":1}}`,
	`{"installation":{"id":1.5}}`,
	`{"installation":{"id":-7}}`,
	`{"repository":{"owner":"o"}}`,
	`[1,2,3]`,
	`null`,
	`"x"`,
	`{"action":"opened"} trailing`,
	`{"action":"opened"}` + "\n\t ",
	`{"action":"opened",}`,
	"{\"action\":\"op\xffened\"}",
	strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000),
	strings.Repeat(`[`, 3000) + strings.Repeat(`]`, 3000),
}

func TestFastPullRequestEdgeCases(t *testing.T) {
	for _, c := range fastEdgeCases {
		sameAsStdlib(t, []byte(c))
	}
}

// FuzzFastPullRequest checks the fast path against json.Unmarshal.
func FuzzFastPullRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "pull_request.*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range fastEdgeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsStdlib(t, body) })
}
