package pgdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// testURL is the server the tests create databases on; they skip only
// when it is not configured.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HASURA_PREVIEW_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("HASURA_PREVIEW_TEST_POSTGRES_URL is not set")
	}
	return u
}

func connect(t *testing.T, uri string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), uri)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// uniqueApp returns an app name no parallel run shares, and drops every
// database it may have led to when the test ends.
func uniqueApp(t *testing.T, admin *pgx.Conn, prefix string) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	app := prefix + "-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", DatabaseName(app)+"%")
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, n := range names {
			if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)"); err != nil {
				t.Errorf("cleanup: dropping %s: %v", n, err)
			}
		}
	})
	return app
}

func exists(t *testing.T, admin *pgx.Conn, db string) bool {
	t.Helper()
	var ok bool
	if err := admin.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func newManager(t *testing.T, uri string, perEnvVar bool, envVars ...string) *Manager {
	t.Helper()
	m, err := New(Config{ServerURI: uri, EnvVars: envVars, PerEnvVar: perEnvVar})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEnsureCreatesAndRecreates(t *testing.T) {
	uri := testURL(t)
	ctx := context.Background()
	admin := connect(t, uri)
	app := uniqueApp(t, admin, "pgdb-ensure")
	db := DatabaseName(app)
	m := newManager(t, uri, false, "PG_DATABASE_URL", "OTHER_DB_URL")

	env, err := m.Ensure(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := RewriteDatabase(uri, db)
	if len(env) != 2 || env[0] != (EnvVar{"PG_DATABASE_URL", want}) || env[1] != (EnvVar{"OTHER_DB_URL", want}) {
		t.Fatalf("env = %v, want both variables on %s", env, db)
	}
	if !exists(t, admin, db) {
		t.Fatalf("database %s not created", db)
	}

	// The previous build of the preview: connected, with data.
	old := connect(t, env[0].Value)
	if _, err := old.Exec(ctx, "CREATE TABLE marker (id int)"); err != nil {
		t.Fatal(err)
	}

	if _, err := m.Ensure(ctx, app); err != nil {
		t.Fatalf("re-ensure with a session open: %v", err)
	}
	if err := old.Ping(ctx); err == nil {
		t.Error("the old session survived the re-ensure")
	}
	fresh := connect(t, env[0].Value)
	var tables int
	if err := fresh.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Error("the database was not recreated: the old table is still there")
	}
}

func TestEnsurePerEnvVar(t *testing.T) {
	uri := testURL(t)
	ctx := context.Background()
	admin := connect(t, uri)
	app := uniqueApp(t, admin, "pgdb-per-var")
	m := newManager(t, uri, true, "PG_DATABASE_URL", "EVENTS_DB_URL")

	env, err := m.Ensure(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	dbs, _ := m.Databases(app)
	if len(env) != 2 || len(dbs) != 2 || dbs[0] == dbs[1] {
		t.Fatalf("env %v, databases %v", env, dbs)
	}
	for i, v := range env {
		if dbs[i] != DatabaseName(app)+"_"+strings.ToLower(v.Key) {
			t.Errorf("database %q for %s", dbs[i], v.Key)
		}
		cfg, err := pgx.ParseConfig(v.Value)
		if err != nil || cfg.Database != dbs[i] {
			t.Errorf("%s points at %q (%v), want %q", v.Key, cfg.Database, err, dbs[i])
		}
		if !exists(t, admin, dbs[i]) {
			t.Errorf("database %s not created", dbs[i])
		}
	}
	if err := m.Drop(ctx, app); err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		if exists(t, admin, db) {
			t.Errorf("database %s survived Drop", db)
		}
	}
}

func TestDrop(t *testing.T) {
	uri := testURL(t)
	ctx := context.Background()
	admin := connect(t, uri)
	app := uniqueApp(t, admin, "pgdb-drop")
	m := newManager(t, uri, false, "PG_DATABASE_URL")

	if err := m.Drop(ctx, app); err != nil {
		t.Fatalf("dropping a database that never existed: %v", err)
	}
	env, err := m.Ensure(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	session := connect(t, env[0].Value)
	if err := m.Drop(ctx, app); err != nil {
		t.Fatalf("drop with a session open: %v", err)
	}
	if exists(t, admin, DatabaseName(app)) {
		t.Fatal("database survived Drop")
	}
	if session.Ping(ctx) == nil {
		t.Error("session on the dropped database still alive")
	}
	if err := m.Drop(ctx, app); err != nil {
		t.Fatalf("second Drop: %v", err)
	}
}

func TestHostileNames(t *testing.T) {
	uri := testURL(t)
	ctx := context.Background()
	admin := connect(t, uri)
	app := uniqueApp(t, admin, `x"; DROP DATABASE test; --`)
	m := newManager(t, uri, false, "PG_DATABASE_URL")

	// Through the public API the naming rule already defuses the name.
	if _, err := m.Ensure(ctx, app); err != nil {
		t.Fatal(err)
	}
	if !exists(t, admin, DatabaseName(app)) {
		t.Errorf("database %q missing", DatabaseName(app))
	}

	// Below the naming rule, quoting alone must hold: the database gets the
	// hostile name literally, and nothing else is touched.
	var current string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
		t.Fatal(err)
	}
	hostile := DatabaseName(app) + `"; DROP DATABASE ` + current + `; --`
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{hostile}.Sanitize())
	})
	conn := connect(t, uri)
	if err := m.recreate(ctx, conn, hostile); err != nil {
		t.Fatal(err)
	}
	if !exists(t, admin, hostile) {
		t.Error("the hostile name was not created literally")
	}
	if !exists(t, admin, current) {
		t.Fatal("the injection dropped the server's database")
	}
	if err := m.drop(ctx, conn, hostile); err != nil {
		t.Fatal(err)
	}
	if exists(t, admin, hostile) {
		t.Error("the hostile name survived drop")
	}
}

func TestErrorsNeverShowThePassword(t *testing.T) {
	uri := testURL(t)
	ctx := context.Background()
	admin := connect(t, uri)
	base, err := pgx.ParseConfig(uri)
	if err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 5)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	role := "pgdb_test_" + hex.EncodeToString(suffix)
	password := "S3cret-" + hex.EncodeToString(suffix) + "!p"
	// A role that can log in but not create databases: connecting works,
	// CREATE DATABASE fails with the server's error.
	if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOCREATEDB PASSWORD '"+password+"'"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	hostPort := base.Host + ":" + strconv.Itoa(int(base.Port))
	app := uniqueApp(t, admin, "pgdb-secret")

	tests := []struct {
		name string
		uri  string
		ctx  context.Context
		msg  string
	}{
		{"permission denied", "postgres://" + role + ":" + password + "@" + hostPort + "/" + base.Database + "?sslmode=disable", ctx, "creating database"},
		{"unknown role", "postgres://nobody_" + role + ":" + password + "@" + hostPort + "/" + base.Database + "?sslmode=disable", ctx, "connecting"},
		{"wrong password", "postgres://" + role + ":wrong-" + password + "@" + hostPort + "/" + base.Database + "?sslmode=disable", ctx, "pgdb: "}, // trust auth connects anyway
		{"closed port", "postgres://" + role + ":" + password + "@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", ctx, "connecting"},
		{"canceled", "postgres://" + role + ":" + password + "@" + hostPort + "/" + base.Database + "?sslmode=disable", canceled(), "connecting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, tc.uri, false, "PG_DATABASE_URL")
			_, err := m.Ensure(tc.ctx, app)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), password) {
				t.Fatalf("error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if cause := errors.Unwrap(err); cause != nil && strings.Contains(cause.Error(), password) {
				t.Fatalf("unwrapped error shows the password: %v", cause)
			}
		})
	}

	m := newManager(t, tests[0].uri, false, "PG_DATABASE_URL")
	_, err = m.Ensure(ctx, app)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("permission error not classifiable: %v", err)
	}
	m = newManager(t, tests[0].uri, false, "PG_DATABASE_URL")
	if _, err := m.Ensure(canceled(), app); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v, want context.Canceled", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{EnvVars: []string{"A"}},
		{ServerURI: serverURI},
		{ServerURI: "postgres://u:" + testPassword + "@h:x/db", EnvVars: []string{"A"}},
	} {
		_, err := New(cfg)
		if err == nil {
			t.Errorf("New(%v): no error", cfg)
			continue
		}
		if strings.Contains(err.Error(), testPassword) {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := newManager(t, serverURI, false, "A").Databases(""); err == nil {
		t.Error("empty app name accepted")
	}
}

func TestEnvVarRedacted(t *testing.T) {
	v := EnvVar{"PG_DATABASE_URL", serverURI}
	if s := v.String(); strings.Contains(s, testPassword) || !strings.Contains(s, "PG_DATABASE_URL=postgres://admin:xxxxx@") {
		t.Errorf("String() = %q", s)
	}
}

func TestWrapScrubs(t *testing.T) {
	// pgx redacts the connection strings it quotes today; wrap must hold
	// even for an error that does not.
	uri := "postgres://admin:p%2F" + testPassword + "@db.example.com/postgres?password=" + testPassword
	m := newManager(t, uri, false, "A")
	leaky := errors.New("dial " + uri + " failed for password p/" + testPassword)
	err := m.wrap("connecting", leaky)
	if strings.Contains(err.Error(), testPassword) {
		t.Fatalf("wrap kept the password: %v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Errorf("wrap exposes an unclassified cause: %v", errors.Unwrap(err))
	}
	if !strings.Contains(err.Error(), "pgdb: connecting: dial postgres://admin:xxxxx@db.example.com/postgres?password=xxxxx failed") {
		t.Errorf("wrap lost the context: %v", err)
	}
}
