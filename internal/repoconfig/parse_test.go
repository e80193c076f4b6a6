package repoconfig

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

func TestParseEmptyMeansDefaults(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n", "~\n"} {
		got, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, Default()) {
			t.Errorf("Parse(%q) = %+v, want the defaults %+v", in, got, Default())
		}
	}
	d := Default()
	if d.Directory != "hasura" || d.Name != preview.ServiceNameTemplate || !d.Policy.SkipDrafts || d.Policy.AllowForks || d.TTL != nil {
		t.Errorf("Default() = %+v", d)
	}
}

func TestParseFullExample(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(full.yml): %v", err)
	}
	week := 168 * time.Hour
	want := &Config{
		Directory: "hasura", Name: "{repo}-pr-{pr}", Cloud: "aws", Region: "us-west-1", Plan: "cloud_free",
		Env: []Entry{
			{"HASURA_GRAPHQL_ENABLE_CONSOLE", "true", 28},
			{"HASURA_GRAPHQL_DEV_MODE", "true", 29},
		},
		Secrets: []Entry{
			{"HASURA_GRAPHQL_JWT_SECRET", "CLERK_JWT", 35},
			{"HASURA_GRAPHQL_ADMIN_SECRET", "PREVIEW_ADMIN_SECRET", 36},
		},
		Postgres:  &Postgres{ServerSecret: "PG_SERVER", EnvVars: []string{"PG_DATABASE_URL"}, Line: 41},
		Policy:    Policy{SkipDrafts: true},
		TTL:       &week,
		KeepLabel: "preview",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(full.yml) =\n%+v\nwant\n%+v", got, want)
	}
	// The example documents every key: a key added to the schema without
	// a line in full.yml fails here.
	for parent, keys := range knownKeys {
		for _, k := range keys {
			if !strings.Contains(string(data), "\n"+strings.Repeat("  ", min(1, len(parent)))+k+":") {
				t.Errorf("testdata/full.yml does not document %s", strings.TrimPrefix(parent+"."+k, "."))
			}
		}
	}
}

func TestParseValues(t *testing.T) {
	day := 24 * time.Hour
	zero := time.Duration(0)
	tests := []struct {
		name, in string
		check    func(*Config) bool
	}{
		{"directory cleaned", "directory: ./db/hasura/\n", func(c *Config) bool { return c.Directory == "db/hasura" }},
		{"directory root", "directory: .\n", func(c *Config) bool { return c.Directory == "" }},
		{"directory absolute", "directory: /hasura\n", func(c *Config) bool { return c.Directory == "hasura" }},
		{"null keeps default", "directory:\npolicy:\n", func(c *Config) bool { return c.Directory == "hasura" && c.Policy.SkipDrafts }},
		{"cloud_free name is the action's slip", "name: cloud_free\n", func(c *Config) bool { return c.Name == preview.ServiceNameTemplate }},
		{"branch template", "name: 'app-{branch}'\n", func(c *Config) bool { return c.Name == "app-{branch}" }},
		{"cloud case-insensitive", "cloud: GCP\n", func(c *Config) bool { return c.Cloud == "gcp" }},
		{"unquoted scalars keep their text", "env:\n  PORT: 8080\n  ON: true\n  F: 1.0e3\n", func(c *Config) bool {
			return reflect.DeepEqual(c.Env, []Entry{{"PORT", "8080", 2}, {"ON", "true", 3}, {"F", "1.0e3", 4}})
		}},
		{"JSON value survives", "env:\n  J: '{\"type\":\"HS256\",\"key\":\"a;b=c\"}'\n", func(c *Config) bool { return c.Env[0].Value == `{"type":"HS256","key":"a;b=c"}` }},
		{"empty string value", "env:\n  E: \"\"\n", func(c *Config) bool { return len(c.Env) == 1 && c.Env[0].Value == "" }},
		{"policy overrides", "policy:\n  skip_drafts: false\n  require_label: preview\n  only_when_changed: true\n  allow_forks: true\n", func(c *Config) bool {
			return c.Policy == Policy{SkipDrafts: false, RequireLabel: "preview", OnlyWhenChanged: true, AllowForks: true}
		}},
		{"ttl hours", "ttl: 24h\n", func(c *Config) bool { return c.TTL != nil && *c.TTL == day }},
		{"ttl number zero", "ttl: 0\n", func(c *Config) bool { return c.TTL != nil && *c.TTL == zero }},
		{"ttl string zero", "ttl: \"0\"\n", func(c *Config) bool { return c.TTL != nil && *c.TTL == zero }},
		{"env_vars comma form", "postgres:\n  server_secret: PG\n  env_vars: A, B,,A2\n  per_env_var: true\n", func(c *Config) bool {
			return reflect.DeepEqual(c.Postgres.EnvVars, []string{"A", "B", "A2"}) && c.Postgres.PerEnvVar
		}},
		{"anchors and aliases", "env:\n  A: &v shared\n  B: *v\n", func(c *Config) bool { return c.Env[1].Value == "shared" }},
		{"secret in env warns", "env:\n  HASURA_GRAPHQL_ADMIN_SECRET: hunter2\n", func(c *Config) bool {
			return len(c.Warnings) == 1 && c.Warnings[0].Line == 2 && !strings.Contains(c.Warnings[0].Message, "hunter2")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%q) = %+v", tt.in, c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // every problem, in order
	}{
		{"unknown key with hint", "directory: hasura\nname: '{repo}-{pr}'\ndirectroy: x\n",
			[]string{"line 3: unknown key `directroy` (did you mean `directory`?)"}},
		{"unknown nested key", "policy:\n  skip_draft: true\n  colour: red\n", []string{
			"line 2: unknown key `skip_draft` in `policy` (did you mean `skip_drafts`?)",
			"line 3: unknown key `colour` in `policy` (known keys: skip_drafts, require_label, only_when_changed, allow_forks)",
		}},
		{"wrong type names the key", "policy:\n  skip_drafts: maybe\n",
			[]string{"line 2: `policy.skip_drafts` must be true or false, not the text `maybe`"}},
		{"list where a value belongs", "keep_label: [a]\n", []string{"line 1: `keep_label` must be a single value, not a list"}},
		{"not a mapping", "- directory\n", []string{"line 1: the file must be a mapping of keys such as `directory: hasura`, not a list"}},
		{"syntax error", "directory: 'hasura\n", []string{"line 2: found unexpected end of stream"}},
		{"repeated key", "cloud: aws\ncloud: gcp\n", []string{"line 2: key `cloud` is already set on line 1"}},
		{"env problems", "env:\n  A: 1\n  A: 2\n  B:\n  C: [x]\n  1X: y\n", []string{
			"line 3: `env.A` is already set on line 2",
			"line 4: `env.B` has no value (write \"\" for an empty one)",
			"line 5: `env.C` must be a single value, not a list",
			"line 6: `env`: \"1X\" is not a valid variable name (letters, digits and _, not starting with a digit)",
		}},
		{"env not a mapping", "env: [A]\n", []string{"line 1: `env` must be a mapping of NAME: value lines"}},
		{"secret names", "secrets:\n  X: lower\n  Y: ''\n  Z: 'sk_live abc'\n", []string{
			"line 2: `secrets.X`: secret name \"lower\" must be upper case: LOWER",
			"line 3: `secrets.Y`: the secret name is empty",
			"line 4: `secrets.Z`: a secret name may hold only A-Z, 0-9 and _ (the value is not shown: if it is the secret itself, remove it from the repository and rotate it)",
		}},
		{"same variable twice", "env:\n  DB: x\nsecrets:\n  DB: DB\n", []string{"line 4: `DB` is set both in `env` and in `secrets`"}},
		{"postgres incomplete", "postgres:\n  per_env_var: true\n", []string{
			"line 1: `postgres.server_secret` is required: the NAME of the secret holding the server's postgres:// URL",
			"line 1: `postgres.env_vars` lists no variable: name the app variables that get the database URL, e.g. [PG_DATABASE_URL]",
		}},
		{"postgres variable clash", "env:\n  PG_DATABASE_URL: x\npostgres:\n  server_secret: PG\n  env_vars: [PG_DATABASE_URL, 'bad name']\n", []string{
			"line 5: `PG_DATABASE_URL` is set both in `env` and in `postgres.env_vars`",
			"line 5: `postgres.env_vars`: \"bad name\" is not a valid variable name (letters, digits and _, not starting with a digit)",
		}},
		{"everything at once", "name: myapp\ncloud: azure\nregion: US\nplan: ''\nttl: 7d\ndirectory: ../etc\n", []string{
			"line 1: `name`: \"myapp\" must contain {pr} or {branch}, or every pull request would share one preview app",
			"line 2: `cloud` must be aws or gcp, not \"azure\"",
			"line 3: `region` \"US\" is not a region name such as us-west-1",
			"line 4: `plan` \"\" is not a plan name such as cloud_free or cloud_payg",
			"line 5: `ttl`: \"7d\" is not a duration: use hours, e.g. 168h for 7 days",
			"line 6: `directory`: must stay inside the repository (no `..`)",
		}},
		{"negative ttl", "ttl: -1h\n", []string{"line 1: `ttl`: \"-1h\" is negative"}},
		// "__" separates scopes in the service's variables: OTHER__ADMIN read
		// under ACME__ would be ACME__OTHER__ADMIN, the scope ACME__OTHER's.
		{"scope separator in a secret name", "secrets:\n  A: OTHER__ADMIN\n", []string{
			"line 2: `secrets.A`: secret name \"OTHER__ADMIN\" must not contain __, which separates scopes in the service's environment",
		}},
		{"bad placeholder", "name: '{foo}-{pr}'\n", []string{
			"line 1: `name`: app name template \"{foo}-{pr}\": unknown placeholder {foo} (known: {owner}, {repo}, {hash}, {pr}, {branch})",
		}},
		{"label too long", "keep_label: " + strings.Repeat("x", 51) + "\n", []string{"line 1: `keep_label` is longer than GitHub's 50-character limit for labels"}},
		{"two documents", "cloud: aws\n---\ncloud: gcp\n", []string{"line 2: the file holds more than one YAML document (`---`); only one is read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %+v, %v; want an *Error", tt.in, c, err)
			}
			var got []string
			for _, p := range pe.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestParseRefusesLargeFiles(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", MaxSize) + "\n")
	_, err := Parse(data)
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "at most 65536") {
		t.Fatalf("Parse(%d bytes) = %v", len(data), err)
	}
}

func TestErrorFormat(t *testing.T) {
	one := &Error{Problems: []Problem{{Line: 7, Message: "unknown key `directroy`"}}}
	if got, want := one.Error(), ".github/hasura-preview.yml: line 7: unknown key `directroy`"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	two := &Error{Problems: []Problem{{Line: 1, Message: "a"}, {Message: "b"}}}
	if got, want := two.Error(), ".github/hasura-preview.yml: 2 problems:\n  line 1: a\n  b"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"directroy", "directory", 2}, {"kitten", "sitting", 3}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
