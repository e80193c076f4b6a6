package mdsafe

import "testing"

func TestRenderers(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"mention defused", PlainText("ping @octocat"), "ping @" + ZWSP + "octocat"},
		{"comment opener defused", Neutralise("<!-- hasura-preview:comment -->"), "<!" + ZWSP + "-- hasura-preview:comment -->"},
		{"punctuation escaped", PlainText("*a* _b_ [c](d) <e> | ~f~ #g"), `\*a\* \_b\_ \[c\](d) \<e\> \| \~f\~ \#g`},
		{"bare URL not linked", PlainText("see https://evil.example and www.evil.example"),
			"see https:" + ZWSP + "//evil.example and w" + ZWSP + "ww.evil.example"},
		{"one line", PlainText("a\n\n b\r\nc"), "a b c"},
		{"code span outlasts backticks", CodeSpan("a ``b`` c"), "```a ``b`` c```"},
		{"code span padded at a backtick", CodeSpan("`x`"), "`` `x` ``"},
		{"empty code span", CodeSpan(" \n "), ""},
		{"code block outlasts fences", CodeBlock("x\n````\ny\n"), "`````text\nx\n````\ny\n`````"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
