package pgdb

import (
	"strings"
	"testing"
)

func TestDatabaseName(t *testing.T) {
	tests := map[string]string{
		"hello-world-pr-2":           "hello_world_pr_2",
		"Hello.World":                "Hello_World",
		`x"; DROP DATABASE test; --`: "x___DROP_DATABASE_test____",
		"ü":                          "_",
		"é-x":                        "__x",
		strings.Repeat("a", 63):      strings.Repeat("a", 63),
	}
	for in, want := range tests {
		if got := DatabaseName(in); got != want {
			t.Errorf("DatabaseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDatabaseNameLong(t *testing.T) {
	a := DatabaseName(strings.Repeat("a", 70) + "-x")
	b := DatabaseName(strings.Repeat("a", 70) + "-y")
	if len(a) != MaxIdentLen || len(b) != MaxIdentLen || a == b {
		t.Fatalf("long names %q and %q: want distinct, %d bytes", a, b, MaxIdentLen)
	}
	if a != DatabaseName(strings.Repeat("a", 70)+"-x") {
		t.Error("not deterministic")
	}
}

func TestEnvVarDatabaseName(t *testing.T) {
	if got := EnvVarDatabaseName("hello-world-pr-2", "PG_DATABASE_URL"); got != "hello_world_pr_2_pg_database_url" {
		t.Errorf("got %q", got)
	}
	app := strings.Repeat("long-app-name-", 4) + "pr-1" // 60 characters
	a, b := EnvVarDatabaseName(app, "PG_DATABASE_URL"), EnvVarDatabaseName(app, "PG_DATABASE_URL_2")
	if len(a) > MaxIdentLen || len(b) > MaxIdentLen || a == b {
		t.Errorf("per-variable names %q, %q: want distinct and at most %d bytes", a, b, MaxIdentLen)
	}
}
