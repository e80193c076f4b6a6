package ghreport

import (
	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The renderers of untrusted text live in internal/mdsafe, shared with the
// API review.
var (
	neutralise = mdsafe.Neutralise
	plainText  = mdsafe.PlainText
	codeSpan   = mdsafe.CodeSpan
	codeBlock  = mdsafe.CodeBlock
)

const zwsp = mdsafe.ZWSP

// link renders an http(s) URL as a Markdown link, or as code when it is not
// one (a javascript: URL from a bad API answer must not become clickable).
func link(label, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return codeSpan(raw)
	}
	s := u.String()
	s = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(s)
	return "[" + mdsafe.Escape(label) + "](" + s + ")"
}

// truncateRunes cuts s to at most n runes, marking the cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	i := 0
	for k := range s {
		if i == n-1 {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

// textLen counts UTF-16 code units, never less than what GitHub counts
// against the 65,536-character limit whichever way it counts.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}
