package pgdb

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// The keys of the postgresDBConfig input.
const (
	KeyServerURI   = "POSTGRES_SERVER_CONNECTION_URI"
	KeyEnvVars     = "PG_ENV_VARS_FOR_HASURA"
	KeyPerEnvVar   = "PG_DATABASE_PER_ENV_VAR"
	exampleURI     = "postgres://user:password@host:5432/postgres?sslmode=require"
	exampleEnvVars = "PG_DATABASE_URL"
)

// ErrNoConfig is returned by ParseConfig for an empty input, which means
// "no ephemeral database": callers usually test for it with errors.Is.
var ErrNoConfig = errors.New("postgresDBConfig is empty")

// Config is a parsed postgresDBConfig input.
type Config struct {
	// ServerURI is a postgres:// URL with rights to create and drop
	// databases. It holds a password: never print it, print the Config.
	ServerURI string
	// EnvVars are the app's environment variables that receive the
	// database URL, in the order given, without duplicates.
	EnvVars []string
	// PerEnvVar gives each of EnvVars its own database instead of one
	// shared database.
	PerEnvVar bool
}

// ParseConfig reads the postgresDBConfig input. Lines may come in any order
// and blank lines or lines starting with '#' are ignored. Every problem
// found is reported in one error, which names keys and line numbers but
// never shows the server URI.
func ParseConfig(s string) (Config, error) {
	if strings.TrimSpace(s) == "" {
		return Config{}, ErrNoConfig
	}
	var (
		cfg      Config
		problems []string
		seen     = map[string]int{}
	)
	for i, raw := range strings.Split(s, "\n") {
		lineNo := i + 1
		bad := func(format string, a ...any) {
			problems = append(problems, fmt.Sprintf("line %d: ", lineNo)+fmt.Sprintf(format, a...))
		}
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			// Not shown: a URI pasted without its key would print a password.
			bad("expected KEY=value but found no '='")
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if first, dup := seen[key]; dup {
			bad("%s is already set on line %d", key, first)
			continue
		}
		seen[key] = lineNo
		switch key {
		case KeyServerURI:
			// The same parser as RewriteDatabase, so that a URI accepted here
			// can be rewritten; errors never echo the URI.
			if value == "" {
				bad("%s is empty", key)
			} else if _, err := splitURI(value); err != nil {
				bad("%s: %v", key, err)
			} else {
				cfg.ServerURI = value
			}
		case KeyEnvVars:
			names, errs := parseEnvVarList(value)
			for _, e := range errs {
				bad("%s: %s", key, e)
			}
			if len(errs) == 0 && len(names) == 0 {
				bad("%s lists no variable", key)
			}
			cfg.EnvVars = names
		case KeyPerEnvVar:
			var err error
			if cfg.PerEnvVar, err = strconv.ParseBool(value); err != nil {
				bad("%s must be true or false, not %q", key, value)
			}
		default:
			if !ValidEnvName(key) || len(key) > 64 {
				// A URI pasted without its key has an '=' in its query, so
				// what precedes it is no key and may hold the password.
				bad("expected KEY=value with one of %s, %s, %s as KEY; the line is not shown as it may hold a password", KeyServerURI, KeyEnvVars, KeyPerEnvVar)
			} else {
				bad("unknown key %q (known: %s, %s, %s)", key, KeyServerURI, KeyEnvVars, KeyPerEnvVar)
			}
		}
	}
	if _, ok := seen[KeyServerURI]; !ok {
		problems = append(problems, fmt.Sprintf("%s is missing (expected a line %s=%s)", KeyServerURI, KeyServerURI, exampleURI))
	}
	if _, ok := seen[KeyEnvVars]; !ok {
		problems = append(problems, fmt.Sprintf("%s is missing (expected a line %s=%s, a comma-separated list of the app's environment variables that get the database URL)", KeyEnvVars, KeyEnvVars, exampleEnvVars))
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("invalid postgresDBConfig: %s", strings.Join(problems, "; "))
	}
	return cfg, nil
}

// parseEnvVarList splits a comma-separated list, dropping empty items and
// repeats (the official action tolerates both).
func parseEnvVarList(s string) (names []string, problems []string) {
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		if !ValidEnvName(n) {
			problems = append(problems, fmt.Sprintf("%q is not a valid variable name", n))
			continue
		}
		seen[n] = true
		names = append(names, n)
	}
	return names, problems
}

// ValidEnvName reports whether s is a variable name, [A-Za-z_][A-Za-z0-9_]*:
// the rule for every environment variable name of a preview app, here and
// in the app's other inputs, so that they cannot disagree.
func ValidEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// String describes the config with the password masked.
func (c Config) String() string {
	return fmt.Sprintf("pgdb.Config{ServerURI: %s, EnvVars: %v, PerEnvVar: %t}", Redact(c.ServerURI), c.EnvVars, c.PerEnvVar)
}

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return c.String() }

// LogValue masks the password for log/slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server_uri", Redact(c.ServerURI)),
		slog.Any("env_vars", c.EnvVars),
		slog.Bool("per_env_var", c.PerEnvVar),
	)
}
