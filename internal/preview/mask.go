package preview

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Secrets a Masker recognises untold: GitHub tokens (the Cloud's clone token
// may come back in a task's error) and passwords in URLs.
var (
	githubTokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})`)
	urlPasswordRE = regexp.MustCompile(`(://[^/\s:@]*:)[^@\s/]+@`)
)

// MinSecretLen keeps a trivially short "secret" (a "1", a "true") from
// masking every occurrence of a common word.
const MinSecretLen = 4

// Masker replaces secret values with *** in what people see or the service
// stores: the Cloud's errors may quote the app's env. Callers mask before
// escaping; as a second line, a value is also found in its escaped spellings
// (Markdown, JSON, URL, HTML, folded whitespace), which renderers turn back
// into the secret. It is safe for concurrent use; the zero value masks only
// tokens and URL passwords.
type Masker struct {
	mu      sync.RWMutex
	entries []*maskEntry // longest first, so a secret inside another goes with it
}

// maskEntry is one value with the pattern of its spellings, compiled the
// first time its anchor shows up in a text.
type maskEntry struct {
	value string
	// anchor is the value's longest run of ASCII letters and digits, which
	// no escape changes: a text without it needs no pattern run.
	anchor string
	once   sync.Once
	re     *regexp.Regexp
}

func (e *maskEntry) pattern() *regexp.Regexp {
	e.once.Do(func() { e.re = regexp.MustCompile(spellings(e.value)) })
	return e.re
}

// Set replaces the values to mask.
func (m *Masker) Set(values []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = nil
	m.add(values)
}

// Add adds values to mask.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(values)
}

func (m *Masker) add(values []string) {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) < MinSecretLen || slices.ContainsFunc(m.entries, func(e *maskEntry) bool { return e.value == v }) {
			continue
		}
		m.entries = append(m.entries, &maskEntry{value: v, anchor: longestAlnum(v)})
	}
	slices.SortStableFunc(m.entries, func(a, b *maskEntry) int { return cmp.Compare(len(b.value), len(a.value)) })
}

// Mask returns s with every value (in any of its escaped spellings), every
// GitHub token and every password in a URL replaced by ***.
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	for _, e := range m.entries {
		if e.anchor != "" && !strings.Contains(s, e.anchor) {
			continue
		}
		s = e.pattern().ReplaceAllLiteralString(s, "***")
	}
	m.mu.RUnlock()
	s = githubTokenRE.ReplaceAllString(s, "***")
	return urlPasswordRE.ReplaceAllString(s, "${1}***@")
}

func longestAlnum(v string) string {
	best := ""
	for _, w := range strings.FieldsFunc(v, notAlnum) {
		if len(w) > len(best) {
			best = w
		}
	}
	return best
}

// htmlEntities are what html.EscapeString and html/template write.
var htmlEntities = map[rune][]string{
	'<': {"&lt;", "&#60;", `\u003c`}, '>': {"&gt;", "&#62;", `\u003e`}, '&': {"&amp;", "&#38;", `\u0026`},
	'"': {"&quot;", "&#34;"}, '\'': {"&#39;", "&apos;"},
}

// spellings is a pattern for v as written and as Markdown, JSON, URL and
// HTML escapes write it: characters percent-encoded or as entities,
// punctuation with backslashes and a zero-width space, whitespace folded.
func spellings(v string) string {
	var b strings.Builder
	b.WriteString("(?:")
	inSpace := false
	for _, r := range v {
		if unicode.IsSpace(r) {
			if !inSpace {
				b.WriteString(`(?:\s|\\[nrt]|%0[9aAdD]|%20|\+|&#10;|&#13;|<br\s*/?>)+`)
			}
			inSpace = true
			continue
		}
		inSpace = false
		alts := []string{regexp.QuoteMeta(string(r))}
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			alts = append(alts, percentEncoded(r))
		}
		for _, e := range htmlEntities[r] {
			alts = append(alts, regexp.QuoteMeta(e))
		}
		if r < utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			fmt.Fprintf(&b, `\\*(?:%s)\x{200b}?`, strings.Join(alts, "|"))
			continue
		}
		fmt.Fprintf(&b, `(?:%s)`, strings.Join(alts, "|"))
	}
	b.WriteString(")")
	return b.String()
}

// percentEncoded matches r's UTF-8 bytes as %XX in either case of hex.
func percentEncoded(r rune) string {
	var b strings.Builder
	buf := make([]byte, utf8.UTFMax)
	for _, c := range buf[:utf8.EncodeRune(buf, r)] {
		fmt.Fprintf(&b, `%%(?i:%02x)`, c)
	}
	return b.String()
}
