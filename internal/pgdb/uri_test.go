package pgdb

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestRewriteDatabase(t *testing.T) {
	tests := []struct {
		uri, db, want string
	}{
		{"postgres://user:pass@host:5432/postgres?sslmode=require", "hello_world_pr_2",
			"postgres://user:pass@host:5432/hello_world_pr_2?sslmode=require"},
		{"postgresql://u:p%40ss%2Fw@host/postgres?sslmode=prefer&connect_timeout=10&application_name=x%20y", "db",
			"postgresql://u:p%40ss%2Fw@host/db?sslmode=prefer&connect_timeout=10&application_name=x%20y"},
		{"postgres://u:p@host:5432", "db", "postgres://u:p@host:5432/db"},
		{"postgres://u:p@host:5432?sslmode=disable", "db", "postgres://u:p@host:5432/db?sslmode=disable"},
		{"postgres://host/", "db", "postgres://host/db"},
		{"postgres://u@h1:5432,h2:5433/postgres?target_session_attrs=read-write", "db",
			"postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write"},
		{"postgres://u:p@[::1]:5432/postgres", "db", "postgres://u:p@[::1]:5432/db"},
		{"postgres://u:p@host/postgres", "odd name/ü", "postgres://u:p@host/odd%20name%2F%C3%BC"},
	}
	for _, tc := range tests {
		got, err := RewriteDatabase(tc.uri, tc.db)
		if err != nil {
			t.Errorf("RewriteDatabase(%q): %v", tc.uri, err)
			continue
		}
		if got != tc.want {
			t.Errorf("RewriteDatabase(%q, %q) = %q, want %q", tc.uri, tc.db, got, tc.want)
		}
		// pgx must read back the same settings with only the database changed.
		before, err1 := pgx.ParseConfig(tc.uri)
		after, err2 := pgx.ParseConfig(got)
		if err1 != nil || err2 != nil {
			t.Fatalf("pgx parse: %v / %v", err1, err2)
		}
		if after.Database != tc.db || after.User != before.User || after.Password != before.Password ||
			after.Host != before.Host || after.Port != before.Port || (before.TLSConfig == nil) != (after.TLSConfig == nil) {
			t.Errorf("pgx sees %s@%s:%d/%s, want %s@%s:%d/%s", after.User, after.Host, after.Port, after.Database,
				before.User, before.Host, before.Port, tc.db)
		}
	}
}

func TestRewriteDatabaseErrors(t *testing.T) {
	for _, uri := range []string{
		"mysql://u:" + testPassword + "@h/db",
		"host=h password=" + testPassword,
		"postgres://u:" + testPassword + "@h:notaport/db",
		"postgres://u:" + testPassword + "@/db",
		"postgres://u:" + testPassword + "@h/db with space",
		"postgres://u:12/" + testPassword + "@h/db", // unescaped '/' in the password
		"postgres://u:" + testPassword + "/x@h/db",
	} {
		_, err := RewriteDatabase(uri, "db")
		if err == nil {
			t.Errorf("RewriteDatabase(%q): no error", uri)
			continue
		}
		if strings.Contains(err.Error(), testPassword) {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := RewriteDatabase(serverURI, ""); err == nil {
		t.Error("empty database accepted")
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		serverURI:           "postgres://admin:xxxxx@db.example.com:5432/postgres?sslmode=require",
		"postgres://u@h/db": "postgres://u@h/db",
		"postgres://h/db?password=" + testPassword + "&a=b": "postgres://h/db?password=xxxxx&a=b",
		"postgres://h/db?sslpassword=" + testPassword:       "postgres://h/db?sslpassword=xxxxx",
		"postgres://u:" + testPassword + "@h:bad/db":        "postgres://u:xxxxx@h:bad/db",
		"host=h password=" + testPassword:                   "(not a postgres URL, not shown)",
		"":                                                  "",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	p, err := cutURI("postgres://admin:p%40ss" + testPassword + "@h/db?password=q" + testPassword)
	if err != nil {
		t.Fatal(err)
	}
	s := newScrubber(p)
	msg := `failed: postgres://admin:p%40ssPa55-w0rd!x@h/db?password=qPa55-w0rd!x and "p@ssPa55-w0rd!x" and qPa55-w0rd!x`
	got := s.scrub(msg)
	if strings.Contains(got, testPassword) {
		t.Fatalf("scrub left the password: %q", got)
	}
	if !strings.Contains(got, "postgres://admin:xxxxx@h/db") {
		t.Errorf("scrub lost the useful parts: %q", got)
	}
}

func TestPasswordForms(t *testing.T) {
	// "p@ss/w%rd" written with escapes: the as-written form is what the
	// app's database URLs carry (RewriteDatabase keeps user info verbatim).
	uri := "postgres://admin:p%40ss%2fw%25rd@db.example.com:5432/postgres?sslmode=require"
	forms := PasswordForms(uri)
	for _, want := range []string{"p%40ss%2fw%25rd", "p@ss/w%rd", "p%40ss%2Fw%25rd"} {
		found := false
		for _, f := range forms {
			found = found || f == want
		}
		if !found {
			t.Errorf("PasswordForms lacks %q: %q", want, forms)
		}
	}
	rewritten, err := RewriteDatabase(uri, "hello_world_pr_2")
	if err != nil {
		t.Fatal(err)
	}
	masked := rewritten
	for _, f := range forms {
		masked = strings.ReplaceAll(masked, f, "***")
	}
	if strings.Contains(masked, "p%40ss") || !strings.Contains(masked, "admin:***@") {
		t.Errorf("masking every form leaves %q", masked)
	}
	if got := PasswordForms("postgres://admin@db/postgres"); len(got) != 0 {
		t.Errorf("no password, forms %q", got)
	}
}
