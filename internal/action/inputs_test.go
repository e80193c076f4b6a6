package action

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

const jwtSecretForTests = `{"type":"RS256","jwk_url":"https://clerk.example.com/.well-known/jwks.json"}`

// envOf builds a getenv over a map, as the runner's environment.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// withInputs returns the runner's environment for inputs given by name.
func withInputs(inputs map[string]string, extra map[string]string) func(string) string {
	env := map[string]string{}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return envOf(env)
}

// readEnv reads the inputs from a runner's environment, as Run does.
func readEnv(getenv func(string) string) (Inputs, error) {
	return readInputs(githubactions.New(githubactions.WithGetenv(getenv)).GetInput, getenv)
}

func TestReadInputsDefaults(t *testing.T) {
	getenv := withInputs(nil, nil)
	in, err := readEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	want := Inputs{
		Region: "us-west-1", Tier: "cloud_free", Cloud: "aws", Delete: DeleteAuto, Endpoint: cloud.DefaultEndpoint,
		Timeout: preview.DefaultDeadline, Comment: true, Deployment: true,
	}
	if in.Region != want.Region || in.Tier != want.Tier || in.Cloud != want.Cloud || in.Delete != want.Delete ||
		in.Endpoint != want.Endpoint || in.Timeout != want.Timeout || in.Comment != want.Comment ||
		in.Deployment != want.Deployment || in.AllowForks || in.NameTemplate != "" || in.ProjectDir != "" ||
		in.Env != nil || in.Postgres != nil || in.GitHubToken != "" || in.CloudToken != "" {
		t.Errorf("defaults = %+v, want %+v", in, want)
	}
}

func TestReadInputs(t *testing.T) {
	cases := []struct {
		name   string
		inputs map[string]string
		env    map[string]string
		check  func(t *testing.T, in Inputs)
	}{
		{"official name default means the naming rule", map[string]string{"name": "cloud_free"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.NameTemplate, "") }},
		{"explicit name", map[string]string{"name": "  my-app "},
			nil, func(t *testing.T, in Inputs) { eq(t, in.NameTemplate, "my-app") }},
		{"name template", map[string]string{"name": "{repo}-{branch}"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.NameTemplate, "{repo}-{branch}") }},
		{"README's directory alias", map[string]string{"hasuraCloudProjectDirPath": "./hasura/"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.ProjectDir, "hasura") }},
		{"action.yml's directory name wins over the alias",
			map[string]string{"hasuraProjectDirectoryPath": "backend/hasura", "hasuraCloudProjectDirPath": "other"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.ProjectDir, "backend/hasura") }},
		{"dot is the root", map[string]string{"hasuraProjectDirectoryPath": "."},
			nil, func(t *testing.T, in Inputs) { eq(t, in.ProjectDir, "") }},
		{"cloud is case-insensitive", map[string]string{"cloud": "GCP"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Cloud, "gcp") }},
		{"delete true", map[string]string{"delete": "TRUE"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Delete, DeleteTrue) }},
		{"delete false", map[string]string{"delete": "false"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Delete, DeleteFalse) }},
		{"region and tier", map[string]string{"region": "ap-south-1", "tier": "cloud_payg"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Region+" "+in.Tier, "ap-south-1 cloud_payg") }},
		{"timeout in minutes", map[string]string{"timeout": "30"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Timeout.String(), (30 * time.Minute).String()) }},
		{"timeout as a duration", map[string]string{"timeout": "1h30m"},
			nil, func(t *testing.T, in Inputs) { eq(t, in.Timeout.String(), "1h30m0s") }},
		{"booleans as YAML writes them", map[string]string{"comment": "False", "deployment": "FALSE", "allow-forks": "true"},
			nil, func(t *testing.T, in Inputs) {
				if in.Comment || in.Deployment || !in.AllowForks {
					t.Errorf("comment %v deployment %v allow-forks %v", in.Comment, in.Deployment, in.AllowForks)
				}
			}},
		{"tokens from the environment", nil,
			map[string]string{"GITHUB_TOKEN": "ghs_env", "HASURA_CLOUD_ACCESS_TOKEN": "pat_env"},
			func(t *testing.T, in Inputs) { eq(t, in.GitHubToken+" "+in.CloudToken, "ghs_env pat_env") }},
		{"token inputs win over the environment",
			map[string]string{"github-token": "ghs_input", "hasuraCloudAccessToken": "pat_input"},
			map[string]string{"GITHUB_TOKEN": "ghs_env", "HASURA_CLOUD_ACCESS_TOKEN": "pat_env"},
			func(t *testing.T, in Inputs) { eq(t, in.GitHubToken+" "+in.CloudToken, "ghs_input pat_input") }},
		{"hasuraEnv keeps ; and = and JSON", map[string]string{"hasuraEnv": "HASURA_GRAPHQL_JWT_SECRET=" + jwtSecretForTests + "\n  A=a=b;c  \n# comment\n\nB<<EOF\nline1\nline2\nEOF\n"},
			nil, func(t *testing.T, in Inputs) {
				want := []preview.EnvVar{{Key: "HASURA_GRAPHQL_JWT_SECRET", Value: jwtSecretForTests}, {Key: "A", Value: "a=b;c"}, {Key: "B", Value: "line1\nline2"}}
				if len(in.Env) != len(want) {
					t.Fatalf("env %v, want %v", in.Env, want)
				}
				for i := range want {
					if in.Env[i] != want[i] {
						t.Errorf("env[%d] = %q, want %q", i, in.Env[i], want[i])
					}
				}
			}},
		{"a repeated env key warns", map[string]string{"hasuraEnv": "A=1\nA=2"},
			nil, func(t *testing.T, in Inputs) {
				if len(in.EnvWarnings) != 1 || len(in.Env) != 1 || in.Env[0].Value != "2" {
					t.Errorf("env %v warnings %v", in.Env, in.EnvWarnings)
				}
			}},
		{"postgresDBConfig", map[string]string{"postgresDBConfig": "POSTGRES_SERVER_CONNECTION_URI=postgres://u:p@db:5432/postgres\nPG_ENV_VARS_FOR_HASURA=PG_DB_URL_1,PG_DB_URL_2"},
			nil, func(t *testing.T, in Inputs) {
				if in.Postgres == nil || len(in.Postgres.EnvVars) != 2 {
					t.Errorf("postgres = %v", in.Postgres)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := withInputs(c.inputs, c.env)
			in, err := readEnv(getenv)
			if err != nil {
				t.Fatalf("readInputs: %v", err)
			}
			c.check(t, in)
		})
	}
}

func TestReadInputsReportsEveryProblem(t *testing.T) {
	const secretLine = "ghp_pastedWithoutKey0123456789"
	inputs := map[string]string{
		"cloud":                      "azure",
		"delete":                     "maybe",
		"hasuraCloudGraphQLEndpoint": "data.pro.hasura.io/v1/graphql",
		"hasuraEnv":                  "HASURA_GRAPHQL_ADMIN_SECRET=s3cr3t-value\n" + secretLine,
		"postgresDBConfig":           "postgres://user:hunter2@db/postgres",
		"timeout":                    "soon",
		"comment":                    "yes please",
		"deployment":                 "1x",
		"allow-forks":                "sometimes",
	}
	getenv := withInputs(inputs, nil)
	_, err := readEnv(getenv)
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *InputError", err)
	}
	msg := err.Error()
	for _, want := range []string{"cloud", "delete", "hasuraCloudGraphQLEndpoint", "hasuraEnv", "postgresDBConfig",
		"timeout", "comment", "deployment", "allow-forks"} {
		if !strings.Contains(msg, "input "+want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(msg, "hasuraEnv line 2") {
		t.Errorf("error does not name the bad hasuraEnv line:\n%s", msg)
	}
	if len(ie.Problems) != 9 {
		t.Errorf("%d problems, want 9:\n%s", len(ie.Problems), msg)
	}
	for _, secret := range []string{"s3cr3t-value", secretLine, "hunter2"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error shows %q:\n%s", secret, msg)
		}
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"1m": time.Minute, "20": 20 * time.Minute, "6h": 6 * time.Hour, "90s": 90 * time.Second} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "59s", "6h1m", "-5m", "soon", "20 m"} {
		if d, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) = %v, want an error", in, d)
		}
	}
}

func eq(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
