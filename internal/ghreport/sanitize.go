package ghreport

import (
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
)

// link renders an http(s) URL as a Markdown link, or as code when it is not
// one (a javascript: URL from a bad API answer must not become clickable).
func link(label, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return mdsafe.CodeSpan(raw)
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
	i := 0
	for k := range s {
		if i >= n-1 {
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
		n += utf16.RuneLen(r)
	}
	return n
}
