package ghreport

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// MaxBodyLen is the longest comment GitHub accepts, in characters.
const MaxBodyLen = 65536

// Caps on caller- and API-supplied text outside the task log, so that the
// log is the only part that ever needs cutting.
const (
	maxHeadline = 300
	maxMessage  = 4000
	maxNotice   = 4000
	maxFooter   = 1000
	maxNotices  = 10
	maxSection  = 30000
)

// The rebuild checkbox the webhook service watches. Its hidden suffix tells
// it apart from quoted text, where every "<!--" we did not write is broken.
const (
	rebuildLabel    = "Rebuild this preview"
	rebuildSuffix   = "<!-- hasura-preview:rebuild -->"
	rebuildUnticked = "- [ ] " + rebuildLabel + " " + rebuildSuffix
)

// Render returns the comment body for view, Marker first. A task log too
// long for GitHub's limit is shortened step by step until the body fits.
func Render(view View) string {
	var body string
	for _, lim := range []logLimits{
		{textCap: -1, maxRows: -1},
		{textCap: 16000, maxRows: -1},
		{textCap: 4000, maxRows: -1},
		{textCap: 1000, maxRows: -1},
		{textCap: 200, maxRows: 200},
		{textCap: 0, maxRows: 50},
		{omit: true},
	} {
		if body = compose(view, lim); textLen(body) <= MaxBodyLen {
			return body
		}
	}
	// Only caller text of extreme size gets here; a cut body is still
	// better than a comment GitHub refuses, and the marker is first.
	return hardCut(body, MaxBodyLen)
}

// RenderMasked is Render for text that may quote secrets: mask runs over
// every text of view before rendering, while each secret is still spelled
// as written (escaping for Markdown would change its spelling and let it
// through, and GitHub's renderer would turn it back), and over the
// rendered body once more. Every body we publish goes through it.
func RenderMasked(v View, mask func(string) string) string {
	if mask == nil {
		return Render(v)
	}
	v.Result = v.Result.Masked(mask)
	for _, s := range []*string{&v.Branch, &v.SHA, &v.Headline, &v.LogURL, &v.Footer} {
		*s = mask(*s)
	}
	v.Notices = slices.Clone(v.Notices)
	for i := range v.Notices {
		v.Notices[i].Text = mask(v.Notices[i].Text)
	}
	return mask(Render(v))
}

// logLimits shrink the task log until the body fits.
type logLimits struct {
	textCap int  // runes per error text; <0 = whole
	maxRows int  // task rows; <0 = all
	omit    bool // no task log at all
}

// hardCut keeps at most n UTF-16 units of s.
func hardCut(s string, n int) string {
	used := 0
	for i, r := range s {
		if used += utf16.RuneLen(r); used > n-1 {
			return s[:i] + "…"
		}
	}
	return s
}

func compose(v View, lim logLimits) string {
	var b strings.Builder
	res := &v.Result
	b.WriteString(Marker + "\n")
	b.WriteString("### " + headline(v) + "\n")

	notices := append(resultNotices(res), v.Notices...)
	for _, n := range notices[:min(len(notices), maxNotices)] {
		writeNotice(&b, n)
	}

	var facts []string
	if res.Endpoint != "" {
		facts = append(facts, "**GraphQL endpoint:** "+mdsafe.CodeSpan(res.Endpoint))
	}
	if res.ConsoleURL != "" {
		facts = append(facts, "**Console:** "+link("Open the Hasura console", res.ConsoleURL))
	}
	if src := source(v); src != "" {
		facts = append(facts, src)
	}
	if d := res.Finished.Sub(res.Started); !res.Started.IsZero() && !res.Finished.IsZero() && d >= 0 {
		facts = append(facts, "**Took:** "+formatDuration(d))
	}
	if len(facts) > 0 {
		b.WriteString("\n- " + strings.Join(facts, "\n- ") + "\n")
	}

	if res.Message != "" {
		// A failure's message quotes the Cloud's error, which is not ours to
		// format: as code, its URLs do not become links under our name.
		msg := truncateRunes(res.Message, maxMessage)
		if res.Status == preview.StatusFailed {
			b.WriteString("\n> " + mdsafe.CodeSpan(msg) + "\n")
		} else {
			b.WriteString("\n> " + mdsafe.PlainText(msg) + "\n")
		}
	}

	truncated := lim.textCap >= 0 || lim.maxRows >= 0 || lim.omit
	if !lim.omit {
		writeTasks(&b, v, lim)
		writeFailure(&b, res, lim)
	}
	if truncated {
		b.WriteString("\n_The task log was shortened to fit GitHub's comment size limit")
		if v.LogURL != "" {
			b.WriteString("; the full log is in the " + link("workflow run", v.LogURL))
		}
		b.WriteString("._\n")
	}

	if v.Section != "" {
		if textLen(v.Section) > maxSection {
			b.WriteString("\n_A section was too long for the comment and is left out._\n")
		} else {
			b.WriteString("\n" + strings.TrimRight(mdsafe.Neutralise(v.Section), "\n") + "\n")
		}
	}

	if v.LogURL != "" && !truncated {
		b.WriteString("\n" + link("Workflow run log", v.LogURL) + "\n")
	}
	if v.RebuildCheckbox && res.Status != preview.StatusDeleted {
		b.WriteString("\n" + rebuildUnticked + "\n")
	}
	if v.Footer != "" {
		b.WriteString("\n<sub>" + mdsafe.OneLine(truncateRunes(v.Footer, maxFooter)) + "</sub>\n")
	}
	return b.String()
}

// resultNotices says what the engine did by itself: a rebuild after the
// Cloud's first-run error, an env change made in place.
func resultNotices(res *preview.Result) []Notice {
	var out []Notice
	if res.AutoRebuilt {
		out = append(out, Notice{Kind: NoticeNote, Text: "The first deployment failed with Hasura Cloud's first-run error " +
			"(\"If you have just created this project please wait a few moments…\"), so this preview was rebuilt once automatically."})
	}
	if u := res.EnvUpdate; u != nil {
		var parts []string
		if len(u.Set) > 0 {
			parts = append(parts, "set "+keyList(u.Set))
		}
		if len(u.Deleted) > 0 {
			parts = append(parts, "removed "+keyList(u.Deleted))
		}
		out = append(out, Notice{Kind: NoticeNote, Text: fmt.Sprintf("Only the environment changed, so it was updated in place at %s "+
			"(%s) instead of rebuilding: the app restarted; metadata and migrations were not applied again.",
			u.At.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(parts, "; "))})
	}
	return out
}

// keyList shows env keys (never values) as code.
func keyList(keys []string) string {
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = mdsafe.CodeSpan(k)
	}
	return strings.Join(shown, ", ")
}

// statusLook is how a status reads: "✅ Preview `name` is ready".
type statusLook struct{ emoji, text string }

var statusLooks = map[preview.Status]statusLook{
	"":                       {"⏸️", "is queued"},
	preview.StatusCreating:   {"⏳", "is building"},
	preview.StatusDeploying:  {"⏳", "is building (applying metadata and migrations)"},
	preview.StatusSuccess:    {"✅", "is ready"},
	preview.StatusFailed:     {"❌", "failed"},
	preview.StatusSuperseded: {"⏭️", "was superseded by a newer push"},
	preview.StatusTimedOut:   {"⌛", "timed out"},
	preview.StatusDeleted:    {"🗑️", "was deleted"},
}

func headline(v View) string {
	look, ok := statusLooks[v.Result.Status]
	if !ok {
		look = statusLook{"❔", "is " + string(v.Result.Status)}
	}
	if v.Headline != "" {
		return look.emoji + " " + mdsafe.PlainText(truncateRunes(v.Headline, maxHeadline))
	}
	name := "Preview"
	if v.Result.Name != "" {
		name += " " + mdsafe.CodeSpan(v.Result.Name)
	}
	return look.emoji + " " + name + " " + mdsafe.PlainText(look.text)
}

// source says what the preview was built from.
func source(v View) string {
	var parts []string
	if v.Branch != "" {
		parts = append(parts, "**Branch:** "+mdsafe.CodeSpan(v.Branch))
	}
	if v.SHA != "" {
		parts = append(parts, "**Commit:** "+mdsafe.CodeSpan(strings.ToValidUTF8(v.SHA[:min(len(v.SHA), 7)], "")))
	}
	if v.PR > 0 {
		parts = append(parts, fmt.Sprintf("**PR:** #%d", v.PR))
	}
	return strings.Join(parts, " · ")
}

func writeNotice(b *strings.Builder, n Notice) {
	kind := n.Kind
	if kind != NoticeWarning && kind != NoticeError {
		kind = NoticeNote
	}
	text := strings.TrimSpace(mdsafe.Neutralise(truncateRunes(n.Text, maxNotice)))
	if text == "" {
		return
	}
	b.WriteString("\n> [!" + kind + "]\n")
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(strings.TrimRight("> "+line, " ") + "\n")
	}
}

var taskEmoji = map[string]string{
	preview.TaskPending: "⚪",
	preview.TaskRunning: "🔄",
	preview.TaskSuccess: "✅",
	preview.TaskFailed:  "❌",
	preview.TaskSkipped: "⏭️",
}

func writeTasks(b *strings.Builder, v View, lim logLimits) {
	tasks := v.Result.Tasks
	if len(tasks) == 0 {
		return
	}
	done := 0
	for _, t := range tasks {
		if t.State == preview.TaskSuccess || t.State == preview.TaskSkipped {
			done++
		}
	}
	// Open while it is news; folded once the preview is ready or gone.
	open := " open"
	if s := v.Result.Status; s == preview.StatusSuccess || s == preview.StatusDeleted || s == preview.StatusSuperseded {
		open = ""
	}
	fmt.Fprintf(b, "\n<details%s><summary>Tasks: %d of %d done</summary>\n\n", open, done, len(tasks))
	b.WriteString("| Job | Task | State | Duration |\n| --- | --- | --- | --- |\n")
	shown := tasks
	if lim.maxRows >= 0 && len(shown) > lim.maxRows {
		shown = shown[:lim.maxRows]
	}
	for _, t := range shown {
		emoji, ok := taskEmoji[t.State]
		if !ok {
			emoji = "❔"
		}
		dur := "—"
		if !t.Finished.IsZero() && !t.Started.IsZero() {
			dur = formatDuration(t.Duration())
		}
		fmt.Fprintf(b, "| %s | %s | %s %s | %s |\n",
			mdsafe.PlainText(t.Job), mdsafe.PlainText(t.Name), emoji, mdsafe.PlainText(t.State), dur)
	}
	if n := len(tasks) - len(shown); n > 0 {
		fmt.Fprintf(b, "| | _%d more tasks not shown_ | | |\n", n)
	}
	b.WriteString("\n</details>\n")
}

func writeFailure(b *strings.Builder, res *preview.Result, lim logLimits) {
	t := res.FailedTask()
	if t == nil {
		return
	}
	b.WriteString("\n**Failed task:** " + mdsafe.CodeSpan(t.Name))
	if t.Job != "" {
		b.WriteString(" (" + mdsafe.PlainText(t.Job) + " job)")
	}
	b.WriteString("\n")
	for _, part := range []struct{ title, text string }{
		{"Error", t.Error},
		{"GitHub detail", t.GitHubDetail},
	} {
		if strings.TrimSpace(part.text) == "" {
			continue
		}
		text := part.text
		if lim.textCap >= 0 {
			text = truncateRunes(text, lim.textCap)
			if lim.textCap == 0 {
				text = "(left out: too long for a comment)"
			}
		}
		fmt.Fprintf(b, "\n<details><summary>%s</summary>\n\n%s\n\n</details>\n", part.title, mdsafe.CodeBlock(text))
	}
}

// formatDuration prints "42s", "3m 05s" or "1h 02m".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		return fmt.Sprintf("%dh %02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}
