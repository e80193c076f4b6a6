// Package deploy_test checks the deployment files: every Kubernetes
// manifest parses, and the properties the service relies on hold (two
// replicas on PostgreSQL, probes on the service's routes, nonroot, no
// real secrets), as does the GitHub App manifest.
package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docs parses every YAML document of deploy/kubernetes/*.yaml.
func docs(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under kubernetes/ (%v)", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			kind, _ := doc["kind"].(string)
			if kind == "" || doc["apiVersion"] == nil {
				t.Fatalf("%s document %d has no kind or apiVersion", f, i)
			}
			name, _ := dig(doc, "metadata", "name").(string)
			if kind == "Kustomization" {
				name = "kustomization"
			}
			out[kind+"/"+name] = doc
		}
	}
	return out
}

// dig walks maps and lists: a string steps into a map, an int into a list.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestKubernetesManifests(t *testing.T) {
	all := docs(t)
	for _, want := range []string{
		"Deployment/hasura-preview-webhook", "Service/hasura-preview-webhook",
		"Secret/hasura-preview-webhook", "Secret/hasura-preview-webhook-app-key",
		"ConfigMap/hasura-preview-webhook", "Kustomization/kustomization",
	} {
		if all[want] == nil {
			t.Errorf("missing %s", want)
		}
	}
	dep := all["Deployment/hasura-preview-webhook"]
	if dep == nil {
		t.FailNow()
	}
	if r := dig(dep, "spec", "replicas"); r != 2 {
		t.Errorf("replicas = %v, want 2", r)
	}
	pod := dig(dep, "spec", "template", "spec")
	if dig(pod, "securityContext", "runAsNonRoot") != true {
		t.Error("the pod does not require a nonroot user")
	}
	c := dig(pod, "containers", 0)
	if img, _ := dig(c, "image").(string); !strings.Contains(img, "hasura-preview-webhook") {
		t.Errorf("image %q is not the webhook image", img)
	}
	if p := dig(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe path %v", p)
	}
	if p := dig(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe path %v", p)
	}
	if dig(c, "resources", "requests", "memory") == nil || dig(c, "resources", "limits", "memory") == nil {
		t.Error("the container has no memory request or limit")
	}
	if dig(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Error("privilege escalation is not disabled")
	}
	if port := dig(c, "ports", 0, "containerPort"); port != 8080 {
		t.Errorf("container port %v, want 8080 (LISTEN_ADDR)", port)
	}
	if tp := dig(all["Service/hasura-preview-webhook"], "spec", "ports", 0, "targetPort"); tp != "http" {
		t.Errorf("the Service targets %v, not the named port http", tp)
	}

	// Settings come from the ConfigMap and the Secret the Deployment names.
	secret := all["Secret/hasura-preview-webhook"]
	db, _ := dig(secret, "stringData", "DATABASE_URL").(string)
	if !strings.HasPrefix(db, "postgres://") {
		t.Errorf("DATABASE_URL %q is not a postgres:// URL: two replicas cannot share SQLite", db)
	}
	refs := map[string]bool{}
	for _, e := range dig(c, "envFrom").([]any) {
		for _, kind := range []string{"configMapRef", "secretRef"} {
			if n, ok := dig(e, kind, "name").(string); ok {
				refs[kind+"/"+n] = true
			}
		}
	}
	if !refs["configMapRef/hasura-preview-webhook"] || !refs["secretRef/hasura-preview-webhook"] {
		t.Errorf("envFrom %v does not load the ConfigMap and the Secret", refs)
	}
	for _, key := range []string{"HASURA_CLOUD_ACCESS_TOKEN", "GITHUB_WEBHOOK_SECRET", "DATABASE_URL"} {
		if dig(secret, "stringData", key) == nil {
			t.Errorf("the Secret template lacks %s", key)
		}
	}
	if id := dig(all["ConfigMap/hasura-preview-webhook"], "data", "GITHUB_APP_ID"); id == nil {
		t.Error("the ConfigMap lacks GITHUB_APP_ID")
	}

	// A template, not a leak: every secret value is a placeholder.
	for _, name := range []string{"Secret/hasura-preview-webhook", "Secret/hasura-preview-webhook-app-key"} {
		for k, v := range dig(all[name], "stringData").(map[string]any) {
			if s, _ := v.(string); !strings.Contains(s, "REPLACE_WITH_") {
				t.Errorf("%s: %s holds a value that is not a REPLACE_WITH_ placeholder", name, k)
			}
		}
	}

	// Kustomize must list every file.
	files, _ := filepath.Glob("kubernetes/*.yaml")
	listed := map[string]bool{}
	for _, r := range dig(all["Kustomization/kustomization"], "resources").([]any) {
		listed[r.(string)] = true
	}
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !listed[b] {
			t.Errorf("kustomization.yaml does not list %s", b)
		}
	}
}

func TestGitHubAppManifest(t *testing.T) {
	data, err := os.ReadFile("github-app-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Name           string            `json:"name"`
		URL            string            `json:"url"`
		HookAttributes map[string]any    `json:"hook_attributes"`
		Permissions    map[string]string `json:"default_permissions"`
		Events         []string          `json:"default_events"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pull_requests": "write", "issues": "write", "contents": "read", "deployments": "write", "metadata": "read"}
	if len(m.Permissions) != len(want) {
		t.Errorf("permissions %v, want exactly %v", m.Permissions, want)
	}
	for k, v := range want {
		if m.Permissions[k] != v {
			t.Errorf("permission %s = %q, want %q", k, m.Permissions[k], v)
		}
	}
	if strings.Join(m.Events, ",") != "pull_request,issue_comment" {
		t.Errorf("events %v", m.Events)
	}
	if u, _ := m.HookAttributes["url"].(string); !strings.HasSuffix(u, "/webhook") {
		t.Errorf("webhook URL %q does not end in /webhook", u)
	}
	if m.Name == "" {
		t.Error("no name")
	}
}
