package ghreport

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// zwsp (zero-width space) breaks a token GitHub would interpret without
// changing what the reader sees.
const zwsp = "\u200b"

// mentionRE finds what GitHub turns into a mention (and a notification): an
// @ at the start or after a non-word character, followed by a login.
var mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])@([A-Za-z0-9])`)

// neutralise defuses text we did not write (errors from the Cloud, a
// config error quoting the user's file): mentions would notify people, and
// an HTML comment opener could hide the rest of the comment or forge one of
// our markers.
func neutralise(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = mentionRE.ReplaceAllString(s, "${1}@"+zwsp+"${2}")
	return strings.ReplaceAll(s, "<!--", "<!"+zwsp+"--")
}

// mdEscaper backslash-escapes the ASCII punctuation that starts Markdown or
// HTML constructs; CommonMark allows escaping any of it.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `#`, `\#`,
)

// autolinkRE finds what GitHub turns into a link without Markdown syntax:
// a scheme's "://" and a "www." at the start of a word.
var autolinkRE = regexp.MustCompile(`(?i)(://|\bwww\.)`)

// plainText renders untrusted text as literal inline Markdown on one line,
// with no bare URL that GitHub would turn into a link.
func plainText(s string) string {
	s = neutralise(s)
	s = strings.Join(strings.Fields(s), " ")
	s = autolinkRE.ReplaceAllStringFunc(s, func(m string) string { return m[:1] + zwsp + m[1:] })
	return mdEscaper.Replace(s)
}

// codeSpan renders s as inline code whatever backticks it holds: the
// delimiter is one backtick longer than the longest run inside.
func codeSpan(s string) string {
	s = strings.Join(strings.Fields(neutralise(s)), " ")
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// codeBlock renders s as a fenced block that s cannot close: CommonMark
// ends a fence only at a run of backticks at least as long as the opener.
func codeBlock(s string) string {
	s = strings.TrimRight(neutralise(s), "\n ")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "text\n" + s + "\n" + fence
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// link renders an http(s) URL as a Markdown link, or as code when it is not
// one (a javascript: URL from a bad API answer must not become clickable).
func link(label, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return codeSpan(raw)
	}
	s := u.String()
	s = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(s)
	return "[" + mdEscaper.Replace(label) + "](" + s + ")"
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
