package webhook

import (
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// CommentMarker is the hidden line that identifies the service's sticky PR
// comment. Only an edit of a comment that carries it and was written by the
// App's bot can tick the rebuild box.
const CommentMarker = "<!-- hasura-preview:comment -->"

// RebuildBoxMarker may be put on the rebuild checkbox line to name it
// unambiguously; without it, the first task-list line that mentions
// "rebuild" is the box.
const RebuildBoxMarker = "<!-- hasura-preview:rebuild -->"

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

type box int

const (
	boxAbsent box = iota
	boxEmpty
	boxTicked
)

// rebuildTicked reports whether an edit turned the rebuild box from "- [ ]"
// into "- [x]".
func rebuildTicked(before, after string) bool {
	return rebuildBox(before) == boxEmpty && rebuildBox(after) == boxTicked
}

func rebuildBox(body string) box {
	for line := range strings.Lines(body) {
		t := strings.TrimSpace(line)
		if len(t) < 6 || (t[0] != '-' && t[0] != '*') || t[1] != ' ' || t[2] != '[' || t[4] != ']' {
			continue
		}
		if !strings.Contains(t, RebuildBoxMarker) && !strings.Contains(strings.ToLower(t), "rebuild") {
			continue
		}
		switch t[3] {
		case ' ':
			return boxEmpty
		case 'x', 'X':
			return boxTicked
		}
	}
	return boxAbsent
}
