package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgresDBConfigEndToEnd runs the official postgresDBConfig input
// against a real PostgreSQL: the opened run creates the app's database and
// hands its URL to the app, the closed run drops it, and the server URI's
// password is masked and never printed.
func TestPostgresDBConfigEndToEnd(t *testing.T) {
	admin := os.Getenv("HASURA_PREVIEW_TEST_POSTGRES_URL")
	if admin == "" {
		t.Skip("HASURA_PREVIEW_TEST_POSTGRES_URL is not set")
	}
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	suffix := randomHex(t, 4)
	role, password := "action_e2e_"+suffix, "pwTEST"+randomHex(t, 8)
	app := "action-e2e-" + suffix
	db := strings.ReplaceAll(app, "-", "_")
	// Identifiers are made of hex digits and fixed text; the password is
	// a literal because CREATE ROLE takes no parameters.
	if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN CREATEDB PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c := context.Background()
		_, _ = conn.Exec(c, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		_, _ = conn.Exec(c, "DROP ROLE IF EXISTS "+role)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	config := "POSTGRES_SERVER_CONNECTION_URI=" + u.String() + "\nPG_ENV_VARS_FOR_HASURA=PG_DATABASE_URL\n"

	w := newWorld(t)
	res := w.run(runOpts{inputs: map[string]string{"name": app, "postgresDBConfig": config}})
	if res.code != 0 {
		t.Fatalf("opened: exit %d", res.code)
	}
	if !exists(t, conn, db) {
		t.Fatalf("database %s was not created", db)
	}
	proj, ok := w.cloud.Project(app)
	if !ok {
		t.Fatalf("no app %s", app)
	}
	got, err := url.Parse(proj.Env["PG_DATABASE_URL"])
	if err != nil || got.Path != "/"+db || got.User.Username() != role {
		t.Errorf("PG_DATABASE_URL = %q, want the server URI on database %s", proj.Env["PG_DATABASE_URL"], db)
	}
	if !onlyInMasks(res.stdout, password) || !strings.Contains(res.stdout, "::add-mask::"+password) {
		t.Error("the password is printed, or not masked")
	}
	for _, c := range w.gh.Comments(owner, repo, prNumber) {
		if strings.Contains(c.Body, password) {
			t.Error("the password is in the comment")
		}
	}
	if strings.Contains(res.outputRaw+res.summary+res.stderr, password) {
		t.Error("the password is in the outputs, the summary or stderr")
	}

	res = w.run(runOpts{event: "closed", inputs: map[string]string{"name": app, "postgresDBConfig": config}})
	if res.code != 0 {
		t.Fatalf("closed: exit %d", res.code)
	}
	if exists(t, conn, db) {
		t.Errorf("database %s survived the close", db)
	}
}

func exists(t *testing.T, conn *pgx.Conn, db string) bool {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
