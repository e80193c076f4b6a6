package ghreport

import "regexp"

// boxLine matches our rebuild checkbox line with box between the brackets.
// GitHub rewrites "[ ]" to "[x]" in the body when a task-list box is
// clicked; a hand edit may use "X" or "*" bullets, and may leave stray
// spaces. The hidden suffix is required: quoted text cannot carry it.
func boxLine(box string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^[ \t]*[-*][ \t]+\[` + box + `\][ \t]+` + regexp.QuoteMeta(rebuildLabel) + `[ \t]+` + regexp.QuoteMeta(rebuildSuffix) + `[ \t]*\r?$`)
}

var (
	boxRE    = boxLine(`([ xX])`) // either state, captured
	tickedRE = boxLine(`[xX]`)
)

// ParseRebuildTicked reports whether body (our comment, after an
// issue_comment "edited" event) has the rebuild checkbox ticked.
func ParseRebuildTicked(body string) bool { return tickedRE.MatchString(body) }

// RebuildTickedBy reports whether an edit of our comment from before to
// after ticked the rebuild checkbox, the intake's test for a rebuild
// request; every box it accepts is one ClearRebuildTick unticks.
func RebuildTickedBy(before, after string) bool {
	m := boxRE.FindStringSubmatch(before)
	return m != nil && m[1] == " " && ParseRebuildTicked(after)
}

// ClearRebuildTick returns body with the rebuild checkbox unticked.
func ClearRebuildTick(body string) string {
	return tickedRE.ReplaceAllString(body, rebuildUnticked)
}
