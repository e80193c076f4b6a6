package cloudsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

const testPAT = "test-pat-7f3a9c"

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type simEnv struct {
	t     *testing.T
	sim   *Server
	clock *clock.Manual
	url   string
}

// newSim starts a simulator on loopback with a manual clock at t0 and
// default durations (creation 2 s, task 500 ms) unless mutate says otherwise.
func newSim(t *testing.T, mutate func(*Options)) *simEnv {
	t.Helper()
	clock := clock.NewManual(t0)
	sim, url := NewTestServer(t, Options{PAT: testPAT, Clock: clock, Seed: 42}, mutate)
	return &simEnv{t: t, sim: sim, clock: clock, url: url}
}

// post sends one GraphQL request; auth is the whole Authorization header
// ("" sends none).
func (e *simEnv) post(auth string, body any) (int, http.Header, []byte) {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

type gqlBody struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
}

// raw sends query with vars and the right token, returning status and body.
func (e *simEnv) raw(query string, vars map[string]any) (int, []byte) {
	e.t.Helper()
	status, _, body := e.post("pat "+testPAT, gqlBody{Query: query, Variables: vars})
	return status, body
}

// gql sends query and returns data, failing the test on any error.
func (e *simEnv) gql(query string, vars map[string]any) map[string]any {
	e.t.Helper()
	status, body := e.raw(query, vars)
	var resp struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || status != 200 || resp.Errors != nil {
		e.t.Fatalf("query failed: status %d, body %s", status, body)
	}
	return resp.Data
}

type gqlErr struct {
	Message    string `json:"message"`
	Extensions struct {
		Path string `json:"path"`
		Code string `json:"code"`
	} `json:"extensions"`
}

// gqlFail sends query and returns its single error, failing the test if
// the answer has data or is not HTTP 200.
func (e *simEnv) gqlFail(query string, vars map[string]any) gqlErr {
	e.t.Helper()
	status, body := e.raw(query, vars)
	return decodeErr(e.t, status, body)
}

func decodeErr(t *testing.T, status int, body []byte) gqlErr {
	t.Helper()
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlErr        `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || status != 200 || len(resp.Errors) != 1 || resp.Data != nil {
		t.Fatalf("want one error and no data, got status %d, body %s", status, body)
	}
	return resp.Errors[0]
}

func official(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "official", name+".graphql"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// path digs into decoded JSON: strings index objects, ints index arrays.
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) || -k > len(l) {
				t.Fatalf("at %d: not an index into %v", k, v)
			}
			if k < 0 {
				k += len(l)
			}
			v = l[k]
		}
	}
	return v
}

func str(t *testing.T, v any, keys ...any) string {
	t.Helper()
	s, ok := path(t, v, keys...).(string)
	if !ok {
		t.Fatalf("%v at %v is not a string", path(t, v, keys...), keys)
	}
	return s
}

func list(t *testing.T, v any, keys ...any) []any {
	t.Helper()
	l, ok := path(t, v, keys...).([]any)
	if !ok {
		t.Fatalf("%v at %v is not a list", path(t, v, keys...), keys)
	}
	return l
}

const createMutation = `mutation create($name: String!, $token: String!, $env: [UpdateEnvsObject]) {
  createGitHubPreviewApp(payload: {
    githubPersonalAccessToken: $token,
    githubRepoDetails: {owner: "acme", repo: "shop", branch: "feature-x", directory: "hasura"},
    projectOptions: {name: $name, cloud: "aws", region: "us-east-2", plan: "cloud_free", envVars: $env}
  }) { githubPreviewAppJobID }
}`

// create starts a preview app called name and returns its creation job id.
func (e *simEnv) create(name string, env map[string]string) string {
	e.t.Helper()
	var envs []map[string]string
	for k, v := range env {
		envs = append(envs, map[string]string{"key": k, "value": v})
	}
	data := e.gql(createMutation, map[string]any{"name": name, "token": "ghp_secret", "env": envs})
	return str(e.t, data, "createGitHubPreviewApp", "githubPreviewAppJobID")
}

const jobQuery = `query job($id: uuid!) {
  jobs_by_pk(id: $id) {
    id status
    tasks { name task_events { event_type public_event_data error github_detail } }
  }
}`

// job returns jobs_by_pk for id (nil when null).
func (e *simEnv) job(id string) map[string]any {
	e.t.Helper()
	j, _ := e.gql(jobQuery, map[string]any{"id": id})["jobs_by_pk"].(map[string]any)
	return j
}
