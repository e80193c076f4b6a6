package webhook

import (
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// CommentMarker is the hidden line that identifies the service's sticky PR
// comment. Only an edit of a comment that carries it and was written by the
// App's bot can tick the rebuild box.
const CommentMarker = "<!-- hasura-preview:comment -->"

// slashCommand reads "/preview rebuild" or "/preview delete" from the
// comment's first line.
func slashCommand(body string) (store.CommandKind, bool) {
	line, _, _ := strings.Cut(body, "\n")
	f := strings.Fields(line)
	if len(f) != 2 || !strings.EqualFold(f[0], "/preview") {
		return "", false
	}
	switch strings.ToLower(f[1]) {
	case "rebuild":
		return store.CommandRebuild, true
	case "delete":
		return store.CommandDelete, true
	}
	return "", false
}
