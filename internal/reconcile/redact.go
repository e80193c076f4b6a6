package reconcile

import (
	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
)

// secretValues lists what a configuration holds that must not be shown:
// secret values, and the database server's URI and password.
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

// maskError returns err masked, still unwrapping to err.
func maskError(err error, m *preview.Masker) error {
	if err == nil {
		return nil
	}
	text := m.Mask(err.Error())
	if text == err.Error() {
		return err
	}
	return &maskedError{err: err, text: text}
}

type maskedError struct {
	err  error
	text string
}

func (e *maskedError) Error() string { return e.text }
func (e *maskedError) Unwrap() error { return e.err }
