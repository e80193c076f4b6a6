package reliability

import (
	"fmt"
	"net/url"
	"strings"
)

// Leak is a secret found where it must not be.
type Leak struct {
	Secret string // its label, never the value
	Where  string
}

// String names the secret by its label, never by its value.
func (l Leak) String() string { return fmt.Sprintf("%s found in %s", l.Secret, l.Where) }

// ScanSecrets looks for each secret (label → value) in each captured text
// (where → text), in its raw, URL-escaped and JSON-escaped spellings, and
// for its first 12 characters (a prefix gives a token away as surely). Values
// shorter than 12 characters are refused: a scan for them would find
// noise, not leaks.
func ScanSecrets(secrets map[string]string, texts map[string]string) ([]Leak, error) {
	var leaks []Leak
	for label, v := range secrets {
		if len(v) < 12 {
			return nil, fmt.Errorf("secret %s is too short to scan for meaningfully", label)
		}
		needles := []string{v, url.QueryEscape(v), url.PathEscape(v), strings.ReplaceAll(v, `"`, `\"`), v[:12]}
		for where, text := range texts {
			for _, n := range needles {
				if strings.Contains(text, n) {
					leaks = append(leaks, Leak{Secret: label, Where: where})
					break
				}
			}
		}
	}
	return leaks, nil
}
