package repoconfig

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Path is where a repository keeps its configuration.
const Path = ".github/hasura-preview.yml"

// MaxSize caps a configuration file (real ones are a few hundred bytes), so
// a hostile file costs little memory or time.
const MaxSize = 64 << 10

// Defaults applied to keys that are absent.
const (
	DefaultDirectory = "hasura"
	DefaultCloud     = "aws"
	DefaultRegion    = "us-west-1"
	DefaultPlan      = "cloud_free"
)

// maxLabelLen is GitHub's limit on a label's name.
const maxLabelLen = 50

// Config is a parsed configuration file with defaults applied. Secrets
// are NAMES here; Resolve looks their values up.
type Config struct {
	Directory           string // the Hasura project's path, cleaned; "" is the repository root
	Name                string // the app name template ({owner} {repo} {pr} {branch})
	Cloud, Region, Plan string
	Env                 []Entry // plain variables, in file order
	Secrets             []Entry // app variable (Key) → secret name (Value), in file order
	Postgres            *Postgres
	Policy              Policy
	TTL                 *time.Duration // overrides the service's PREVIEW_TTL; zero disables expiry
	KeepLabel           string         // a label that protects a preview from TTL deletion
	Warnings            []Problem      // what works but is probably not meant
}

// Entry is one NAME: value line of env or secrets.
type Entry struct {
	Key, Value string
	Line       int // 0 when not read from a file
}

// Postgres configures the ephemeral database, like the official action's
// postgresDBConfig, except that the server URI is a secret NAME.
type Postgres struct {
	ServerSecret string
	EnvVars      []string
	PerEnvVar    bool
	Line         int
}

// Policy is the file's policy section; see preview.Policy.
type Policy struct {
	SkipDrafts      bool
	RequireLabel    string
	OnlyWhenChanged bool
	AllowForks      bool
}

// Default returns the configuration an empty file means.
func Default() *Config {
	return &Config{
		Directory: DefaultDirectory,
		Name:      preview.ServiceNameTemplate,
		Cloud:     DefaultCloud,
		Region:    DefaultRegion,
		Plan:      DefaultPlan,
		Policy:    Policy{SkipDrafts: preview.DefaultPolicy().SkipDrafts},
	}
}

// Parse reads a configuration file; an empty one means every default.
// Every problem is reported at once in an *Error.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf("the file is %d bytes; at most %d are accepted", len(data), MaxSize)}}}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, translateYAML(err, keyIndex{}).err()
	}
	keys := indexKeys(&root)

	var raw fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var ps problems
	switch err := dec.Decode(&raw); {
	case errors.Is(err, io.EOF):
		return Default(), nil
	case err != nil:
		ps = translateYAML(err, keys)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.add(extra.Line, "the file holds more than one YAML document (`---`); only one is read")
	}

	cfg := Default()
	ps = append(ps, cfg.apply(&raw, keys)...)
	ps = append(ps, cfg.check(keys)...)
	if err := ps.err(); err != nil {
		return nil, err
	}
	cfg.Warnings = cfg.warnings()
	return cfg, nil
}

// apply copies what the file sets over the defaults.
func (c *Config) apply(raw *fileYAML, keys keyIndex) problems {
	var ps problems
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Directory, raw.Directory)
	set(&c.Name, raw.Name)
	set(&c.Cloud, raw.Cloud)
	set(&c.Region, raw.Region)
	set(&c.Plan, raw.Plan)
	set(&c.KeepLabel, raw.KeepLabel)
	if dir, err := cleanDirectory(c.Directory); err == nil {
		c.Directory = dir
	}
	if preview.IsUnsetName(c.Name) {
		c.Name = preview.ServiceNameTemplate
	}
	c.Cloud = strings.ToLower(c.Cloud)
	c.Env = raw.Env.entries
	c.Secrets = raw.Secrets.entries
	if p := raw.Policy; p != nil {
		setBool(&c.Policy.SkipDrafts, p.SkipDrafts)
		setBool(&c.Policy.OnlyWhenChanged, p.OnlyWhenChanged)
		setBool(&c.Policy.AllowForks, p.AllowForks)
		set(&c.Policy.RequireLabel, p.RequireLabel)
	}
	if p := raw.Postgres; p != nil {
		c.Postgres = &Postgres{EnvVars: p.EnvVars.names, Line: keys.lines["postgres"]}
		set(&c.Postgres.ServerSecret, p.ServerSecret)
		setBool(&c.Postgres.PerEnvVar, p.PerEnvVar)
	}
	if raw.TTL != nil {
		d, err := parseTTL(*raw.TTL)
		if err != nil {
			ps.add(keys.lines["ttl"], "`ttl`: %v", err)
		} else {
			c.TTL = &d
		}
	}
	return ps
}

func setBool(dst *bool, src *bool) {
	if src != nil {
		*dst = *src
	}
}

// parseTTL reads a Go duration; "0" (also as a YAML number) disables.
func parseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil && strings.HasSuffix(s, "d"):
		return 0, fmt.Errorf("%q is not a duration: use hours, e.g. 168h for 7 days", s)
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration such as 168h or 30m (0 disables)", s)
	case d < 0:
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

var (
	secretNameRe = regexp.MustCompile(`^[A-Z0-9_]+$`)
	regionRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	planRe       = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,62}$`)
	showableRe   = regexp.MustCompile(`^[A-Za-z0-9_.\- ]*$`)
)

// maxSecretName keeps a secret name (and so an environment lookup) sane.
const maxSecretName = 128

// check validates a Config without changing it; keys gives the problems
// lines when it came from a file.
func (c *Config) check(keys keyIndex) problems {
	var ps problems
	if _, err := cleanDirectory(c.Directory); err != nil {
		ps.add(keys.lines["directory"], "`directory`: %v", err)
	}
	if err := checkNameTemplate(c.Name); err != nil {
		ps.add(keys.lines["name"], "`name`: %v", err)
	}
	if c.Cloud != "aws" && c.Cloud != "gcp" {
		ps.add(keys.lines["cloud"], "`cloud` must be aws or gcp, not %q", c.Cloud)
	}
	if !regionRe.MatchString(c.Region) {
		ps.add(keys.lines["region"], "`region` %q is not a region name such as us-west-1", c.Region)
	}
	if !planRe.MatchString(c.Plan) {
		ps.add(keys.lines["plan"], "`plan` %q is not a plan name such as cloud_free or cloud_payg", c.Plan)
	}

	owner := map[string]string{} // app variable → where it is set
	claim := func(key, where string, line int) {
		if !preview.ValidEnvKey(key) {
			ps.add(line, "%s: %s", where, badVarName(key))
		} else if prev, dup := owner[key]; dup {
			ps.add(line, "`%s` is set both in %s and in %s", key, prev, where)
		} else {
			owner[key] = where
		}
	}
	for _, e := range c.Env {
		claim(e.Key, "`env`", e.Line)
	}
	for _, e := range c.Secrets {
		if err := checkSecretName(e.Value); err != nil && preview.ValidEnvKey(e.Key) {
			ps.add(e.Line, "`secrets.%s`: %v", e.Key, err)
			continue
		}
		claim(e.Key, "`secrets`", e.Line)
	}
	if pg := c.Postgres; pg != nil {
		secretLine := cmp.Or(keys.lines["postgres.server_secret"], pg.Line)
		varsLine := cmp.Or(keys.lines["postgres.env_vars"], pg.Line)
		if pg.ServerSecret == "" {
			ps.add(pg.Line, "`postgres.server_secret` is required: the NAME of the secret holding the server's postgres:// URL")
		} else if err := checkSecretName(pg.ServerSecret); err != nil {
			ps.add(secretLine, "`postgres.server_secret`: %v", err)
		}
		if len(pg.EnvVars) == 0 {
			ps.add(varsLine, "`postgres.env_vars` lists no variable: name the app variables that get the database URL, e.g. [PG_DATABASE_URL]")
		}
		for _, v := range pg.EnvVars {
			claim(v, "`postgres.env_vars`", varsLine)
		}
	}
	for _, l := range [][2]string{{"policy.require_label", c.Policy.RequireLabel}, {"keep_label", c.KeepLabel}} {
		if len(l[1]) > maxLabelLen {
			ps.add(keys.lines[l[0]], "`%s` is longer than GitHub's %d-character limit for labels", l[0], maxLabelLen)
		}
	}
	if c.TTL != nil && *c.TTL < 0 {
		ps.add(keys.lines["ttl"], "`ttl` is negative")
	}
	return ps
}

// warnings notes what works but is probably a mistake.
func (c *Config) warnings() []Problem {
	var ps problems
	for _, e := range c.Env {
		if preview.LooksSecret(e.Key) && e.Value != "" {
			ps.add(e.Line, "`env.%s` looks like a secret, and everyone who can read the repository can read its value: move it to `secrets`", e.Key)
		}
	}
	return ps
}

// cleanDirectory normalises "./hasura/", "/hasura", "hasura" and "."
// (root, as "") and refuses paths that leave the repository.
func cleanDirectory(dir string) (string, error) {
	dir = strings.ReplaceAll(strings.TrimSpace(dir), `\`, "/")
	for _, seg := range strings.Split(dir, "/") {
		if seg == ".." {
			return "", errors.New("must stay inside the repository (no `..`)")
		}
	}
	if strings.ContainsAny(dir, "\x00\n\r") {
		return "", errors.New("holds a control character")
	}
	return strings.Trim(path.Clean("/"+dir), "/"), nil
}

// checkNameTemplate refuses templates that do not expand, or that would
// give every pull request the same app.
func checkNameTemplate(tmpl string) error {
	if _, err := preview.AppName(tmpl, preview.NameVars{Owner: "owner", Repo: "repo", PR: 1, Branch: "branch"}); err != nil {
		return err
	}
	if !strings.Contains(tmpl, "{pr}") && !strings.Contains(tmpl, "{branch}") {
		return fmt.Errorf("%q must contain {pr} or {branch}, or every pull request would share one preview app", tmpl)
	}
	return nil
}

func checkSecretName(name string) error {
	switch {
	case name == "":
		return errors.New("the secret name is empty")
	case len(name) > maxSecretName:
		return fmt.Errorf("the secret name is longer than %d characters", maxSecretName)
	case !secretNameRe.MatchString(name):
		if secretNameRe.MatchString(strings.ToUpper(name)) {
			return fmt.Errorf("secret name %q must be upper case: %s", name, strings.ToUpper(name))
		}
		// Not quoted: someone may have pasted the secret itself here.
		return errors.New("a secret name may hold only A-Z, 0-9 and _ (the value is not shown: if it is the secret itself, remove it from the repository and rotate it)")
	case strings.Contains(name, "__"):
		// ACME + "__" + X__NAME and ACME__X + "__" + NAME would be one variable.
		return fmt.Errorf("secret name %q must not contain __, which separates scopes in the service's environment", name)
	}
	return nil
}

// badVarName explains an invalid variable name, quoting it only when it
// cannot be a pasted secret.
func badVarName(key string) string {
	if len(key) <= 64 && showableRe.MatchString(key) {
		return fmt.Sprintf("%q is not a valid variable name (letters, digits and _, not starting with a digit)", key)
	}
	return "a key is not a valid variable name (letters, digits and _, not starting with a digit); it is not shown as it may hold a secret"
}
