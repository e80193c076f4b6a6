package reconcile

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
)

// Secrets the reconciler cannot list but can recognise: GitHub tokens (the
// Cloud's clone token may come back in a task's error) and passwords in
// URLs.
var (
	githubTokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})`)
	urlPasswordRE = regexp.MustCompile(`(://[^/\s:@]*:)[^@\s/]+@`)
)

// minSecretLen keeps a trivially short "secret" from masking every
// occurrence of a common word in the comment.
const minSecretLen = 4

// redactor masks a repository's secret values in everything the reconciler
// writes to GitHub or its log: the Cloud's error messages are shown as they
// come, and they may quote the app's environment.
type redactor struct {
	mu      sync.Mutex
	secrets []string // longest first, so a secret inside another goes with it
}

func (r *redactor) set(values []string) {
	var keep []string
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(keep, v) {
			keep = append(keep, v)
		}
	}
	slices.SortFunc(keep, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	r.mu.Lock()
	r.secrets = keep
	r.mu.Unlock()
}

func (r *redactor) redact(s string) string {
	r.mu.Lock()
	secrets := r.secrets
	r.mu.Unlock()
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	s = githubTokenRE.ReplaceAllString(s, "***")
	return urlPasswordRE.ReplaceAllString(s, "${1}***@")
}

// secretValues lists what a resolved configuration holds that must not be
// shown: the values read from secrets or sensitive by name or content, and
// the database server's URI and password.
func secretValues(res repoconfig.Resolved) []string {
	var out []string
	for _, v := range res.Env {
		if res.IsSecret(v) {
			out = append(out, v.Value)
		}
	}
	if pg := res.Postgres; pg != nil {
		out = append(out, pg.ServerURI)
		out = append(out, pgdb.PasswordForms(pg.ServerURI)...)
	}
	return out
}
