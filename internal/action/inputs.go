package action

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// Delete modes of the delete input.
const (
	DeleteAuto  = "auto"
	DeleteTrue  = "true"
	DeleteFalse = "false"
)

// Inputs are the action's inputs, read and checked.
type Inputs struct {
	// NameTemplate is the name input: a literal name or a template with
	// {owner} {repo} {pr} {branch}; "" (or the official default cloud_free)
	// means the naming rule.
	NameTemplate string
	ProjectDir   string
	Region       string
	Tier         string
	Cloud        string
	Env          []preview.EnvVar
	EnvWarnings  []string
	Postgres     *pgdb.Config
	Delete       string
	Endpoint     string
	Timeout      time.Duration
	Comment      bool
	Deployment   bool
	AllowForks   bool
	GitHubToken  string
	CloudToken   string
	// CommentAuthor is the comment-author input: the login of an App
	// whose installation token github-token is.
	CommentAuthor string
}

// readInputs reads every input through in (githubactions.Action.GetInput)
// and reports every problem at once. Error texts name inputs, never their
// values: values may be secrets.
func readInputs(in func(name string) string, getenv func(string) string) (Inputs, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	v := Inputs{
		NameTemplate: in("name"),
		// The official action's README calls the directory input
		// hasuraCloudProjectDirPath while its action.yml says
		// hasuraProjectDirectoryPath: accept both.
		ProjectDir: cmp.Or(in("hasuraProjectDirectoryPath"), in("hasuraCloudProjectDirPath")),
		Region:     cmp.Or(in("region"), "us-west-1"),
		Tier:       cmp.Or(in("tier"), "cloud_free"),
		Cloud:      strings.ToLower(cmp.Or(in("cloud"), "aws")),
		Delete:     strings.ToLower(cmp.Or(in("delete"), DeleteAuto)),
		Endpoint:   cmp.Or(in("hasuraCloudGraphQLEndpoint"), cloud.DefaultEndpoint),
	}
	if preview.IsUnsetName(v.NameTemplate) {
		v.NameTemplate = ""
	}
	v.ProjectDir = strings.Trim(strings.TrimPrefix(v.ProjectDir, "./"), "/")
	if v.ProjectDir == "." {
		v.ProjectDir = ""
	}
	if v.Cloud != "aws" && v.Cloud != "gcp" {
		bad("input cloud must be aws or gcp")
	}
	switch v.Delete {
	case DeleteAuto, DeleteTrue, DeleteFalse:
	default:
		bad("input delete must be auto, true or false")
	}
	if u, err := url.Parse(v.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("input hasuraCloudGraphQLEndpoint must be an http(s) URL")
	}

	var err error
	if v.Env, v.EnvWarnings, err = preview.ParseEnv(in("hasuraEnv")); err != nil {
		bad("input hasuraEnv: %v", err)
	}

	if raw := in("postgresDBConfig"); raw != "" {
		cfg, err := pgdb.ParseConfig(raw)
		switch {
		case errors.Is(err, pgdb.ErrNoConfig):
		case err != nil:
			bad("input postgresDBConfig: %v", err)
		default:
			v.Postgres = &cfg
		}
	}

	v.Timeout = preview.DefaultDeadline
	if t := in("timeout"); t != "" {
		d, err := parseTimeout(t)
		if err != nil {
			bad("input timeout: %v", err)
		}
		v.Timeout = d
	}
	boolInput := func(name string, def bool) bool {
		b, err := strconv.ParseBool(strings.ToLower(cmp.Or(in(name), strconv.FormatBool(def))))
		if err != nil {
			bad("input %s must be true or false", name)
			return def
		}
		return b
	}
	v.Comment, v.Deployment, v.AllowForks = boolInput("comment", true), boolInput("deployment", true), boolInput("allow-forks", false)

	// The official action reads both tokens from the environment; an input
	// wins when given.
	v.GitHubToken = cmp.Or(in("github-token"), getenv("GITHUB_TOKEN"))
	v.CloudToken = cmp.Or(in("hasuraCloudAccessToken"), getenv("HASURA_CLOUD_ACCESS_TOKEN"))
	v.CommentAuthor = in("comment-author")

	if len(problems) > 0 {
		return v, &InputError{Problems: problems}
	}
	return v, nil
}

// InputError lists every problem with the inputs.
type InputError struct{ Problems []string }

func (e *InputError) Error() string {
	return "invalid inputs:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// parseTimeout accepts a Go duration ("20m", "1h30m") or whole minutes.
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		s = strconv.Itoa(n) + "m"
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 20m", s)
	}
	if d < time.Minute || d > 6*time.Hour {
		return 0, fmt.Errorf("must lie between 1m and 6h (a job runs at most 6 hours)")
	}
	return d, nil
}

// registerSecrets collects every secret and registers it with the runner
// (::add-mask::), line by line for multi-line values: the runner masks
// single lines.
func (r *runner) registerSecrets() {
	add := func(v string) {
		if strings.TrimSpace(v) == "" {
			return
		}
		r.secrets.Add(v)
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= preview.MinSecretLen {
				r.secrets.Add(line)
				r.gha.AddMask(line)
			}
		}
	}
	add(r.in.CloudToken)
	add(r.in.GitHubToken)
	for _, v := range r.in.Env {
		if v.Sensitive() {
			add(v.Value)
		}
	}
	if r.in.Postgres != nil {
		add(r.in.Postgres.ServerURI)
		for _, p := range pgdb.PasswordForms(r.in.Postgres.ServerURI) {
			add(p)
		}
	}
}
