package reliability

import (
	"regexp"
	"strings"
)

// Secrets of the output suites: Markdown punctuation, an @, a backtick, a
// backslash and (where the input allows it) a newline, so that every escape
// a renderer undoes changes their spelling.
const (
	// hostileAdminSecret is a one-line hasuraEnv value.
	hostileAdminSecret = "adm_RELIABILITY*[act]<x>#~`q@evil|end&\"z\\y"
	// hostileJWTSecret is a multi-line value (hasuraEnv heredoc, or a
	// repository secret of the service).
	hostileJWTSecret = "RELIABILITY_jwt*[k]<x>#~`q@evil.example\n{\"key\":\"a_b|c&d\"}"
)

// hostileCloudError is what a hostile or careless Cloud error says: it
// quotes the env it was given and holds a bare URL that GitHub would turn
// into a link under the bot's name.
func hostileCloudError() string {
	return "could not apply: HASURA_GRAPHQL_ADMIN_SECRET=" + hostileAdminSecret +
		" HASURA_GRAPHQL_JWT_SECRET=" + hostileJWTSecret + " is invalid; sign in again at https://evil.example/login"
}

// codeRE matches fenced blocks and inline code spans of Markdown.
var codeRE = regexp.MustCompile("(?s)(`{3,})[^\\n]*\\n.*?\\n(`{3,})|(`+)[^`]*?(`+)")

// outsideCode is Markdown with its code blocks and spans removed: what
// GitHub renders as Markdown, where a bare URL becomes a link.
func outsideCode(md string) string { return codeRE.ReplaceAllString(md, "") }

// bareLinks reports whether md has text GitHub turns into a link to host
// outside code.
func bareLinks(md, host string) bool {
	out := outsideCode(md)
	return strings.Contains(out, "://"+host) || strings.Contains(out, "www."+host)
}
