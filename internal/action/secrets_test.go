package action

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// TestServerURIPasswordIsMaskedAsWritten: the database URLs handed to the
// app keep the server URI's user info exactly as written (pgdb.
// RewriteDatabase), percent-escapes and all, so a Cloud error quoting one
// must not show the password in any spelling: decoded, or escaped as
// written (lower-case hex included).
func TestServerURIPasswordIsMaskedAsWritten(t *testing.T) {
	const decoded = "p@ss/w:rd?1"
	for _, written := range []string{"p%40ss%2Fw%3Ard%3F1", "p%40ss%2fw%3ard%3f1"} {
		uri := "postgres://app:" + written + "@db.example.com:5432/postgres?sslmode=require"
		cfg, err := pgdb.ParseConfig("POSTGRES_SERVER_CONNECTION_URI=" + uri + "\nPG_ENV_VARS_FOR_HASURA=PG_DATABASE_URL")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := &runner{secrets: &preview.Masker{}, in: Inputs{Postgres: &cfg},
			gha: githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&out))}
		r.registerSecrets()

		appURL, err := pgdb.RewriteDatabase(uri, "hello_world_pr_2")
		if err != nil {
			t.Fatal(err)
		}
		shown := r.secrets.Mask("task apply-metadata failed: cannot connect to " + appURL + " (password " + decoded + ")")
		for _, pw := range []string{written, decoded} {
			if strings.Contains(shown, pw) {
				t.Errorf("password written %q shows in %q", written, shown)
			}
			// Workflow commands escape '%' as %25; the runner undoes it.
			if !strings.Contains(out.String(), "::add-mask::"+strings.ReplaceAll(pw, "%", "%25")+"\n") {
				t.Errorf("no ::add-mask:: for %q:\n%s", pw, out.String())
			}
		}
	}
}
