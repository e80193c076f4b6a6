package action

import (
	"sort"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
)

// secrets holds every secret value of the run, to register masks with the
// runner and to scrub text the action writes itself (comments, summaries,
// outputs of errors) — the runner's masking covers only the log.
type secrets struct{ values []string }

func newSecrets() *secrets { return &secrets{} }

// minSecretLen keeps tiny values (a "1", "true") from masking half the log.
const minSecretLen = 4

func (s *secrets) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minSecretLen {
		return
	}
	for _, have := range s.values {
		if have == v {
			return
		}
	}
	s.values = append(s.values, v)
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

func (s *secrets) redact(text string) string {
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, "***")
	}
	return text
}

// registerSecrets collects every secret and registers it with the runner
// (::add-mask::), line by line for multi-line values: the runner masks
// single lines.
func (r *runner) registerSecrets() {
	add := func(v string) {
		if strings.TrimSpace(v) == "" {
			return
		}
		r.secrets.add(v)
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= minSecretLen {
				r.secrets.add(line)
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
