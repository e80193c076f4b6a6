package store

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	const pragmas = "_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29&_txlock=immediate"
	cases := []struct {
		in, dsn, display string
		backend          Backend
	}{
		{"", "hasura-preview.db?" + pragmas, "sqlite:hasura-preview.db", SQLite},
		{"/var/lib/hp.db", "/var/lib/hp.db?" + pragmas, "sqlite:/var/lib/hp.db", SQLite},
		{"sqlite:///var/lib/hp.db", "/var/lib/hp.db?" + pragmas, "sqlite:/var/lib/hp.db", SQLite},
		{"sqlite://rel.db", "rel.db?" + pragmas, "sqlite:rel.db", SQLite},
		{"file:x.db", "file:x.db?" + pragmas, "sqlite:x.db", SQLite},
		{"file:x.db?_pragma=busy_timeout(100)&mode=rwc", "file:x.db?_pragma=busy_timeout%28100%29&_pragma=journal_mode%28WAL%29&_txlock=immediate&mode=rwc", "sqlite:x.db", SQLite},
		{"postgres://hp:pw@db:5432/hp?sslmode=disable", "postgres://hp:pw@db:5432/hp?sslmode=disable", "postgres://hp:xxxxx@db:5432/hp?sslmode=disable", Postgres},
		{"postgresql://db/hp?password=pw", "postgresql://db/hp?password=pw", "postgresql://db/hp?password=xxxxx", Postgres},
	}
	for _, tc := range cases {
		got, err := parseTarget(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got.backend != tc.backend || got.dsn != tc.dsn || got.display != tc.display {
			t.Errorf("%q: got %s %q %q, want %s %q %q", tc.in, got.backend, got.dsn, got.display, tc.backend, tc.dsn, tc.display)
		}
	}
	for _, bad := range []string{"a?b.db", "redis://u:pw@h/0", "sqlite://"} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: error shows the password: %v", bad, err)
		}
	}
}

func TestStoreRedactsInStringAndLogs(t *testing.T) {
	tg, err := parseTarget("postgres://hp:hunter2@db/hp")
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{target: tg}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("opened", "store", s)
	for _, out := range []string{s.String(), b.String()} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "xxxxx") {
			t.Errorf("not redacted: %s", out)
		}
	}
}

func TestScrub(t *testing.T) {
	base := errors.New(`failed to connect to user=hp password=p@ss:w0rd / p%40ss%3Aw0rd`)
	got := scrub(base, "p@ss:w0rd")
	if strings.Contains(got.Error(), "w0rd") {
		t.Fatalf("not scrubbed: %v", got)
	}
	if !errors.Is(got, base) {
		t.Fatal("scrubbed error lost its chain")
	}
	if scrub(base, "") != base {
		t.Fatal("scrub without a secret changed the error")
	}
}

func TestToSQLiteParams(t *testing.T) {
	if got := toSQLiteParams("a = $2 AND b = $10 AND c = '$'"); got != "a = ?2 AND b = ?10 AND c = '$'" {
		t.Fatalf("got %q", got)
	}
}

// SQLitePath is where /setup keeps the App's credentials file beside.
func TestSQLitePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                             "hasura-preview.db",
		"/var/lib/hp.db":               "/var/lib/hp.db",
		"sqlite:///var/lib/hp.db":      "/var/lib/hp.db",
		"file:x.db?mode=rwc":           "x.db",
		"file:///var/lib/hp.db":        "/var/lib/hp.db",
		"file:mem?mode=memory":         "",
		":memory:":                     "",
		"postgres://hp:pw@db:5432/hp?": "",
	} {
		tg, err := parseTarget(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if tg.path != want {
			t.Errorf("%q: path %q, want %q", in, tg.path, want)
		}
	}
}
