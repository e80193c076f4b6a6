package cloudsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/clock"
)

// FuzzServeHTTP feeds arbitrary bodies to the handler: it must never panic
// and must always answer well-formed JSON with "data" or "errors".
func FuzzServeHTTP(f *testing.F) {
	docs, _ := filepath.Glob(filepath.Join("testdata", "official", "*.graphql"))
	for _, d := range docs {
		q, err := os.ReadFile(d)
		if err != nil {
			f.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"query": string(q), "variables": map[string]any{
			"creation": "6f1c7e0a-5a4b-4c7d-9e2f-0123456789ab", "deployment": "6f1c7e0a-5a4b-4c7d-9e2f-0123456789ab",
			"appName": "x", "wanted": "x", "previewName": "x",
		}})
		f.Add(body, true)
	}
	f.Add([]byte(`{"query":"{ projects(order_by: [{name: desc}], where: {_or: [{id: {_in: []}}]}) { id tenant { project { name } } } }"}`), true)
	f.Add([]byte(`{"query":"query q($v: jsonb) { __typename }","variables":{"v":{"a":[1,{"b":null}]}}}`), false)
	f.Add([]byte(`{"query":"mutation { createTenant(cloud: \"aws\", region: \"r\") { id name } }"}`), true)

	f.Fuzz(func(t *testing.T, body []byte, auth bool) {
		sim, err := New(Options{PAT: testPAT, Clock: clock.NewManual(t0), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/graphql", bytes.NewReader(body))
		if auth {
			req.Header.Set("Authorization", "pat "+testPAT)
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("content type %q", rec.Header().Get("Content-Type"))
		}
		var resp map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("invalid JSON %q for body %q", rec.Body.Bytes(), body)
		}
		_, data := resp["data"]
		_, errs := resp["errors"]
		if data == errs {
			t.Fatalf("want exactly one of data and errors: %s", rec.Body.Bytes())
		}
	})
}
