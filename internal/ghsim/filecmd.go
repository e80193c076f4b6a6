package ghsim

import (
	"fmt"
	"slices"
	"strings"
)

// ParseFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file as the Actions
// runner does: NAME=value lines, and NAME<<DELIM heredocs whose value ends
// at the first line that is exactly DELIM. It returns the name/value pairs
// in file order, repeats included. A heredoc without its delimiter, an
// empty name or delimiter, or a line of neither form is an error, as each
// fails the step on a runner. Tests read what the action wrote through it.
func ParseFileCommands(text string) ([][2]string, error) {
	var out [][2]string
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		var key, value string
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			key, value = line[:eq], line[eq+1:]
		case hd >= 0:
			key = line[:hd]
			delim := line[hd+2:]
			if delim == "" {
				return out, fmt.Errorf("line %d: empty delimiter", i+1)
			}
			end := slices.Index(lines[i+1:], delim)
			if end < 0 {
				return out, fmt.Errorf("line %d: matching delimiter not found %q", i+1, delim)
			}
			value = strings.Join(lines[i+1:i+1+end], "\n")
			i += end + 1
		default:
			return out, fmt.Errorf("line %d: invalid format %q", i+1, line)
		}
		if key == "" {
			return out, fmt.Errorf("line %d: empty name", i+1)
		}
		out = append(out, [2]string{key, value})
	}
	return out, nil
}
