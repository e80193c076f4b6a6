package ghreport

import "regexp"

// tickedRE matches the rebuild checkbox once someone ticked it. GitHub
// rewrites "[ ]" to "[x]" in the body when a task-list box is clicked;
// a hand edit may use "X" or "*" bullets, and may leave stray spaces.
var tickedRE = regexp.MustCompile(`(?m)^[ \t]*[-*][ \t]+\[[xX]\][ \t]+` + regexp.QuoteMeta(rebuildLabel) + `[ \t]+` + regexp.QuoteMeta(rebuildSuffix) + `[ \t]*\r?$`)

// ParseRebuildTicked reports whether body (our comment, after an
// issue_comment "edited" event) has the rebuild checkbox ticked.
func ParseRebuildTicked(body string) bool { return tickedRE.MatchString(body) }

// ClearRebuildTick returns body with the rebuild checkbox unticked, ready
// to be written back so the next tick is noticed again.
func ClearRebuildTick(body string) string {
	return tickedRE.ReplaceAllString(body, rebuildUnticked)
}
