package ghsim

import (
	"slices"
	"testing"
)

// TestParseFileCommandsRefuses: what fails a step on a runner must fail
// here, or the tests that read outputs through it could not catch a
// broken GITHUB_OUTPUT.
func TestParseFileCommandsRefuses(t *testing.T) {
	for _, text := range []string{
		"status<<EOF\nsuccess\n",      // no closing delimiter
		"status<<\nsuccess\n",         // empty delimiter
		"=success\n",                  // empty name
		"<<EOF\nsuccess\nEOF\n",       // empty heredoc name
		"status\n",                    // neither form
		"a=1\nstatus<<EOF\nx\nEOFx\n", // a line that only starts with the delimiter
	} {
		if got, err := ParseFileCommands(text); err == nil {
			t.Errorf("ParseFileCommands(%q) = %q, want an error", text, got)
		}
	}
	got, err := ParseFileCommands("a=1\r\n\nb<<D\nx=y\nD\na=2\n")
	want := [][2]string{{"a", "1"}, {"b", "x=y"}, {"a", "2"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseFileCommands = %q, %v; want %q", got, err, want)
	}
}
