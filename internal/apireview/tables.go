package apireview

import (
	"cmp"
	"encoding/json"
	"slices"

	"gopkg.in/yaml.v3"
)

// operations are Hasura's permission kinds, in the order a reviewer reads them.
var operations = []string{"select", "insert", "update", "delete"}

// canonical renders a plain value as JSON with sorted keys, so that key
// order and YAML formatting never count as a change.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// tableName reads `table:` as {schema, name} (or {dataset, name}, or a
// bare name in old metadata).
func (r *reader) tableName(s src) (schema, name string, ok bool) {
	t := r.get(s, "table")
	if !t.found() {
		return "", "", false
	}
	if t.n.Kind == yaml.ScalarNode {
		return "public", t.n.Value, t.n.Value != ""
	}
	if schema = r.str(t, "schema"); schema == "" {
		schema = cmp.Or(r.str(t, "dataset"), "public")
	}
	name = r.str(t, "name")
	return schema, name, name != ""
}

func (r *reader) tables(p *Project, db string, s src) {
	for _, item := range r.list(s, "tables") {
		if r.over {
			return
		}
		it := src{n: item, file: s.file, chain: s.chain}
		t, ok := r.sharedTable(it, db)
		if !ok {
			if ts, found := r.deref(it); found {
				t = r.table(ts, db)
			}
		}
		if t != nil {
			p.Tables[tableKey(db, t.Schema, t.Name)] = t
		}
	}
}

// sharedTable reads a table entry that is an !include through the cache
// LoadPair shares between the two sides: a file of the same bytes at the
// same path under the same database is parsed once. ok is false when the
// entry is not such an include.
func (r *reader) sharedTable(it src, db string) (*Table, bool) {
	if r.shared == nil || it.n.Kind != yaml.ScalarNode {
		return nil, false
	}
	target, isInclude := includeTarget(it.n)
	if !isInclude {
		return nil, false
	}
	p, ok := r.includePath(it, target)
	if !ok {
		return nil, true // reported
	}
	data, ok := r.read(p, false)
	if !ok {
		return nil, true
	}
	key := db + "\x00" + p + "\x00" + string(data)
	if t, ok := r.shared[key]; ok {
		return t, true
	}
	problems, parsed := len(r.problems), r.parsed
	ts, ok := r.parseData(p, data, it.chain)
	if !ok {
		return nil, true
	}
	t := r.table(ts, db)
	// Only a clean read of this one file is shared: problems must be
	// reported on both sides, and nested includes may differ.
	if len(r.problems) == problems && r.parsed == parsed+1 && !r.over {
		r.shared[key] = t
	}
	return t, true
}

// table reads one entry of a tables list; nil when it has no name.
func (r *reader) table(ts src, db string) *Table {
	schema, name, ok := r.tableName(ts)
	if !ok {
		r.problem(ts.file, ts.n.Line, "a table entry without `table: {schema, name}`")
		return nil
	}
	t := &Table{
		Database: db, Schema: schema, Name: name, File: ts.file,
		Relationships: map[string]Relationship{},
		Permissions:   map[string]Permission{},
		EventTriggers: map[string]EventTrigger{},
	}
	if c := r.get(ts, "configuration"); c.found() {
		t.Config = r.canonical(c)
	}
	for _, kind := range []string{"object", "array", "remote"} {
		key := kind + "_relationships"
		r.named(r.get(ts, key), key, func(rn string, rel src) {
			def := rel
			if d := r.get(rel, "using"); d.found() {
				def = d
			} else if d := r.get(rel, "definition"); d.found() {
				def = d
			}
			t.Relationships[rn] = Relationship{Kind: kind, Def: r.canonical(def)}
		})
	}
	for _, op := range operations {
		for _, ps := range r.items(r.get(ts, op+"_permissions"), op+"_permissions") {
			if perm, ok := r.permission(ps, op); ok {
				t.Permissions[perm.Role+"/"+op] = perm
			}
		}
	}
	r.named(r.get(ts, "event_triggers"), "event_triggers", func(en string, et src) {
		t.EventTriggers[en] = EventTrigger{Def: r.canonical(et), Webhook: r.fromEnv(et, "webhook")}
	})
	return t
}

func tableKey(db, schema, name string) string { return db + "." + schema + "." + name }

// fromEnv reads key, or key_from_env as "env NAME".
func (r *reader) fromEnv(s src, key string) string {
	if v := r.str(s, key); v != "" {
		return v
	}
	if e := r.str(s, key+"_from_env"); e != "" {
		return "env " + e
	}
	return ""
}

// named calls fn with each entry of the list that has a name; what names
// the list in problems.
func (r *reader) named(list src, what string, fn func(name string, it src)) {
	for _, it := range r.items(list, what) {
		if name := r.str(it, "name"); name != "" {
			fn(name, it)
		}
	}
}

func (r *reader) permission(s src, op string) (Permission, bool) {
	role := r.str(s, "role")
	if role == "" {
		r.problem(s.file, s.n.Line, "a %s permission without a role", op)
		return Permission{}, false
	}
	p := Permission{Role: role, Op: op}
	ps := r.get(s, "permission")
	if !ps.found() || ps.n.Kind != yaml.MappingNode {
		return p, true
	}
	v, ok := r.value(ps, false)
	if !ok {
		return Permission{}, false
	}
	m, _ := v.(map[string]any)
	switch cols := m["columns"].(type) {
	case string:
		p.AllColumns = cols == "*"
	case []any:
		for _, c := range cols {
			if cs, ok := c.(string); ok {
				p.Columns = append(p.Columns, cs)
			}
		}
		slices.Sort(p.Columns)
		p.Columns = slices.Compact(p.Columns)
	}
	p.Filter, p.Check, p.Set = present(m, "filter"), present(m, "check"), present(m, "set")
	p.Aggregate, _ = m["allow_aggregations"].(bool)
	if l, ok := m["limit"].(int64); ok {
		p.Limit = &l
	}
	for _, k := range []string{"columns", "filter", "check", "set", "allow_aggregations", "limit"} {
		delete(m, k)
	}
	if len(m) > 0 {
		p.Other = canonical(m)
	}
	return p, true
}

func (r *reader) functions(p *Project, db string, s src) {
	for _, f := range r.items(s, "functions") {
		fs := r.get(f, "function")
		if !fs.found() {
			continue
		}
		if fs.n.Kind == yaml.ScalarNode {
			p.Functions[tableKey(db, "public", fs.n.Value)] = true
			continue
		}
		schema := cmp.Or(r.str(fs, "schema"), "public")
		if name := r.str(fs, "name"); name != "" {
			p.Functions[tableKey(db, schema, name)] = true
		}
	}
}

func (r *reader) actions(p *Project, s src) {
	r.named(r.get(s, "actions"), "actions", func(name string, a src) {
		act := Action{}
		if def := r.get(a, "definition"); def.found() {
			act.Handler = r.str(def, "handler")
			act.Kind = r.str(def, "kind")
			act.Type = r.str(def, "type")
		}
		act.Roles = r.roles(a)
		p.Actions[name] = act
	})
}

// roles reads `permissions: [{role: …}]`, sorted.
func (r *reader) roles(s src) []string {
	var out []string
	for _, pm := range r.items(r.get(s, "permissions"), "permissions") {
		if role := r.str(pm, "role"); role != "" {
			out = append(out, role)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *reader) remoteSchemas(p *Project, s src) {
	r.named(s, "remote schemas", func(name string, rs src) {
		out := RemoteSchema{Roles: r.roles(rs)}
		if def := r.get(rs, "definition"); def.found() {
			out.URL = r.fromEnv(def, "url")
			out.Def = r.canonical(def)
		}
		p.RemoteSchemas[name] = out
	})
}

func (r *reader) cronTriggers(p *Project, s src) {
	r.named(s, "cron triggers", func(name string, ct src) {
		p.CronTriggers[name] = CronTrigger{Def: r.canonical(ct), Webhook: r.fromEnv(ct, "webhook"), Schedule: r.str(ct, "schedule")}
	})
}

// canonical reads a subtree as canonical text.
func (r *reader) canonical(s src) string {
	v, _ := r.value(s, false)
	return canonical(v)
}

// present returns the canonical JSON of m[key], or "" when key is absent.
func present(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	return canonical(v)
}

// decode reads back a canonical JSON rule; "" is absent (nil).
func decode(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil
	}
	return v
}
