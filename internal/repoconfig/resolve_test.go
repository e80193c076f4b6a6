package repoconfig

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const prefix = "HASURA_PREVIEW_SECRET_"

// Values that must never show up in errors, strings or logs.
const (
	jwtValue   = `{"type":"HS256","key":"s3cr3t-jwt-key-0123456789abcdef"}`
	adminValue = "admin-pass-9f8e7d"
	pgValue    = "postgres://owner:pg-pass-5a4b@db.example.com:5432/postgres?sslmode=require"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func fullEnv() map[string]string {
	return map[string]string{
		prefix + "CLERK_JWT":            jwtValue,
		prefix + "PREVIEW_ADMIN_SECRET": adminValue,
		prefix + "PG_SERVER":            pgValue,
		// Outside the prefix: a repository must never reach it.
		"GITHUB_WEBHOOK_SECRET": "webhook-secret-never",
	}
}

func mustParseFile(t *testing.T, path string) *Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return c
}

func TestResolveFull(t *testing.T) {
	c := mustParseFile(t, "testdata/full.yml")
	got, err := c.Resolve(envOf(fullEnv()), prefix)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	week := 168 * time.Hour
	want := Resolved{
		Directory: "hasura", NameTemplate: "{repo}-pr-{pr}", Cloud: "aws", Region: "us-west-1", Plan: "cloud_free",
		Env: []preview.EnvVar{
			{Key: "HASURA_GRAPHQL_ENABLE_CONSOLE", Value: "true"},
			{Key: "HASURA_GRAPHQL_DEV_MODE", Value: "true"},
			{Key: "HASURA_GRAPHQL_JWT_SECRET", Value: jwtValue},
			{Key: "HASURA_GRAPHQL_ADMIN_SECRET", Value: adminValue},
		},
		SecretKeys: []string{"HASURA_GRAPHQL_JWT_SECRET", "HASURA_GRAPHQL_ADMIN_SECRET"},
		SecretVars: []string{prefix + "CLERK_JWT", prefix + "PREVIEW_ADMIN_SECRET"},
		Postgres:   &pgdb.Config{ServerURI: pgValue, EnvVars: []string{"PG_DATABASE_URL"}},
		Policy:     preview.Policy{SkipDrafts: true, ProjectDir: "hasura"},
		TTL:        &week,
		KeepLabel:  "preview",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve =\n%#v\nwant\n%#v", got, want)
	}

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("resolved", "config", got)
	for name, text := range map[string]string{
		"String": got.String(), "%v": fmt.Sprintf("%v", got), "%+v": fmt.Sprintf("%+v", got),
		"%#v": fmt.Sprintf("%#v", got), "log": logs.String(),
	} {
		for _, secret := range []string{"s3cr3t-jwt-key", adminValue, "pg-pass-5a4b"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a secret value: %s", name, text)
			}
		}
		if !strings.Contains(text, "HASURA_GRAPHQL_ENABLE_CONSOLE=true") {
			t.Errorf("%s hides plain values too: %s", name, text)
		}
	}
}

// A secret mapped to a variable whose name does not look secret is still
// masked: it came from a secret.
func TestResolvedMasksSecretsUnderPlainNames(t *testing.T) {
	c, err := Parse([]byte("secrets:\n  STRIPE_MODE: STRIPE\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Resolve(envOf(map[string]string{prefix + "STRIPE": "live-value-xyz"}), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if s := r.String(); strings.Contains(s, "live-value-xyz") || !strings.Contains(s, "STRIPE_MODE=***") {
		t.Errorf("String() = %s", s)
	}
	if !r.IsSecret(r.Env[0]) {
		t.Error("IsSecret = false for a value that came from a secret")
	}
}

func TestResolveReportsEveryProblem(t *testing.T) {
	c, err := Parse([]byte(strings.Join([]string{
		"secrets:",
		"  HASURA_GRAPHQL_JWT_SECRET: CLERK_JWT",
		"  OTHER: WEBHOOK",
		"postgres:",
		"  server_secret: PG_SERVER",
		"  env_vars: [PG_DATABASE_URL]",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		// The service's own secret is not under the prefix.
		"WEBHOOK":            "webhook-secret-never",
		prefix + "PG_SERVER": "mysql://root:pg-pass-5a4b@db/x",
	}
	_, err = c.Resolve(envOf(env), prefix)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Resolve = %v, want *Error", err)
	}
	want := []string{
		"line 2: secret `CLERK_JWT` (for HASURA_GRAPHQL_JWT_SECRET) is not set: the service needs HASURA_PREVIEW_SECRET_CLERK_JWT in its environment",
		"line 3: secret `WEBHOOK` (for OTHER) is not set: the service needs HASURA_PREVIEW_SECRET_WEBHOOK in its environment",
		"line 4: secret `PG_SERVER` (for postgres.server_secret) is not a usable postgres:// URL: ",
	}
	if len(pe.Problems) != len(want) {
		t.Fatalf("problems = %v, want %d", pe.Problems, len(want))
	}
	for i, p := range pe.Problems {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("problem %d = %q, want prefix %q", i, p, want[i])
		}
	}
	if strings.Contains(err.Error(), "pg-pass-5a4b") || strings.Contains(err.Error(), "webhook-secret-never") {
		t.Errorf("error shows a secret: %v", err)
	}
}

func TestResolveRevalidatesHandBuiltConfig(t *testing.T) {
	c := Default()
	c.Secrets = []Entry{{Key: "X", Value: "../../GITHUB_WEBHOOK_SECRET"}, {Key: "bad key", Value: "OK"}}
	c.Cloud = "azure"
	looked := false
	_, err := c.Resolve(func(k string) string { looked = true; return "v" }, prefix)
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Problems) != 3 {
		t.Fatalf("Resolve = %v, want 3 problems", err)
	}
	if looked {
		t.Error("Resolve looked up an invalid secret name")
	}
	if _, err := Default().Resolve(envOf(nil), ""); err == nil {
		t.Error("Resolve with an empty prefix succeeded")
	}
}

func TestResolveDefaults(t *testing.T) {
	r, err := Default().Resolve(envOf(nil), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if r.Directory != "hasura" || !reflect.DeepEqual(r.Policy, preview.Policy{SkipDrafts: true, ProjectDir: "hasura"}) ||
		r.Env != nil || r.Postgres != nil || r.TTL != nil || r.NameTemplate != preview.ServiceNameTemplate {
		t.Errorf("Resolve(defaults) = %+v", r)
	}
	// The resolved policy and template work with the preview package.
	name, err := preview.AppName(r.NameTemplate, preview.NameVars{Owner: "acme", Repo: "shop", PR: 42, Branch: "x"})
	if err != nil || name != "shop-"+preview.RepoHash("acme", "shop")+"-pr-42" {
		t.Errorf("AppName = %q, %v", name, err)
	}
}
