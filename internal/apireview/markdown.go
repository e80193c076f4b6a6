package apireview

import (
	"regexp"
	"strings"
)

// These helpers mirror internal/ghreport's sanitize.go (which is
// unexported, and this package must not depend on GitHub code): every
// name here comes from the pull request's files.

const zwsp = "\u200b"

var mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9_])@([A-Za-z0-9])`)

// neutralise defuses mentions (notifications) and HTML comment openers
// (which could hide the rest of the comment or forge a marker).
func neutralise(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = mentionRE.ReplaceAllString(s, "${1}@"+zwsp+"${2}")
	return strings.ReplaceAll(s, "<!--", "<!"+zwsp+"--")
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `#`, `\#`, `&`, `\&`,
)

// plainText renders untrusted text as literal inline Markdown on one line.
func plainText(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(neutralise(s)), " "))
}

// code renders untrusted text as inline code on one line, whatever
// backticks it holds, cut to n runes.
func code(s string, n int) string {
	s = strings.Join(strings.Fields(neutralise(s)), " ")
	// CommonMark shows a code span's content as text, but a closing tag
	// costs nothing to break too, should a renderer disagree.
	s = strings.ReplaceAll(s, "</", "<"+zwsp+"/")
	s = cut(s, n)
	if s == "" {
		return "` `"
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
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
