package apireview

import (
	"cmp"
	"fmt"
	"strings"
)

// summarise counts what changed into the one line a reviewer reads first.
func (d *differ) summarise() {
	r := d.r
	var parts []string
	add := func(n int, one, many, suffix string) {
		if n == 1 {
			many = one
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s%s", n, many, suffix))
		}
	}
	// lists counts the changes of several lists, marked ⚠ if any warns.
	lists := func(one, many string, ls ...[]Change) {
		n, warned := 0, 0
		for _, l := range ls {
			n += len(l)
			warned += countIf(l, func(c Change) bool { return c.Warn != "" })
		}
		r.Warnings += warned
		if warned > 0 {
			add(n, one, many, " ⚠")
		} else {
			add(n, one, many, "")
		}
	}
	kind := func(cs []Change, k string) int { return countIf(cs, func(c Change) bool { return c.Change == k }) }
	add(kind(r.Tables, Added), "table added", "tables added", "")
	add(kind(r.Tables, Removed), "table removed", "tables removed", "")
	add(kind(r.Tables, Edited), "table renamed in the API", "tables renamed in the API", "")
	lists("function tracked/untracked", "functions tracked/untracked", r.Functions)
	add(kind(r.Relationships, Added), "relationship added", "relationships added", "")
	add(kind(r.Relationships, Removed), "relationship removed", "relationships removed", "")
	add(kind(r.Relationships, Edited), "relationship changed", "relationships changed", "")
	effect := func(e Effect) int {
		return countIf(r.Permissions, func(p PermissionChange) bool { return p.Effect == e })
	}
	widened, rewritten := effect(Widened), effect(Changed)
	note := ""
	if unauth := countIf(r.Permissions, func(p PermissionChange) bool { return p.Effect == Widened && p.Unauthenticated }); unauth > 0 {
		note = fmt.Sprintf(" (%d for the unauthenticated role)", unauth)
	}
	add(widened, "permission widened", "permissions widened", " ⚠"+note)
	add(rewritten, "row rule rewritten", "row rules rewritten", " ⚠")
	add(effect(Narrowed), "permission narrowed", "permissions narrowed", "")
	add(effect(Same), "permission changed", "permissions changed", "")
	lists("inherited role changed", "inherited roles changed", r.InheritedRoles)
	lists("action changed", "actions changed", r.Actions)
	lists("remote schema changed", "remote schemas changed", r.RemoteSchemas)
	lists("trigger changed", "triggers changed", r.EventTriggers, r.CronTriggers)
	lists("REST endpoint changed", "REST endpoints changed", r.RestEndpoints)
	lists("allow list change", "allow list changes", r.AllowList, r.Queries)
	migration := func(f func(m MigrationChange) bool) int { return countIf(r.Migrations, f) }
	destructive := migration(func(m MigrationChange) bool { return len(m.Destructive) > 0 })
	edited := migration(func(m MigrationChange) bool { return m.Change == Edited })
	add(migration(func(m MigrationChange) bool { return m.Change == Added }), "new migration", "new migrations", "")
	add(destructive, "destructive migration", "destructive migrations", " ⚠")
	add(edited, "migration edited after it was written", "migrations edited after they were written", " ⚠")
	r.Changed = len(parts) > 0
	add(len(r.Problems), "file could not be read", "files could not be read", " ⚠")
	r.Warnings += widened + rewritten + destructive + edited + len(r.Problems)
	r.Summary = cmp.Or(strings.Join(parts, " · "), "no API change")
}

func countIf[T any](l []T, f func(T) bool) int {
	n := 0
	for _, x := range l {
		if f(x) {
			n++
		}
	}
	return n
}
