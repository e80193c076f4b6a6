package action

import (
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

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
