package cloudsim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestCreateTenantAndLookups(t *testing.T) {
	e := newSim(t, nil)
	data := e.gql(`mutation m($envs: [UpdateEnvsObject]) {
  createTenant(cloud: "gcp", region: "asia-south1", plan: "cloud_payg", envs: $envs) { id name tenant { slug project { endpoint } } }
}`, map[string]any{"envs": []map[string]string{{"key": "K", "value": "v"}}})
	tenantID := str(t, data, "createTenant", "id")
	name := str(t, data, "createTenant", "name")
	if !regexp.MustCompile(`^[a-z]+-[a-z]+-\d{4}$`).MatchString(name) {
		t.Errorf("generated name %q", name)
	}
	if got := str(t, data, "createTenant", "tenant", "project", "endpoint"); got != "https://"+name+".hasura.app" {
		t.Errorf("endpoint = %q", got)
	}
	info, ok := e.sim.Project(name)
	if !ok || info.TenantID != tenantID || info.Cloud != "gcp" || info.Env["K"] != "v" || info.Builds != 0 {
		t.Fatalf("project = %+v", info)
	}
	data = e.gql(`query q($t: uuid!, $p: uuid!) {
  tenant_by_pk(id: $t) { id slug project { id name } }
  projects_by_pk(id: $p) { name tenant { id } }
}`, map[string]any{"t": strings.ToUpper(tenantID), "p": info.ID})
	if str(t, data, "tenant_by_pk", "project", "id") != info.ID || str(t, data, "projects_by_pk", "tenant", "id") != tenantID ||
		str(t, data, "tenant_by_pk", "id") != tenantID {
		t.Errorf("lookups = %v", data)
	}

	dup := e.gqlFail(`mutation m($n: String) { createTenant(cloud: "aws", region: "us-east-2", name: $n) { id } }`, map[string]any{"n": name})
	if dup.Extensions.Code != "bad-request" || !strings.Contains(dup.Message, "already exists") {
		t.Errorf("duplicate name: %+v", dup)
	}
	bad := e.gqlFail(`mutation { createTenant(cloud: "azure", region: "x") { id } }`, nil)
	if bad.Extensions.Code != "bad-request" {
		t.Errorf("bad cloud: %+v", bad)
	}
}

func TestTenantEnvOptimisticConcurrency(t *testing.T) {
	e := newSim(t, nil)
	info := readyApp(e, "env-a")
	get := `query g($t: uuid!) { getTenantEnv(tenantId: $t) { envVars hash } }`
	update := `mutation u($t: uuid!, $h: String!, $e: [UpdateEnvObject!]!) { updateTenantEnv(tenantId: $t, currentHash: $h, envs: $e) { hash envVars } }`

	status, body := e.raw(get, map[string]any{"t": info.TenantID})
	// The variables sit under "environment", as Hasura's console reads them.
	if status != 200 || !strings.HasPrefix(string(body), `{"data":{"getTenantEnv":{"envVars":{"environment":{"A":"1"}},"hash":"`) {
		t.Fatalf("getTenantEnv = %s", body)
	}
	hash := str(t, e.gql(get, map[string]any{"t": info.TenantID}), "getTenantEnv", "hash")
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(hash) {
		t.Errorf("hash %q is not hex SHA-1", hash)
	}

	data := e.gql(update, map[string]any{"t": info.TenantID, "h": hash, "e": []map[string]string{{"key": "B", "value": "2"}}})
	newHash := str(t, data, "updateTenantEnv", "hash")
	if newHash == hash || str(t, data, "updateTenantEnv", "envVars", "environment", "A") != "1" ||
		str(t, data, "updateTenantEnv", "envVars", "environment", "B") != "2" {
		t.Errorf("update = %v", data)
	}
	// UpdateEnvsObject, the type of createGitHubPreviewApp's envVars, is a
	// different type: the real API refuses it here.
	wrongType := e.gqlFail(strings.Replace(update, "[UpdateEnvObject!]!", "[UpdateEnvsObject]!", 1),
		map[string]any{"t": info.TenantID, "h": newHash, "e": []map[string]string{{"key": "C", "value": "3"}}})
	if wrongType.Extensions.Code != "validation-failed" || !strings.Contains(wrongType.Message, "UpdateEnvObject") {
		t.Errorf("UpdateEnvsObject for updateTenantEnv: %+v", wrongType)
	}

	stale := e.gqlFail(update, map[string]any{"t": info.TenantID, "h": hash, "e": []map[string]string{{"key": "C", "value": "3"}}})
	if stale.Extensions.Code != "conflict" || !strings.Contains(stale.Message, "hash mismatch") {
		t.Errorf("stale hash: %+v", stale)
	}
	same := e.gqlFail(update, map[string]any{"t": info.TenantID, "h": newHash, "e": []map[string]string{{"key": "B", "value": "2"}}})
	if same.Message != "nothing changed in config" {
		t.Errorf("no-op update: %+v", same)
	}
	missing := e.gqlFail(get, map[string]any{"t": "6f1c7e0a-5a4b-4c7d-9e2f-0123456789ab"})
	if missing.Extensions.Code != "not-found" || missing.Message != "tenant not found" {
		t.Errorf("unknown tenant: %+v", missing)
	}
	if got, _ := e.sim.Project("env-a"); got.Env["B"] != "2" {
		t.Errorf("env = %v", got.Env)
	}

	del := `mutation d($t: uuid!, $h: String!, $k: [String!]!) { deleteTenantEnv(tenantId: $t, currentHash: $h, deleteEnvs: $k) { hash envVars } }`
	data = e.gql(del, map[string]any{"t": info.TenantID, "h": newHash, "k": []string{"A"}})
	if env := path(t, data, "deleteTenantEnv", "envVars", "environment"); fmt.Sprint(env) != "map[B:2]" {
		t.Errorf("after deleteTenantEnv: %v", data)
	}
	stale = e.gqlFail(del, map[string]any{"t": info.TenantID, "h": newHash, "k": []string{"B"}})
	if stale.Extensions.Code != "conflict" {
		t.Errorf("deleteTenantEnv with a stale hash: %+v", stale)
	}
}
