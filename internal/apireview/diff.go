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
	for _, side := range []struct {
		name string
		p    *Project
	}{{"base", base}, {"head", head}} {
		for _, pr := range side.p.Problems {
			pr.Side = side.name
			d.r.Problems = append(d.r.Problems, pr)
		}
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

// unread lists the files of a side that could not be read: a table whose
// file is among them on the other side is not reported as added or
// removed, as what the file holds is unknown.
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
	for _, en := range sortedKeys(b.EventTriggers, h.EventTriggers) {
		be, bok := b.EventTriggers[en]
		he, hok := h.EventTriggers[en]
		c := Change{Name: name + "." + en}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "webhook", After: he.Webhook}}
		case !hok:
			c.Change = Removed
		case be.Webhook != he.Webhook:
			c.Change = Edited
			c.Details = []Detail{{Field: "webhook", Before: be.Webhook, After: he.Webhook}}
			c.Warn = "webhook changed: table events now go elsewhere"
		case be.Def != he.Def:
			c.Change = Edited
			c.Details = []Detail{{Field: "definition", Before: compactJSON(be.Def), After: compactJSON(he.Def)}}
		default:
			continue
		}
		d.r.EventTriggers = append(d.r.EventTriggers, c)
	}
}

func (d *differ) functions() {
	for _, k := range sortedKeys(d.base.Functions, d.head.Functions) {
		switch {
		case !d.base.Functions[k]:
			d.r.Functions = append(d.r.Functions, Change{Change: Added, Name: k})
		case !d.head.Functions[k]:
			d.r.Functions = append(d.r.Functions, Change{Change: Removed, Name: k})
		}
	}
}

func (d *differ) inheritedRoles() {
	for _, k := range sortedKeys(d.base.InheritedRoles, d.head.InheritedRoles) {
		b, bok := d.base.InheritedRoles[k]
		h, hok := d.head.InheritedRoles[k]
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "roles", After: strings.Join(h, ", ")}}
			c.Warn = "new inherited role: it reaches everything its roles reach"
		case !hok:
			c.Change = Removed
		case !slices.Equal(b, h):
			c.Change = Edited
			c.Details = []Detail{{Field: "roles", Before: strings.Join(b, ", "), After: strings.Join(h, ", ")}}
			for _, role := range h {
				if !slices.Contains(b, role) {
					c.Warn = "gains the permissions of " + role
					break
				}
			}
		default:
			continue
		}
		d.r.InheritedRoles = append(d.r.InheritedRoles, c)
	}
}

// roleWarn flags roles newly allowed on an action or remote schema.
func (d *differ) roleWarn(before, after []string) string {
	var added []string
	for _, r := range after {
		if !slices.Contains(before, r) {
			added = append(added, r)
		}
	}
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
	for _, k := range sortedKeys(d.base.Actions, d.head.Actions) {
		b, bok := d.base.Actions[k]
		h, hok := d.head.Actions[k]
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "handler", After: h.Handler}, {Field: "roles", After: strings.Join(h.Roles, ", ")}}
			c.Warn = d.roleWarn(nil, h.Roles)
		case !hok:
			c.Change = Removed
		default:
			if b.Handler != h.Handler {
				c.Details = append(c.Details, Detail{Field: "handler", Before: b.Handler, After: h.Handler})
			}
			if b.Kind != h.Kind || b.Type != h.Type {
				c.Details = append(c.Details, Detail{Field: "kind/type", Before: b.Kind + " " + b.Type, After: h.Kind + " " + h.Type})
			}
			if !slices.Equal(b.Roles, h.Roles) {
				c.Details = append(c.Details, Detail{Field: "roles", Before: strings.Join(b.Roles, ", "), After: strings.Join(h.Roles, ", ")})
				c.Warn = d.roleWarn(b.Roles, h.Roles)
			}
			if len(c.Details) == 0 {
				continue
			}
			c.Change = Edited
		}
		d.r.Actions = append(d.r.Actions, c)
	}
}

func (d *differ) remoteSchemas() {
	for _, k := range sortedKeys(d.base.RemoteSchemas, d.head.RemoteSchemas) {
		b, bok := d.base.RemoteSchemas[k]
		h, hok := d.head.RemoteSchemas[k]
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "url", After: h.URL}}
			c.Warn = d.roleWarn(nil, h.Roles)
		case !hok:
			c.Change = Removed
		default:
			if b.URL != h.URL {
				c.Details = append(c.Details, Detail{Field: "url", Before: b.URL, After: h.URL})
			} else if b.Def != h.Def {
				c.Details = append(c.Details, Detail{Field: "definition", Before: compactJSON(b.Def), After: compactJSON(h.Def)})
			}
			if !slices.Equal(b.Roles, h.Roles) {
				c.Details = append(c.Details, Detail{Field: "roles", Before: strings.Join(b.Roles, ", "), After: strings.Join(h.Roles, ", ")})
				c.Warn = d.roleWarn(b.Roles, h.Roles)
			}
			if len(c.Details) == 0 {
				continue
			}
			c.Change = Edited
		}
		d.r.RemoteSchemas = append(d.r.RemoteSchemas, c)
	}
}

func (d *differ) cronTriggers() {
	for _, k := range sortedKeys(d.base.CronTriggers, d.head.CronTriggers) {
		b, bok := d.base.CronTriggers[k]
		h, hok := d.head.CronTriggers[k]
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "webhook", After: h.Webhook}, {Field: "schedule", After: h.Schedule}}
		case !hok:
			c.Change = Removed
		case b.Def == h.Def:
			continue
		default:
			c.Change = Edited
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
		}
		d.r.CronTriggers = append(d.r.CronTriggers, c)
	}
}

func (d *differ) restEndpoints() {
	for _, k := range sortedKeys(d.base.RestEndpoints, d.head.RestEndpoints) {
		b, bok := d.base.RestEndpoints[k]
		h, hok := d.head.RestEndpoints[k]
		desc := func(e RestEndpoint) string {
			return strings.Join(e.Methods, ",") + " /api/rest/" + e.URL + " → " + e.Query
		}
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
			c.Details = []Detail{{Field: "route", After: desc(h)}}
		case !hok:
			c.Change = Removed
		case desc(b) == desc(h):
			continue
		default:
			c.Change = Edited
			c.Details = []Detail{{Field: "route", Before: desc(b), After: desc(h)}}
		}
		d.r.RestEndpoints = append(d.r.RestEndpoints, c)
	}
}

func (d *differ) allowList() {
	for _, k := range sortedKeys(d.base.AllowList, d.head.AllowList) {
		switch {
		case !d.base.AllowList[k]:
			d.r.AllowList = append(d.r.AllowList, Change{Change: Added, Name: k, Warn: "every query in this collection is now allowed"})
		case !d.head.AllowList[k]:
			d.r.AllowList = append(d.r.AllowList, Change{Change: Removed, Name: k})
		}
	}
	for _, k := range sortedKeys(d.base.Queries, d.head.Queries) {
		b, bok := d.base.Queries[k]
		h, hok := d.head.Queries[k]
		c := Change{Name: k}
		switch {
		case !bok:
			c.Change = Added
		case !hok:
			c.Change = Removed
		case b == h:
			continue
		default:
			c.Change = Edited
			c.Details = []Detail{{Field: "query", Before: b, After: h}}
		}
		coll, _, _ := strings.Cut(k, "/")
		if c.Change != Removed && d.head.AllowList[coll] {
			c.Warn = "in an allow-listed collection"
		}
		d.r.Queries = append(d.r.Queries, c)
	}
}

func (d *differ) migrations() {
	for _, k := range sortedKeys(d.base.Migrations, d.head.Migrations) {
		b, bok := d.base.Migrations[k]
		h, hok := d.head.Migrations[k]
		var c MigrationChange
		switch {
		case !bok:
			c = MigrationChange{Database: h.Database, Name: h.Name, Path: h.Path, Change: Added}
		case !hok:
			c = MigrationChange{Database: b.Database, Name: b.Name, Path: b.Path, Change: Removed}
		case b.SQL != h.SQL:
			c = MigrationChange{Database: h.Database, Name: h.Name, Path: h.Path, Change: Edited}
		default:
			continue
		}
		if c.Change != Removed {
			c.Destructive = DestructiveStatements(h.SQL)
		}
		d.r.Migrations = append(d.r.Migrations, c)
	}
}
