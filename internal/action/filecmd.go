package action

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// writeFileCommand appends name=value to one of the runner's file commands
// (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE) in the heredoc form, with a
// delimiter drawn at random for each value as @actions/core does.
//
// go-githubactions v1.3.0 uses one fixed delimiter, so a value containing it
// (a branch name, a PR title, an API error) could end the heredoc early and
// inject further outputs or environment variables. It also panics when the
// file variable is unset; here that is an error.
func writeFileCommand(path, name, value string) error {
	if path == "" {
		return errors.New("the runner did not provide the file for this command")
	}
	// The runner splits a line at the first "=" or "<<": a name holding
	// either would be read as a different name and value.
	if name == "" || strings.ContainsAny(name, "\r\n=") || strings.Contains(name, "<<") {
		return fmt.Errorf("invalid output name %q", name)
	}
	delim, err := delimiter(value)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening the runner's file command: %w", err)
	}
	_, werr := fmt.Fprintf(f, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("writing %s: %w", name, werr)
	}
	return cerr
}

// ParseFileCommands reads a GITHUB_OUTPUT or GITHUB_ENV file as the runner
// does, the inverse of writeFileCommand: NAME=value lines, and NAME<<DELIM
// heredocs whose value ends at the first line that is exactly DELIM. It
// returns the name/value pairs in file order, repeats included. A heredoc
// without its delimiter, an empty name or delimiter, or a line of neither
// form is an error, as each fails the step on a runner. Tests use it to
// read what the action wrote.
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

// delimiter returns a random heredoc delimiter that occurs nowhere in value.
func delimiter(value string) (string, error) {
	for range 8 {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("drawing a delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(b[:])
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("value contains every delimiter drawn: refusing to write it")
}

// appendFile appends text to a file such as GITHUB_STEP_SUMMARY.
func appendFile(path, text string) error {
	if path == "" {
		return errors.New("the runner did not provide the file")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(text)
	cerr := f.Close()
	if werr != nil {
		return werr
	}
	return cerr
}
