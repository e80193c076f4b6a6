package repoconfig

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Resolved is a Config with its secrets looked up: everything the
// reconciler needs to build a preview.Spec. It holds secret values:
// print it only through String or LogValue.
type Resolved struct {
	// Directory is the Hasura project's path ("" = repository root).
	Directory string
	// NameTemplate is expanded with preview.AppName.
	NameTemplate string
	// Cloud, Region and Plan of the preview app.
	Cloud, Region, Plan string
	// Env holds the plain variables, then the secrets, in file order.
	Env []preview.EnvVar
	// SecretKeys names the variables of Env whose values came from
	// secrets, which LogValue always masks.
	SecretKeys []string
	// SecretVars names the service's environment variables those values
	// were read from, so that a rotation can be noticed without reading
	// the configuration again.
	SecretVars []string
	// Postgres, when set, is the ephemeral database's configuration.
	Postgres *pgdb.Config
	// Policy is ready for preview.Decide, with ProjectDir set;
	// ChangedFiles is left for the caller.
	Policy preview.Policy
	// TTL, when non-nil, overrides the service's preview lifetime; zero
	// disables expiry.
	TTL *time.Duration
	// KeepLabel protects a pull request from TTL deletion when set.
	KeepLabel string
}

// Resolve looks the secrets up in the service's environment, each NAME as
// <prefix>NAME (the caller scopes prefix by owner), and returns what the reconciler needs. Every problem is
// reported at once in an *Error; a missing secret is named by its NAME,
// never shown. An empty prefix is refused: it would let any repository
// read any of the service's own variables, its credentials included.
func (c *Config) Resolve(getenv func(string) string, prefix string) (Resolved, error) {
	if prefix == "" {
		return Resolved{}, errors.New("repoconfig: an empty secret prefix would expose the whole service environment")
	}
	ps := c.check(keyIndex{})
	dir, _ := cleanDirectory(c.Directory)
	r := Resolved{
		Directory:    dir,
		NameTemplate: c.Name,
		Cloud:        c.Cloud,
		Region:       c.Region,
		Plan:         c.Plan,
		Policy: preview.Policy{
			SkipDrafts:         c.Policy.SkipDrafts,
			RequireLabel:       c.Policy.RequireLabel,
			ProjectDir:         dir,
			OnlyWhenDirChanged: c.Policy.OnlyWhenChanged,
			AllowForks:         c.Policy.AllowForks,
		},
		KeepLabel: c.KeepLabel,
	}
	if c.TTL != nil {
		ttl := *c.TTL
		r.TTL = &ttl
	}
	for _, e := range c.Env {
		r.Env = append(r.Env, preview.EnvVar{Key: e.Key, Value: e.Value})
	}

	lookup := func(name, what string, line int) (string, bool) {
		if checkSecretName(name) != nil {
			return "", false // reported by check
		}
		v := getenv(prefix + name)
		if v == "" {
			ps.add(line, "secret `%s` (%s) is not set: the service needs %s%s in its environment", name, what, prefix, name)
			return "", false
		}
		return v, true
	}
	for _, e := range c.Secrets {
		if !preview.ValidEnvKey(e.Key) {
			continue // reported by check
		}
		if v, ok := lookup(e.Value, "for "+e.Key, e.Line); ok {
			r.Env = append(r.Env, preview.EnvVar{Key: e.Key, Value: v})
			r.SecretKeys = append(r.SecretKeys, e.Key)
			r.SecretVars = append(r.SecretVars, prefix+e.Value)
		}
	}
	if pg := c.Postgres; pg != nil {
		if uri, ok := lookup(pg.ServerSecret, "for postgres.server_secret", pg.Line); ok {
			// RewriteDatabase validates the URI the way pgdb will use it,
			// and its errors never quote the URI.
			if _, err := pgdb.RewriteDatabase(uri, "postgres"); err != nil {
				if inner := errors.Unwrap(err); inner != nil {
					err = inner
				}
				ps.add(pg.Line, "secret `%s` (for postgres.server_secret) is not a usable postgres:// URL: %v", pg.ServerSecret, err)
			} else {
				r.Postgres = &pgdb.Config{ServerURI: uri, EnvVars: slices.Clone(pg.EnvVars), PerEnvVar: pg.PerEnvVar}
			}
		}
	}
	if err := ps.err(); err != nil {
		return Resolved{}, err
	}
	return r, nil
}

// IsSecret reports whether the value of the variable key came from a
// secret, or is sensitive by its name or content.
func (r Resolved) IsSecret(v preview.EnvVar) bool {
	return slices.Contains(r.SecretKeys, v.Key) || v.Sensitive()
}

// String describes the resolved configuration with secret values masked.
func (r Resolved) String() string {
	var env []string
	for _, v := range r.Env {
		env = append(env, r.show(v))
	}
	pg := "none"
	if r.Postgres != nil {
		pg = r.Postgres.String()
	}
	ttl := "service default"
	if r.TTL != nil {
		ttl = r.TTL.String()
	}
	return fmt.Sprintf("repoconfig.Resolved{Directory: %q, Name: %q, Cloud: %s, Region: %s, Plan: %s, Env: [%s], Postgres: %s, Policy: %+v, TTL: %s, KeepLabel: %q}",
		r.Directory, r.NameTemplate, r.Cloud, r.Region, r.Plan, strings.Join(env, " "), pg, r.Policy, ttl, r.KeepLabel)
}

// GoString keeps %#v from printing secret values.
func (r Resolved) GoString() string { return r.String() }

// LogValue masks secret values for log/slog.
func (r Resolved) LogValue() slog.Value {
	env := make([]string, 0, len(r.Env))
	for _, v := range r.Env {
		env = append(env, r.show(v))
	}
	attrs := []slog.Attr{
		slog.String("directory", r.Directory),
		slog.String("name", r.NameTemplate),
		slog.String("cloud", r.Cloud),
		slog.String("region", r.Region),
		slog.String("plan", r.Plan),
		slog.Any("env", env),
	}
	if r.Postgres != nil {
		attrs = append(attrs, slog.Any("postgres", r.Postgres))
	}
	if r.TTL != nil {
		attrs = append(attrs, slog.Duration("ttl", *r.TTL))
	}
	return slog.GroupValue(attrs...)
}

func (r Resolved) show(v preview.EnvVar) string {
	if r.IsSecret(v) {
		return v.Key + "=***"
	}
	return v.Key + "=" + v.Value
}
