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

// Resolved is a Config with its secrets looked up, which String and
// LogValue mask: everything the reconciler needs to build a preview.Spec.
type Resolved struct {
	Directory           string // "" = repository root
	NameTemplate        string // expanded with preview.AppName
	Cloud, Region, Plan string
	Env                 []preview.EnvVar // the plain variables, then the secrets
	SecretKeys          []string         // the variables of Env whose values came from secrets
	// SecretVars names the service's variables those values were read
	// from, so that a rotation is noticed without reading the file again.
	SecretVars []string
	Postgres   *pgdb.Config
	Policy     preview.Policy // ChangedFiles is left for the caller
	TTL        *time.Duration // overrides the service's PREVIEW_TTL; zero disables expiry
	KeepLabel  string
}

// Resolve looks each secret NAME up as <prefix>NAME (the caller scopes the
// prefix). Every problem is reported at once in an *Error, a missing secret
// by its NAME. An empty prefix is refused: it would expose the service's
// own credentials.
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
		r.TTL = new(*c.TTL)
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
			// RewriteDatabase validates the URI as pgdb uses it, never quoting it.
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
	pg := "none"
	if r.Postgres != nil {
		pg = r.Postgres.String()
	}
	ttl := "service default"
	if r.TTL != nil {
		ttl = r.TTL.String()
	}
	return fmt.Sprintf("repoconfig.Resolved{Directory: %q, Name: %q, Cloud: %s, Region: %s, Plan: %s, Env: [%s], Postgres: %s, Policy: %+v, TTL: %s, KeepLabel: %q}",
		r.Directory, r.NameTemplate, r.Cloud, r.Region, r.Plan, strings.Join(r.maskedEnv(), " "), pg, r.Policy, ttl, r.KeepLabel)
}

// GoString keeps %#v from printing secret values.
func (r Resolved) GoString() string { return r.String() }

// LogValue masks secret values for log/slog.
func (r Resolved) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("directory", r.Directory),
		slog.String("name", r.NameTemplate),
		slog.String("cloud", r.Cloud),
		slog.String("region", r.Region),
		slog.String("plan", r.Plan),
		slog.Any("env", r.maskedEnv()),
	}
	if r.Postgres != nil {
		attrs = append(attrs, slog.Any("postgres", r.Postgres))
	}
	if r.TTL != nil {
		attrs = append(attrs, slog.Duration("ttl", *r.TTL))
	}
	return slog.GroupValue(attrs...)
}

// maskedEnv is Env as KEY=value, secret values as ***.
func (r Resolved) maskedEnv() []string {
	env := make([]string, 0, len(r.Env))
	for _, v := range r.Env {
		if r.IsSecret(v) {
			env = append(env, v.Key+"=***")
		} else {
			env = append(env, v.Key+"="+v.Value)
		}
	}
	return env
}
