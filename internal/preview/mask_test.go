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

// benchSecrets are 20 values of a repository's size, some with punctuation.
func benchSecrets() []string {
	var out []string
	for i := range 20 {
		out = append(out, strings.Repeat("x", i)+"s3cr_t*[v]@"+strings.Repeat("k", 24))
	}
	return out
}

// BenchmarkMaskerSet is the per-pass cost of the service's masker.
func BenchmarkMaskerSet(b *testing.B) {
	vals := benchSecrets()
	for b.Loop() {
		var m preview.Masker
		m.Set(vals)
	}
}

// BenchmarkMaskerMask masks a comment-sized body (64 KiB, no secret in it);
// BenchmarkMaskBaseline is the masker as it was before it knew escaped
// spellings (plain strings.ReplaceAll of each value, then the same two
// shape patterns) over the same body.
func BenchmarkMaskerMask(b *testing.B) {
	var m preview.Masker
	m.Set(benchSecrets())
	body := benchBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		m.Mask(body)
	}
}

func BenchmarkMaskBaseline(b *testing.B) {
	vals := benchSecrets()
	body := benchBody()
	token := regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})`)
	password := regexp.MustCompile(`(://[^/\s:@]*:)[^@\s/]+@`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		s := body
		for _, v := range vals {
			s = strings.ReplaceAll(s, v, "***")
		}
		s = token.ReplaceAllString(s, "***")
		_ = password.ReplaceAllString(s, "${1}***@")
	}
}

func benchBody() string {
	return strings.Repeat("| deployment | apply-migration | ✅ success | 5s |\n", 1300)
}
