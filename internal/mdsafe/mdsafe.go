// Package mdsafe renders text we did not write (Cloud errors, names from a
// pull request's files) into GitHub-flavoured Markdown as the text it is: no
// mention that notifies, no HTML comment that hides the rest or forges a
// marker, no bare URL turned into a link, no code span or fence it closes.
package mdsafe

import (
	"regexp"
	"strings"
)

// ZWSP (zero-width space) breaks a token GitHub would interpret without
// changing what the reader sees.
const ZWSP = "\u200b"

// mentionRE finds what GitHub turns into a mention (and a notification): an
// @ at the start or after a non-word character, followed by a login.
var mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])@([A-Za-z0-9])`)

// Neutralise defuses mentions and HTML comment openers, drops NUL and
// normalises line ends.
func Neutralise(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = mentionRE.ReplaceAllString(s, "${1}@"+ZWSP+"${2}")
	return strings.ReplaceAll(s, "<!--", "<!"+ZWSP+"--")
}

// mdEscaper backslash-escapes the ASCII punctuation that starts Markdown or
// HTML constructs; CommonMark allows escaping any of it.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `#`, `\#`,
)

// Escape backslash-escapes Markdown and HTML punctuation in s, for text
// that is already one line and needs no other defusing (a label of ours).
func Escape(s string) string { return mdEscaper.Replace(s) }

// autolinkRE finds what GitHub turns into a link without Markdown syntax:
// a scheme's "://" and a "www." at the start of a word.
var autolinkRE = regexp.MustCompile(`(?i)(://|\bwww\.)`)

// PlainText renders s as literal inline Markdown on one line, with no bare
// URL that GitHub would turn into a link.
func PlainText(s string) string {
	s = OneLine(s)
	s = autolinkRE.ReplaceAllStringFunc(s, func(m string) string { return m[:1] + ZWSP + m[1:] })
	return mdEscaper.Replace(s)
}

// CodeSpan renders s as inline code on one line, delimited by one backtick
// more than the longest run inside; "" stays "".
func CodeSpan(s string) string {
	s = OneLine(s)
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// OneLine neutralises s and folds its whitespace into single spaces: s
// stays Markdown, on one line.
func OneLine(s string) string { return strings.Join(strings.Fields(Neutralise(s)), " ") }

// CodeBlock renders s as a fenced block that s cannot close: CommonMark
// ends a fence only at a run of backticks at least as long as the opener.
func CodeBlock(s string) string {
	s = strings.TrimRight(Neutralise(s), "\n ")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "text\n" + s + "\n" + fence
}

func longestRun(s string, c rune) int {
	best := 0
	for _, run := range strings.FieldsFunc(s, func(r rune) bool { return r != c }) {
		best = max(best, len(run))
	}
	return best
}
