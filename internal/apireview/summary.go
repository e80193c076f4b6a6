package apireview

import (
	"fmt"
	"strings"
)

// summarise counts what changed into the one line a reviewer reads first.
func (d *differ) summarise() {
	r := d.r
	var parts []string
	add := func(n int, one, many, suffix string) {
		if n == 0 {
			return
		}
		word := one
		if n != 1 {
			word = many
		}
		parts = append(parts, fmt.Sprintf("%d %s%s", n, word, suffix))
	}
	count := func(cs []Change, kind string) int {
		n := 0
		for _, c := range cs {
			if c.Change == kind {
				n++
			}
		}
		return n
	}
	warned := func(cs []Change) int {
		n := 0
		for _, c := range cs {
			if c.Warn != "" {
				n++
			}
		}
		return n
	}
	add(count(r.Tables, Added), "table added", "tables added", "")
	add(count(r.Tables, Removed), "table removed", "tables removed", "")
	add(count(r.Tables, Edited), "table renamed in the API", "tables renamed in the API", "")
	add(len(r.Functions), "function tracked/untracked", "functions tracked/untracked", "")
	add(count(r.Relationships, Added), "relationship added", "relationships added", "")
	add(count(r.Relationships, Removed), "relationship removed", "relationships removed", "")
	add(count(r.Relationships, Edited), "relationship changed", "relationships changed", "")
	var widened, unauth, rewritten, narrowed, other int
	for _, p := range r.Permissions {
		switch p.Effect {
		case Widened:
			widened++
			if p.Unauthenticated {
				unauth++
			}
		case Changed:
			rewritten++
		case Narrowed:
			narrowed++
		default:
			other++
		}
	}
	if unauth > 0 {
		add(widened, "permission widened", "permissions widened", fmt.Sprintf(" ⚠ (%d for the unauthenticated role)", unauth))
	} else {
		add(widened, "permission widened", "permissions widened", " ⚠")
	}
	add(rewritten, "row rule rewritten", "row rules rewritten", " ⚠")
	add(narrowed, "permission narrowed", "permissions narrowed", "")
	add(other, "permission changed", "permissions changed", "")
	add(len(r.InheritedRoles), "inherited role changed", "inherited roles changed", suffixIf(warned(r.InheritedRoles)))
	add(len(r.Actions), "action changed", "actions changed", suffixIf(warned(r.Actions)))
	add(len(r.RemoteSchemas), "remote schema changed", "remote schemas changed", suffixIf(warned(r.RemoteSchemas)))
	add(len(r.EventTriggers)+len(r.CronTriggers), "trigger changed", "triggers changed", suffixIf(warned(r.EventTriggers)+warned(r.CronTriggers)))
	add(len(r.RestEndpoints), "REST endpoint changed", "REST endpoints changed", "")
	add(len(r.AllowList)+len(r.Queries), "allow list change", "allow list changes", suffixIf(warned(r.AllowList)+warned(r.Queries)))
	var added, destructive, edited int
	for _, m := range r.Migrations {
		switch m.Change {
		case Added:
			added++
		case Edited:
			edited++
		}
		if len(m.Destructive) > 0 {
			destructive++
		}
	}
	add(added, "new migration", "new migrations", "")
	add(destructive, "destructive migration", "destructive migrations", " ⚠")
	add(edited, "migration edited after it was written", "migrations edited after they were written", " ⚠")
	r.Changed = len(parts) > 0
	add(len(r.Problems), "file could not be read", "files could not be read", " ⚠")

	r.Warnings = widened + rewritten + destructive + edited + len(r.Problems) +
		warned(r.InheritedRoles) + warned(r.Actions) + warned(r.RemoteSchemas) +
		warned(r.EventTriggers) + warned(r.CronTriggers) + warned(r.AllowList) + warned(r.Queries)
	if len(parts) == 0 {
		r.Summary = "no API change"
		return
	}
	r.Summary = strings.Join(parts, " · ")
}

func suffixIf(warnings int) string {
	if warnings > 0 {
		return " ⚠"
	}
	return ""
}
