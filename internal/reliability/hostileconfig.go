package reliability

import "strings"

// The service's secrets as a repository config would reference them. The
// values are distinctive so that a scan for them is meaningful.
const (
	ConfigSecretPrefix = "HASURA_PREVIEW_SECRET_"
	ConfigJWTSecret    = "{\"key\":\"RELIABILITY*jwt_[7d2b]<9e41>@x#~`|\\\\\",\n\"type\":\"RS256\"}"
	ConfigPGServer     = "postgres://previews:pgpw_RELIABILITY_3a8c5e@127.0.0.1:5432/postgres"
	ConfigBadPGServer  = "mysql://root:mypw_RELIABILITY_b71d0f@127.0.0.1/db"
)

// ConfigEnv is the service environment the config cases resolve against.
func ConfigEnv(name string) string {
	return map[string]string{
		ConfigSecretPrefix + "CLERK_JWT": ConfigJWTSecret,
		ConfigSecretPrefix + "PG_SERVER": ConfigPGServer,
		ConfigSecretPrefix + "BAD_PG":    ConfigBadPGServer,
		// Outside the prefix: a repository must never reach it.
		"GITHUB_APP_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY----- RELIABILITY",
	}[name]
}

// HostileConfig is one malformed or hostile .github/hasura-preview.yml and
// what a correct service says about it on the pull request: nothing (OK)
// or a message holding every fragment of Want.
type HostileConfig struct {
	Name string
	YAML string
	// OK means the file is valid and resolves.
	OK bool
	// Want are fragments of the message posted on the PR.
	Want []string
}

// HostileConfigs is the table of repository configs.
func HostileConfigs() []HostileConfig {
	anchors := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		anchors += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
			", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	return []HostileConfig{
		{Name: "valid, with secrets and a database", OK: true,
			YAML: "directory: hasura\nsecrets:\n  HASURA_GRAPHQL_JWT_SECRET: CLERK_JWT\npostgres:\n  server_secret: PG_SERVER\n  env_vars: [PG_DATABASE_URL]\n"},
		{Name: "empty file means defaults", OK: true, YAML: ""},
		{Name: "unknown key with a typo", YAML: "directroy: hasura\n", Want: []string{"line 1", "directroy", "directory"}},
		{Name: "unknown nested key", YAML: "policy:\n  skip_draft: true\n", Want: []string{"line 2", "skip_draft"}},
		{Name: "bad YAML: unclosed flow sequence", YAML: "env_vars: [a, b\nregion: x\n", Want: []string{"line"}},
		{Name: "bad YAML: tab indentation", YAML: "env:\n\tA: b\n", Want: []string{"line 2"}},
		{Name: "wrong type: directory is a list", YAML: "directory: [a, b]\n", Want: []string{"line 1", "directory"}},
		{Name: "wrong type: policy is a string", YAML: "policy: yes please\n", Want: []string{"line 1", "policy"}},
		{Name: "secret that does not resolve", YAML: "secrets:\n  HASURA_GRAPHQL_ADMIN_SECRET: NOT_SET_ANYWHERE\n",
			Want: []string{"line 2", "NOT_SET_ANYWHERE", "not set"}},
		{Name: "secret outside the prefix (service credential)", YAML: "secrets:\n  X: ../GITHUB_APP_PRIVATE_KEY\n",
			Want: []string{"line 2"}},
		{Name: "secret name with shell metacharacters", YAML: "secrets:\n  X: \"$(cat /etc/passwd)\"\n", Want: []string{"line 2"}},
		{Name: "database secret that is not a postgres URL", YAML: "postgres:\n  server_secret: BAD_PG\n  env_vars: [PG_DATABASE_URL]\n",
			Want: []string{"BAD_PG", "postgres"}},
		{Name: "name template without {pr} or {branch}", YAML: "name: \"{repo}-preview\"\n", Want: []string{"line 1", "name"}},
		{Name: "directory escaping the repository", YAML: "directory: ../../etc\n", Want: []string{"line 1", "directory"}},
		{Name: "unknown cloud", YAML: "cloud: azure\n", Want: []string{"line 1", "cloud"}},
		{Name: "bad ttl", YAML: "ttl: forever\n", Want: []string{"line 1", "ttl"}},
		{Name: "GraphQL in env key", YAML: "env:\n  \"A) { deleteTenant }\": x\n", Want: []string{"line 2"}},
		{Name: "two YAML documents", YAML: "region: a\n---\nregion: b\n", Want: []string{"document"}},
		{Name: "alias bomb (billion laughs)", YAML: anchors + "env: *i\n", Want: []string{"`env` must be a mapping"}},
		{Name: "file over 64 KiB", YAML: "# " + strings.Repeat("x", 70<<10) + "\n", Want: []string{"bytes"}},
	}
}
