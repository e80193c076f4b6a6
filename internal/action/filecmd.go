package action

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// writeFileCommand appends name=value to a runner's file command (GITHUB_OUTPUT,
// GITHUB_ENV) in the heredoc form, with a random delimiter per value as
// @actions/core does. go-githubactions v1.3.0 uses one fixed delimiter, so a
// value containing it (a branch name, a PR title, an API error) could inject
// further outputs or environment variables; it also panics on an unset file.
func writeFileCommand(path, name, value string) error {
	// The runner splits a line at the first "=" or "<<": a name holding
	// either would be read as a different name and value.
	if name == "" || strings.ContainsAny(name, "\r\n=") || strings.Contains(name, "<<") {
		return fmt.Errorf("invalid output name %q", name)
	}
	delim, err := delimiter(value)
	if err != nil {
		return err
	}
	if err := appendFile(path, fmt.Sprintf("%s<<%s\n%s\n%s\n", name, delim, value, delim)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// delimiter returns a random heredoc delimiter that occurs nowhere in value.
func delimiter(value string) (string, error) {
	for range 8 {
		var b [16]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 on)
		d := "ghadelimiter_" + hex.EncodeToString(b[:])
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", errors.New("value contains every delimiter drawn: refusing to write it")
}

// appendFile appends text to a file the runner provides, such as
// GITHUB_STEP_SUMMARY.
func appendFile(path, text string) error {
	if path == "" {
		return errors.New("the runner did not provide the file")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}
