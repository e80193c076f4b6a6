package apireview

import (
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
)

// Every name rendered here comes from the pull request's files.
var (
	neutralise = mdsafe.Neutralise
	plainText  = mdsafe.PlainText
)

// code renders untrusted text as inline code on one line, whatever
// backticks it holds, cut to n runes.
func code(s string, n int) string {
	s = compactSpace(neutralise(s))
	// CommonMark shows a code span's content as text, but a closing tag
	// costs nothing to break too, should a renderer disagree.
	s = strings.ReplaceAll(s, "</", "<"+mdsafe.ZWSP+"/")
	if s = mdsafe.CodeSpan(cut(s, n)); s == "" {
		return "` `"
	}
	return s
}
