package reliability

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
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
// (where → text) in every spelling a reader's tool turns back into the
// secret: raw; URL-, JSON- (once or twice), HTML- and Markdown-escaped; with
// whitespace folded (single-line Markdown) and zero-width spaces dropped
// (mention breaking); and for its first 12 characters in each of these (a
// prefix gives a token away as surely). Values shorter than 12 characters
// are refused: a scan for them would find noise, not leaks.
func ScanSecrets(secrets map[string]string, texts map[string]string) ([]Leak, error) {
	var leaks []Leak
	views := map[string][]string{}
	for where, text := range texts {
		views[where] = []string{text, asRendered(text), html.UnescapeString(text)}
	}
	for label, v := range secrets {
		if len(v) < 12 {
			return nil, fmt.Errorf("secret %s is too short to scan for meaningfully", label)
		}
		needles := append(spellings(v), spellings(v[:12])...)
		for where := range texts {
			if found(views[where], needles) {
				leaks = append(leaks, Leak{Secret: label, Where: where})
			}
		}
	}
	return leaks, nil
}

func found(views, needles []string) bool {
	for _, text := range views {
		for _, n := range needles {
			if n != "" && strings.Contains(text, n) {
				return true
			}
		}
	}
	return false
}

// spellings are v's encoded forms; the decoded views of a text cover the
// Markdown and HTML escapes.
func spellings(v string) []string {
	j := jsonInner(v)
	return []string{v, fold(v), url.QueryEscape(v), url.PathEscape(v), j, jsonInner(j), html.EscapeString(v)}
}

func jsonInner(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// mdEscapeRE is a CommonMark backslash escape of ASCII punctuation.
var mdEscapeRE = regexp.MustCompile("\\\\([!-/:-@\\[-`{-~])")

// asRendered is text as a Markdown reader sees it: escapes undone,
// zero-width spaces dropped, whitespace folded.
func asRendered(text string) string {
	text = mdEscapeRE.ReplaceAllString(text, "$1")
	return fold(strings.ReplaceAll(text, "\u200b", ""))
}
