package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

func TestWriteFileCommandRoundTrips(t *testing.T) {
	values := []struct{ name, value string }{
		{"empty", ""},
		{"plain", "https://hello-world-pr-2.hasura.app/v1/graphql"},
		{"multiLine", "line one\nline two\n\nline four"},
		{"equals", "a=b;c"},
		{"heredocLike", "status<<EOF\npwned\nEOF"},
		{"fixedDelimiter", "x\nghadelimiter_\nghadelimiter_0123456789abcdef0123456789abcdef\nstatus=pwned"},
		{"oldLibraryDelimiter", "x\n_GitHubActionsFileCommandDelimeter_\nstatus=pwned"},
		{"json", jwtSecretForTests},
		{"trailingNewline", "value\n"},
	}
	path := filepath.Join(t.TempDir(), "output")
	for _, v := range values {
		if err := writeFileCommand(path, v.name, v.value); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ghsim.ParseFileCommands(string(raw))
	if err != nil {
		t.Fatalf("the runner would fail the step: %v\n%s", err, raw)
	}
	if len(got) != len(values) {
		t.Fatalf("parsed %d outputs, want %d: %q", len(got), len(values), got)
	}
	for i, v := range values {
		if got[i][0] != v.name || got[i][1] != v.value {
			t.Errorf("output %d = %q=%q, want %q=%q", i, got[i][0], got[i][1], v.name, v.value)
		}
	}
}

func TestWriteFileCommandRefuses(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ path, name string }{
		{"", "status"},                           // the runner gave no file
		{filepath.Join(dir, "o"), ""},            // no name
		{filepath.Join(dir, "o"), "a=b"},         // would parse as a=b...
		{filepath.Join(dir, "o"), "status\nx"},   // a second line
		{filepath.Join(dir, "o"), "status\r"},    // a CR the runner strips
		{filepath.Join(dir, "o"), "a<<b"},        // would parse as heredoc a, delimiter b<<...
		{filepath.Join(dir, "nope", "o"), "key"}, // unwritable
	}
	for _, c := range cases {
		if err := writeFileCommand(c.path, c.name, "v"); err == nil {
			t.Errorf("writeFileCommand(%q, %q) succeeded", c.path, c.name)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "o")); len(b) != 0 {
		t.Errorf("a refused command wrote %q", b)
	}
}

func TestDelimiter(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		d, err := delimiter("some value")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(d, "ghadelimiter_") || len(d) != len("ghadelimiter_")+32 {
			t.Fatalf("delimiter %q is not ghadelimiter_ and 128 random bits", d)
		}
		if seen[d] {
			t.Fatalf("delimiter %q drawn twice", d)
		}
		seen[d] = true
	}
	// A value holding every delimiter the generator could draw cannot be
	// built, but one holding a previous draw must not get it again.
	prev, _ := delimiter("")
	for range 50 {
		d, _ := delimiter(prev)
		if strings.Contains(prev, d) {
			t.Fatalf("delimiter %q occurs in the value", d)
		}
	}
}

func TestAppendFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary")
	for _, s := range []string{"one\n", "two\n"} {
		if err := appendFile(path, s); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "one\ntwo\n" {
		t.Errorf("summary = %q", b)
	}
	if err := appendFile("", "x"); err == nil {
		t.Error("appendFile without a path succeeded")
	}
}
