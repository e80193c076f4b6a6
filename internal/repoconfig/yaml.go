package repoconfig

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileYAML is the file as written. Pointers tell "absent" (take the
// default) from "set to the zero value".
type fileYAML struct {
	Directory *string       `yaml:"directory"`
	Name      *string       `yaml:"name"`
	Cloud     *string       `yaml:"cloud"`
	Region    *string       `yaml:"region"`
	Plan      *string       `yaml:"plan"`
	Env       envYAML       `yaml:"env"`
	Secrets   secretsYAML   `yaml:"secrets"`
	Postgres  *postgresYAML `yaml:"postgres"`
	Policy    *policyYAML   `yaml:"policy"`
	TTL       *string       `yaml:"ttl"`
	KeepLabel *string       `yaml:"keep_label"`
}

type policyYAML struct {
	SkipDrafts      *bool   `yaml:"skip_drafts"`
	RequireLabel    *string `yaml:"require_label"`
	OnlyWhenChanged *bool   `yaml:"only_when_changed"`
	AllowForks      *bool   `yaml:"allow_forks"`
}

type postgresYAML struct {
	ServerSecret *string  `yaml:"server_secret"`
	EnvVars      nameList `yaml:"env_vars"`
	PerEnvVar    *bool    `yaml:"per_env_var"`
}

// knownKeys lists the keys of each mapping, for "did you mean" hints.
var knownKeys = map[string][]string{
	"":         {"directory", "name", "cloud", "region", "plan", "env", "secrets", "postgres", "policy", "ttl", "keep_label"},
	"policy":   {"skip_drafts", "require_label", "only_when_changed", "allow_forks"},
	"postgres": {"server_secret", "env_vars", "per_env_var"},
}

// envYAML and secretsYAML keep the file's order, which the app's settings page shows.
type (
	envYAML     struct{ entries []Entry }
	secretsYAML struct{ entries []Entry }
)

// UnmarshalYAML reads env: NAME: value pairs.
func (e *envYAML) UnmarshalYAML(n *yaml.Node) error {
	var err error
	e.entries, err = readEntries(n, "env", "NAME: value")
	return err
}

// UnmarshalYAML reads secrets: APP_VAR: SECRET_NAME pairs.
func (s *secretsYAML) UnmarshalYAML(n *yaml.Node) error {
	var err error
	s.entries, err = readEntries(n, "secrets", "APP_VARIABLE: SECRET_NAME")
	return err
}

// readEntries reads a mapping of scalars in order. Problems come back as a
// *yaml.TypeError so that yaml goes on decoding the rest of the file.
func readEntries(n *yaml.Node, key, shape string) ([]Entry, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, typeError(n.Line, "`%s` must be a mapping of %s lines", key, shape)
	}
	var (
		out  []Entry
		errs []string
		seen = map[string]int{}
	)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Sprintf("line %d: the keys of `%s` must be plain names", k.Line, key))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			errs = append(errs, fmt.Sprintf("line %d: `%s.%s` is already set on line %d", k.Line, key, k.Value, first))
			continue
		}
		seen[k.Value] = k.Line
		switch {
		case isNull(v):
			errs = append(errs, fmt.Sprintf("line %d: `%s.%s` has no value (write \"\" for an empty one)", k.Line, key, k.Value))
		case v.Kind != yaml.ScalarNode:
			errs = append(errs, fmt.Sprintf("line %d: `%s.%s` must be a single value, not a %s", v.Line, key, k.Value, kindName(v)))
		default:
			out = append(out, Entry{Key: k.Value, Value: v.Value, Line: k.Line})
		}
	}
	if len(errs) > 0 {
		return out, &yaml.TypeError{Errors: errs}
	}
	return out, nil
}

// nameList accepts both a YAML list and the official action's
// comma-separated form ("A,B").
type nameList struct {
	names []string
}

// UnmarshalYAML reads a list of names or a comma-separated string.
func (l *nameList) UnmarshalYAML(n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		for _, s := range strings.Split(n.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				l.names = append(l.names, s)
			}
		}
		return nil
	case yaml.SequenceNode:
		var errs []string
		for _, item := range n.Content {
			item = deref(item)
			if item.Kind != yaml.ScalarNode || isNull(item) {
				errs = append(errs, fmt.Sprintf("line %d: the items of `postgres.env_vars` must be variable names", item.Line))
				continue
			}
			l.names = append(l.names, strings.TrimSpace(item.Value))
		}
		if len(errs) > 0 {
			return &yaml.TypeError{Errors: errs}
		}
		return nil
	}
	return typeError(n.Line, "`postgres.env_vars` must be a list of variable names, not a %s", kindName(n))
}

func typeError(line int, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)}}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}
