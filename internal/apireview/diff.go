package apireview

import (
	"maps"
	"slices"
	"strings"
)

// Options tune the review.
type Options struct {
	// UnauthorizedRole is HASURA_GRAPHQL_UNAUTHORIZED_ROLE, the role of
	// requests without credentials. Empty means "anonymous", the name
	// Hasura's documentation uses for it.
	UnauthorizedRole string
}

// Diff compares the base and head projects of a pull request.
func Diff(base, head *Project, opts Options) *Report {
	if opts.UnauthorizedRole == "" {
		opts.UnauthorizedRole = "anonymous"
	}
	d := &differ{r: &Report{}, base: base, head: head, opts: opts}
	for _, pr := range base.Problems {
		pr.Side = "base"
		d.r.Problems = append(d.r.Problems, pr)
	}
	for _, pr := range head.Problems {
		pr.Side = "head"
		d.r.Problems = append(d.r.Problems, pr)
	}
	if base.Incomplete || head.Incomplete {
		d.r.Summary = "not compared: the project could not be read ⚠"
		d.r.Warnings = len(d.r.Problems)
		return d.r
	}
	d.tables()
	d.functions()
	d.inheritedRoles()
	d.actions()
	d.remoteSchemas()
	d.cronTriggers()
	d.restEndpoints()
	d.allowList()
	d.migrations()
	d.summarise()
	return d.r
}

type differ struct {
	r          *Report
	base, head *Project
	opts       Options
}

// displayTable names a table as the reviewer knows it: schema.name, with
// the database first when it is not the default one.
func displayTable(t *Table) string {
	s := t.Schema + "." + t.Name
	if t.Database != "default" {
		s = t.Database + ":" + s
	}
	return s
}

func sortedKeys[V any](ms ...map[string]V) []string {
	seen := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			seen[k] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// diffNamed compares two maps in key order: a thing only in head is Added
// (added, if set, fills it in), only in base Removed; for one in both,
// edited fills the change in and reports whether anything differs.
func diffNamed[T any](base, head map[string]T, name func(string) string,
	added func(h T, c *Change), edited func(b, h T, c *Change) bool) []Change {
	var out []Change
	for _, k := range sortedKeys(base, head) {
		b, bok := base[k]
		h, hok := head[k]
		c := Change{Name: name(k)}
		switch {
		case !bok:
			c.Change = Added
			if added != nil {
				added(h, &c)
			}
		case !hok:
			c.Change = Removed
		case !edited(b, h, &c):
			continue
		default:
			c.Change = Edited
		}
		out = append(out, c)
	}
	return out
}

func same(k string) string { return k }

// unread lists the files of a side that could not be read: a table in
// them on the other side is not reported as added or removed.
func unread(p *Project) map[string]bool {
	m := map[string]bool{}
	for _, pr := range p.Problems {
		if pr.File != "" {
			m[pr.File] = true
		}
	}
	return m
}

func (d *differ) tables() {
	baseUnread, headUnread := unread(d.base), unread(d.head)
	for _, k := range sortedKeys(d.base.Tables, d.head.Tables) {
		b, h := d.base.Tables[k], d.head.Tables[k]
		switch {
		case b == nil && baseUnread[h.File], h == nil && headUnread[b.File]:
			continue
		case b == nil:
			d.r.Tables = append(d.r.Tables, Change{Change: Added, Name: displayTable(h)})
			d.tableParts(&Table{Database: h.Database, Schema: h.Schema, Name: h.Name}, h)
		case h == nil:
			d.r.Tables = append(d.r.Tables, Change{Change: Removed, Name: displayTable(b)})
			d.tableParts(b, &Table{Database: b.Database, Schema: b.Schema, Name: b.Name})
		default:
			if b.Config != h.Config {
				d.r.Tables = append(d.r.Tables, Change{Change: Edited, Name: displayTable(h),
					Details: []Detail{{Field: "configuration (GraphQL names)", Before: compactJSON(b.Config), After: compactJSON(h.Config)}}})
			}
			d.tableParts(b, h)
		}
	}
}

// tableParts compares relationships, permissions and event triggers.
func (d *differ) tableParts(b, h *Table) {
	name := displayTable(h)
	for _, rn := range sortedKeys(b.Relationships, h.Relationships) {
		br, bok := b.Relationships[rn]
		hr, hok := h.Relationships[rn]
		switch {
		case !bok:
			d.r.Relationships = append(d.r.Relationships, Change{Change: Added, Name: name + "." + rn, Details: []Detail{{Field: hr.Kind, After: compactJSON(hr.Def)}}})
		case !hok:
			d.r.Relationships = append(d.r.Relationships, Change{Change: Removed, Name: name + "." + rn, Details: []Detail{{Field: br.Kind, Before: compactJSON(br.Def)}}})
		case br != hr:
			d.r.Relationships = append(d.r.Relationships, Change{Change: Edited, Name: name + "." + rn,
				Details: []Detail{{Field: br.Kind + " → " + hr.Kind, Before: compactJSON(br.Def), After: compactJSON(hr.Def)}}})
		}
	}
	keys := sortedKeys(b.Permissions, h.Permissions)
	// Read permissions role by role, in operation order.
	slices.SortFunc(keys, func(x, y string) int {
		rx, ox, _ := strings.Cut(x, "/")
		ry, oy, _ := strings.Cut(y, "/")
		if c := strings.Compare(rx, ry); c != 0 {
			return c
		}
		return slices.Index(operations, ox) - slices.Index(operations, oy)
	})
	for _, k := range keys {
		bp, bok := b.Permissions[k]
		hp, hok := h.Permissions[k]
		if pc, ok := d.permission(name, bp, bok, hp, hok); ok {
			d.r.Permissions = append(d.r.Permissions, pc)
		}
	}
	d.r.EventTriggers = append(d.r.EventTriggers, diffNamed(b.EventTriggers, h.EventTriggers,
		func(en string) string { return name + "." + en },
		func(he EventTrigger, c *Change) { c.Details = []Detail{{Field: "webhook", After: he.Webhook}} },
		func(be, he EventTrigger, c *Change) bool {
			switch {
			case be.Webhook != he.Webhook:
				c.Details = []Detail{{Field: "webhook", Before: be.Webhook, After: he.Webhook}}
				c.Warn = "webhook changed: table events now go elsewhere"
			case be.Def != he.Def:
				c.Details = []Detail{{Field: "definition", Before: compactJSON(be.Def), After: compactJSON(he.Def)}}
			default:
				return false
			}
			return true
		})...)
}

func (d *differ) functions() {
	d.r.Functions = diffNamed(d.base.Functions, d.head.Functions, same, nil, never)
}

// never is the edit test of things that are only added or removed.
func never(_, _ bool, _ *Change) bool { return false }

func (d *differ) inheritedRoles() {
	d.r.InheritedRoles = diffNamed(d.base.InheritedRoles, d.head.InheritedRoles, same,
		func(h []string, c *Change) {
			c.Details = []Detail{{Field: "roles", After: strings.Join(h, ", ")}}
			c.Warn = "new inherited role: it reaches everything its roles reach"
		},
		func(b, h []string, c *Change) bool {
			if slices.Equal(b, h) {
				return false
			}
			c.Details = []Detail{{Field: "roles", Before: strings.Join(b, ", "), After: strings.Join(h, ", ")}}
			if added := notIn(h, b); len(added) > 0 {
				c.Warn = "gains the permissions of " + added[0]
			}
			return true
		})
}

// roleWarn flags roles newly allowed on an action or remote schema (both
// lists sorted).
func (d *differ) roleWarn(before, after []string) string {
	added := notIn(after, before)
	if len(added) == 0 {
		return ""
	}
	w := "new roles: " + strings.Join(added, ", ")
	if slices.Contains(added, d.opts.UnauthorizedRole) {
		w = "unauthenticated role allowed; " + w
	}
	return w
}

func (d *differ) actions() {
	d.r.Actions = diffNamed(d.base.Actions, d.head.Actions, same,
		func(h Action, c *Change) {
			c.Details = []Detail{{Field: "handler", After: h.Handler}}
			c.Warn = d.roleWarn(nil, h.Roles)
		},
		func(b, h Action, c *Change) bool {
			if b.Handler != h.Handler {
				c.Details = append(c.Details, Detail{Field: "handler", Before: b.Handler, After: h.Handler})
			}
			if b.Kind != h.Kind || b.Type != h.Type {
				c.Details = append(c.Details, Detail{Field: "kind/type", Before: b.Kind + " " + b.Type, After: h.Kind + " " + h.Type})
			}
			d.rolesChanged(b.Roles, h.Roles, c)
			return len(c.Details) > 0
		})
}

// rolesChanged notes a change of the roles allowed on an action or a remote schema.
func (d *differ) rolesChanged(before, after []string, c *Change) {
	if !slices.Equal(before, after) {
		c.Details = append(c.Details, Detail{Field: "roles", Before: strings.Join(before, ", "), After: strings.Join(after, ", ")})
		c.Warn = d.roleWarn(before, after)
	}
}

func (d *differ) remoteSchemas() {
	d.r.RemoteSchemas = diffNamed(d.base.RemoteSchemas, d.head.RemoteSchemas, same,
		func(h RemoteSchema, c *Change) {
			c.Details = []Detail{{Field: "url", After: h.URL}}
			c.Warn = d.roleWarn(nil, h.Roles)
		},
		func(b, h RemoteSchema, c *Change) bool {
			if b.URL != h.URL {
				c.Details = append(c.Details, Detail{Field: "url", Before: b.URL, After: h.URL})
			} else if b.Def != h.Def {
				c.Details = append(c.Details, Detail{Field: "definition", Before: compactJSON(b.Def), After: compactJSON(h.Def)})
			}
			d.rolesChanged(b.Roles, h.Roles, c)
			return len(c.Details) > 0
		})
}

func (d *differ) cronTriggers() {
	d.r.CronTriggers = diffNamed(d.base.CronTriggers, d.head.CronTriggers, same,
		func(h CronTrigger, c *Change) {
			c.Details = []Detail{{Field: "webhook", After: h.Webhook}, {Field: "schedule", After: h.Schedule}}
		},
		func(b, h CronTrigger, c *Change) bool {
			if b.Def == h.Def {
				return false
			}
			if b.Webhook != h.Webhook {
				c.Details = append(c.Details, Detail{Field: "webhook", Before: b.Webhook, After: h.Webhook})
				c.Warn = "webhook changed"
			}
			if b.Schedule != h.Schedule {
				c.Details = append(c.Details, Detail{Field: "schedule", Before: b.Schedule, After: h.Schedule})
			}
			if len(c.Details) == 0 {
				c.Details = []Detail{{Field: "definition", Before: compactJSON(b.Def), After: compactJSON(h.Def)}}
			}
			return true
		})
}

func (d *differ) restEndpoints() {
	desc := func(e RestEndpoint) string {
		return strings.Join(e.Methods, ",") + " /api/rest/" + e.URL + " → " + e.Query
	}
	d.r.RestEndpoints = diffNamed(d.base.RestEndpoints, d.head.RestEndpoints, same,
		func(h RestEndpoint, c *Change) { c.Details = []Detail{{Field: "route", After: desc(h)}} },
		func(b, h RestEndpoint, c *Change) bool {
			c.Details = []Detail{{Field: "route", Before: desc(b), After: desc(h)}}
			return desc(b) != desc(h)
		})
}

func (d *differ) allowList() {
	d.r.AllowList = diffNamed(d.base.AllowList, d.head.AllowList, same,
		func(_ bool, c *Change) { c.Warn = "every query in this collection is now allowed" }, never)
	d.r.Queries = diffNamed(d.base.Queries, d.head.Queries, same, nil, func(b, h string, c *Change) bool {
		c.Details = []Detail{{Field: "query", Before: b, After: h}}
		return b != h
	})
	for i := range d.r.Queries {
		c := &d.r.Queries[i]
		if coll, _, _ := strings.Cut(c.Name, "/"); c.Change != Removed && d.head.AllowList[coll] {
			c.Warn = "in an allow-listed collection"
		}
	}
}

func (d *differ) migrations() {
	for _, k := range sortedKeys(d.base.Migrations, d.head.Migrations) {
		b, bok := d.base.Migrations[k]
		h, hok := d.head.Migrations[k]
		m, change := h, Edited
		switch {
		case !bok:
			change = Added
		case !hok:
			m, change = b, Removed
		case b.SQL == h.SQL:
			continue
		}
		c := MigrationChange{Database: m.Database, Name: m.Name, Path: m.Path, Change: change}
		if hok {
			c.Destructive = DestructiveStatements(h.SQL)
		}
		d.r.Migrations = append(d.r.Migrations, c)
	}
}
