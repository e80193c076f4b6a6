package apireview

import (
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
	t, ok := r.get(s, "table")
	if !ok {
		return "", "", false
	}
	if t.n.Kind == yaml.ScalarNode {
		return "public", t.n.Value, t.n.Value != ""
	}
	schema = r.str(t, "schema")
	if schema == "" {
		schema = r.str(t, "dataset")
	}
	if schema == "" {
		schema = "public"
	}
	name = r.str(t, "name")
	return schema, name, name != ""
}

func (r *reader) tables(p *Project, db string, s src) {
	for _, ts := range r.items(s, "tables") {
		if r.over {
			return
		}
		schema, name, ok := r.tableName(ts)
		if !ok {
			r.problem(ts.file, ts.n.Line, "a table entry without `table: {schema, name}`")
			continue
		}
		t := &Table{
			Database: db, Schema: schema, Name: name,
			Relationships: map[string]Relationship{},
			Permissions:   map[string]Permission{},
			EventTriggers: map[string]EventTrigger{},
		}
		if c, ok := r.get(ts, "configuration"); ok {
			v, _ := r.value(c)
			t.Config = canonical(v)
		}
		for _, kind := range []string{"object", "array", "remote"} {
			rels, ok := r.get(ts, kind+"_relationships")
			if !ok {
				continue
			}
			for _, rel := range r.items(rels, kind+"_relationships") {
				rn := r.str(rel, "name")
				if rn == "" {
					continue
				}
				def := rel
				if d, ok := r.get(rel, "using"); ok {
					def = d
				} else if d, ok := r.get(rel, "definition"); ok {
					def = d
				}
				v, _ := r.value(def)
				t.Relationships[rn] = Relationship{Kind: kind, Def: canonical(v)}
			}
		}
		for _, op := range operations {
			perms, ok := r.get(ts, op+"_permissions")
			if !ok {
				continue
			}
			for _, ps := range r.items(perms, op+"_permissions") {
				if perm, ok := r.permission(ps, op); ok {
					t.Permissions[perm.Role+"/"+op] = perm
				}
			}
		}
		if ets, ok := r.get(ts, "event_triggers"); ok {
			for _, et := range r.items(ets, "event_triggers") {
				en := r.str(et, "name")
				if en == "" {
					continue
				}
				v, _ := r.value(et)
				t.EventTriggers[en] = EventTrigger{Webhook: webhook(r, et), Def: canonical(v)}
			}
		}
		p.Tables[tableKey(db, schema, name)] = t
	}
}

func tableKey(db, schema, name string) string { return db + "." + schema + "." + name }

func webhook(r *reader, s src) string {
	if w := r.str(s, "webhook"); w != "" {
		return w
	}
	if e := r.str(s, "webhook_from_env"); e != "" {
		return "env " + e
	}
	return ""
}

func (r *reader) permission(s src, op string) (Permission, bool) {
	role := r.str(s, "role")
	if role == "" {
		r.problem(s.file, s.n.Line, "a %s permission without a role", op)
		return Permission{}, false
	}
	p := Permission{Role: role, Op: op}
	ps, ok := r.get(s, "permission")
	if !ok || ps.n.Kind != yaml.MappingNode {
		return p, true
	}
	v, ok := r.value(ps)
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
	p.Filter = m["filter"]
	p.Check = m["check"]
	p.Set = m["set"]
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
		fs, ok := r.get(f, "function")
		if !ok {
			continue
		}
		if fs.n.Kind == yaml.ScalarNode {
			p.Functions[tableKey(db, "public", fs.n.Value)] = true
			continue
		}
		schema := r.str(fs, "schema")
		if schema == "" {
			schema = "public"
		}
		if name := r.str(fs, "name"); name != "" {
			p.Functions[tableKey(db, schema, name)] = true
		}
	}
}

func (r *reader) actions(p *Project, s src) {
	list, ok := r.get(s, "actions")
	if !ok {
		return
	}
	for _, a := range r.items(list, "actions") {
		name := r.str(a, "name")
		if name == "" {
			continue
		}
		act := Action{}
		if def, ok := r.get(a, "definition"); ok {
			act.Handler = r.str(def, "handler")
			act.Kind = r.str(def, "kind")
			act.Type = r.str(def, "type")
		}
		act.Roles = r.roles(a)
		p.Actions[name] = act
	}
}

// roles reads `permissions: [{role: …}]`, sorted.
func (r *reader) roles(s src) []string {
	perms, ok := r.get(s, "permissions")
	if !ok {
		return nil
	}
	var out []string
	for _, pm := range r.items(perms, "permissions") {
		if role := r.str(pm, "role"); role != "" {
			out = append(out, role)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *reader) remoteSchemas(p *Project, s src) {
	for _, rs := range r.items(s, "remote schemas") {
		name := r.str(rs, "name")
		if name == "" {
			continue
		}
		out := RemoteSchema{Roles: r.roles(rs)}
		if def, ok := r.get(rs, "definition"); ok {
			out.URL = r.str(def, "url")
			if out.URL == "" {
				if e := r.str(def, "url_from_env"); e != "" {
					out.URL = "env " + e
				}
			}
			v, _ := r.value(def)
			out.Def = canonical(v)
		}
		p.RemoteSchemas[name] = out
	}
}

func (r *reader) cronTriggers(p *Project, s src) {
	for _, ct := range r.items(s, "cron triggers") {
		name := r.str(ct, "name")
		if name == "" {
			continue
		}
		v, _ := r.value(ct)
		p.CronTriggers[name] = CronTrigger{Webhook: webhook(r, ct), Schedule: r.str(ct, "schedule"), Def: canonical(v)}
	}
}
