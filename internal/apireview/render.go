package apireview

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/mdsafe"
)

// Heading starts the section in the comment and the step summary.
const Heading = "### API changes"

// maxSection caps the rendered section, well inside GitHub's 65,536
// characters for the whole comment; the apiChanges output keeps the rest.
const maxSection = 24000

// maxName caps one name from the user's files in the rendering.
const maxName = 120

// Markdown renders the report: the heading, the summary line, then every
// change inside a collapsed <details>.
func (r *Report) Markdown() string {
	var b strings.Builder
	b.WriteString(Heading + "\n\n")
	b.WriteString(mdsafe.PlainText(r.Summary) + "\n")
	if !r.Changed && len(r.Problems) == 0 {
		return b.String()
	}
	b.WriteString("\n<details><summary>What changed</summary>\n\n")
	dropped := 0
	section := func(title string, n int, item func(int) string) {
		for i := 0; i < n; i++ {
			if i == 0 && b.Len() <= maxSection {
				b.WriteString("\n**" + title + "**\n\n")
			}
			if b.Len() > maxSection {
				dropped += n - i
				return
			}
			b.WriteString("- " + item(i) + "\n")
		}
	}
	changes := func(title string, cs []Change) {
		section(title, len(cs), func(i int) string { return changeLine(cs[i]) })
	}
	section("Could not be read", len(r.Problems), func(i int) string {
		p := r.Problems[i]
		loc := ""
		if p.File != "" {
			loc = code(p.File, maxName)
			if p.Line > 0 {
				loc += " line " + strconv.Itoa(p.Line)
			}
			loc += ": "
		}
		side := ""
		if p.Side != "" {
			side = " (" + p.Side + ")"
		}
		return fmt.Sprintf("⚠ refused or broken%s: %s%s", side, loc, mdsafe.PlainText(cut(p.Message, 300)))
	})
	if len(r.Problems) > 0 {
		b.WriteString("\n_What those files hold is not compared._\n")
	}
	changes("Tables and views", r.Tables)
	changes("Functions", r.Functions)
	changes("Relationships", r.Relationships)
	section("Permissions", len(r.Permissions), func(i int) string { return permissionLine(r.Permissions[i]) })
	changes("Inherited roles", r.InheritedRoles)
	changes("Actions", r.Actions)
	changes("Remote schemas", r.RemoteSchemas)
	changes("Event triggers", r.EventTriggers)
	changes("Cron triggers", r.CronTriggers)
	changes("REST endpoints", r.RestEndpoints)
	changes("Allow list", r.AllowList)
	changes("Query collections", r.Queries)
	section("Migrations", len(r.Migrations), func(i int) string { return migrationLine(r.Migrations[i]) })
	if dropped > 0 {
		fmt.Fprintf(&b, "\n… %d more not shown here; the action's `apiChanges` output has them all.\n", dropped)
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

func changeLine(c Change) string {
	var b strings.Builder
	if c.Warn != "" {
		b.WriteString("⚠ ")
	}
	b.WriteString(c.Change + " " + code(c.Name, maxName))
	writeDetails(&b, c.Details)
	if c.Warn != "" {
		b.WriteString(" — **" + mdsafe.PlainText(c.Warn) + "**")
	}
	return b.String()
}

func writeDetails(b *strings.Builder, ds []Detail) {
	sep := ": "
	for _, d := range ds {
		if d.Before == "" && d.After == "" {
			continue
		}
		b.WriteString(sep + mdsafe.PlainText(d.Field) + " ")
		sep = "; "
		switch {
		case d.Before != "" && d.After != "":
			b.WriteString(code(d.Before, maxCompact) + " → " + code(d.After, maxCompact))
		case d.After != "":
			b.WriteString(code(d.After, maxCompact))
		default:
			b.WriteString("was " + code(d.Before, maxCompact))
		}
	}
}

func permissionLine(p PermissionChange) string {
	var b strings.Builder
	b.WriteString(map[Effect]string{Widened: "⚠ **widened** ", Changed: "⚠ **rewritten** ", Narrowed: "narrowed ", Same: "changed "}[p.Effect])
	fmt.Fprintf(&b, "%s %s on %s", code(p.Role, maxName), p.Op, code(p.Table, maxName))
	if p.Unauthenticated {
		b.WriteString(" (**unauthenticated role**)")
	}
	if p.Change != Edited {
		b.WriteString(" (" + p.Change + ")")
	}
	var ds []Detail
	if len(p.ColumnsGranted) > 0 {
		ds = append(ds, Detail{Field: "columns granted", After: strings.Join(p.ColumnsGranted, ", ")})
	}
	if len(p.ColumnsRevoked) > 0 {
		ds = append(ds, Detail{Field: "columns revoked", After: strings.Join(p.ColumnsRevoked, ", ")})
	}
	writeDetails(&b, append(ds, p.Details...))
	if p.Warn != "" {
		b.WriteString(" — " + mdsafe.PlainText(p.Warn))
	}
	if len(p.SessionVariables) > 0 {
		b.WriteString("; session variables " + codeList(p.SessionVariables))
	}
	return b.String()
}

func codeList(l []string) string {
	const most = 20
	parts := make([]string, 0, min(len(l), most)+1)
	for i, s := range l {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(l)-most))
			break
		}
		parts = append(parts, code(s, maxName))
	}
	return strings.Join(parts, ", ")
}

func migrationLine(m MigrationChange) string {
	var b strings.Builder
	if len(m.Destructive) > 0 || m.Change == Edited {
		b.WriteString("⚠ ")
	}
	label := map[string]string{Added: "new", Removed: "removed", Edited: "edited (a database that ran it will not run it again)"}[m.Change]
	fmt.Fprintf(&b, "%s %s", label, code(m.Path, 2*maxName))
	for i, d := range m.Destructive {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more destructive statements", len(m.Destructive)-10)
			break
		}
		fmt.Fprintf(&b, "; **destructive** %s at line %d: %s", d.Kind, d.Line, code(d.Statement, 160))
	}
	return b.String()
}

// code renders untrusted text (every name here comes from the pull
// request's files) as inline code on one line, whatever backticks it
// holds, cut to n runes.
func code(s string, n int) string {
	s = compactSpace(mdsafe.Neutralise(s))
	// CommonMark shows a code span's content as text, but a closing tag
	// costs nothing to break too, should a renderer disagree.
	s = strings.ReplaceAll(s, "</", "<"+mdsafe.ZWSP+"/")
	if s = mdsafe.CodeSpan(cut(s, n)); s == "" {
		return "` `"
	}
	return s
}
