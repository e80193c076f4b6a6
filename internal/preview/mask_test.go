package preview_test

import (
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// hostileSecret holds Markdown punctuation, an @, a backtick and a newline:
// every escape below changes its spelling.
const hostileSecret = "p_a*s[s]<w>#~`\\o@rd|x\nline-2&\"q'"

// mdEscape backslash-escapes ASCII punctuation as a Markdown renderer
// expects, and folds whitespace as single-line Markdown does.
func mdEscape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return regexp.MustCompile("([\\\\`*_\\[\\]<>|~#&\"'@])").ReplaceAllString(s, `\$1`)
}

func jsonInner(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestMaskerFindsEscapedSpellings: a secret escaped for Markdown, JSON, a
// URL or HTML is still the secret once a reader's renderer undoes the
// escape, so each spelling is masked too.
func TestMaskerFindsEscapedSpellings(t *testing.T) {
	m := &preview.Masker{}
	m.Add(hostileSecret)
	for name, spelled := range map[string]string{
		"raw":           hostileSecret,
		"markdown":      mdEscape(hostileSecret),
		"json":          jsonInner(hostileSecret),
		"json of md":    jsonInner(mdEscape(hostileSecret)),
		"query":         url.QueryEscape(hostileSecret),
		"path":          url.PathEscape(hostileSecret),
		"html":          html.EscapeString(hostileSecret),
		"folded":        strings.Join(strings.Fields(hostileSecret), " "),
		"mention-break": strings.ReplaceAll(hostileSecret, "@", "@\u200b"),
	} {
		got := m.Mask("before " + spelled + " after")
		if got != "before *** after" {
			t.Errorf("%s: Mask(%q) = %q", name, spelled, got)
		}
	}
	if got := m.Mask("nothing secret here: p_a and rd|x"); got != "nothing secret here: p_a and rd|x" {
		t.Errorf("masked innocent text: %q", got)
	}
}

// TestMaskerLongestFirst: a secret inside a longer one goes with it.
func TestMaskerLongestFirst(t *testing.T) {
	m := &preview.Masker{}
	m.Add("abcd", "xxabcdyy")
	if got := m.Mask("1 xxabcdyy 2 abcd"); got != "1 *** 2 ***" {
		t.Errorf("Mask = %q", got)
	}
	m.Set(nil)
	if got := m.Mask("abcd"); got != "abcd" {
		t.Errorf("after Set(nil): %q", got)
	}
}
