package cloudsim

import (
	"bytes"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// planField is one response key after fragments are expanded, arguments
// coerced and same-key fields merged, ready to execute.
type planField struct {
	key     string
	name    string
	def     *fieldDef // nil for __typename
	args    *ordMap
	argJSON []byte
	subSets []ast.SelectionSet
	sel     []*planField
}

type planner struct {
	req *request
}

// collectAndPlan validates selection sets against td and plans their fields,
// so that nothing executes unless the whole document is valid.
func (p *planner) collectAndPlan(sets []ast.SelectionSet, td *typeDef, path string) ([]*planField, *gqlError) {
	var fields []*planField
	index := map[string]*planField{}
	visited := map[string]bool{}
	for _, set := range sets {
		if err := p.collect(set, td, path, &fields, index, visited); err != nil {
			return nil, err
		}
	}
	for _, f := range fields {
		if f.def == nil {
			continue
		}
		fpath := path + ".selectionSet." + f.key
		inner := schemaTypes[namedOf(f.def.typ)]
		hasSel := false
		for _, s := range f.subSets {
			hasSel = hasSel || len(s) > 0
		}
		if inner.kind != kindObject {
			if hasSel {
				return nil, newErr(stageSchema, "validation-failed", fpath,
					"unexpected subselection set for non-object field %q", f.name)
			}
			continue
		}
		if !hasSel {
			return nil, newErr(stageSchema, "validation-failed", fpath,
				"missing selection set for %q", f.name)
		}
		sel, err := p.collectAndPlan(f.subSets, inner, fpath)
		if err != nil {
			return nil, err
		}
		f.sel = sel
	}
	return fields, nil
}

func namedOf(t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	return t.NamedType
}

// collect gathers the fields of one level. visited holds the fragments
// already spread at this level: spreading one twice adds nothing, and
// skipping it keeps a document of doubling spreads from costing 2^n.
func (p *planner) collect(set ast.SelectionSet, td *typeDef, path string, fields *[]*planField, index map[string]*planField, visited map[string]bool) *gqlError {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			include, err := p.included(sel.Directives, path)
			if err != nil {
				return err
			}
			if !include {
				continue
			}
			if err := p.addField(sel, td, path, fields, index); err != nil {
				return err
			}
		case *ast.InlineFragment:
			include, err := p.included(sel.Directives, path)
			if err != nil {
				return err
			}
			if !include {
				continue
			}
			if sel.TypeCondition != "" && sel.TypeCondition != td.name {
				return newErr(stageSchema, "validation-failed", path,
					"inline fragment is expected on type %q, but found %q", td.name, sel.TypeCondition)
			}
			if err := p.collect(sel.SelectionSet, td, path, fields, index, visited); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			include, err := p.included(sel.Directives, path)
			if err != nil {
				return err
			}
			if !include {
				continue
			}
			frag := p.req.doc.Fragments.ForName(sel.Name)
			if frag == nil {
				return newErr(stageSchema, "validation-failed", path, "fragment %q not found", sel.Name)
			}
			if frag.TypeCondition != td.name {
				return newErr(stageSchema, "validation-failed", path,
					"fragment %q is defined on %q, but used on %q", sel.Name, frag.TypeCondition, td.name)
			}
			if visited[sel.Name] {
				continue
			}
			visited[sel.Name] = true
			if err := p.collect(frag.SelectionSet, td, path, fields, index, visited); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *planner) addField(sel *ast.Field, td *typeDef, path string, fields *[]*planField, index map[string]*planField) *gqlError {
	key := sel.Alias
	if key == "" {
		key = sel.Name
	}
	fpath := path + ".selectionSet." + key
	f := &planField{key: key, name: sel.Name}
	if sel.Name != "__typename" {
		f.def = td.fields[sel.Name]
		if f.def == nil {
			return newErr(stageSchema, "validation-failed", fpath, "field '%s' not found in type: '%s'", sel.Name, td.name)
		}
		a, err := p.coerceArgs(sel.Arguments, f.def, fpath)
		if err != nil {
			return err
		}
		f.args = a
		f.argJSON = appendJSON(nil, a)
	} else if len(sel.Arguments) > 0 || len(sel.SelectionSet) > 0 {
		return newErr(stageSchema, "validation-failed", fpath, "__typename takes no arguments and has no fields")
	}
	if prev, ok := index[key]; ok {
		if prev.name != f.name || !bytes.Equal(prev.argJSON, f.argJSON) {
			return newErr(stageSchema, "validation-failed", fpath,
				"conflicting definitions for %q: fields with the same response name must be identical", key)
		}
		prev.subSets = append(prev.subSets, sel.SelectionSet)
		return nil
	}
	f.subSets = []ast.SelectionSet{sel.SelectionSet}
	index[key] = f
	*fields = append(*fields, f)
	return nil
}

func (p *planner) coerceArgs(list ast.ArgumentList, def *fieldDef, path string) (*ordMap, *gqlError) {
	out := newOrdMap()
	seen := map[string]bool{}
	for _, a := range list {
		apath := path + ".args." + a.Name
		var ad *argDef
		for i := range def.args {
			if def.args[i].name == a.Name {
				ad = &def.args[i]
			}
		}
		if ad == nil {
			return nil, newErr(stageSchema, "validation-failed", apath, "'%s' has no argument named '%s'", def.name, a.Name)
		}
		if seen[a.Name] {
			return nil, newErr(stageSchema, "validation-failed", apath, "argument %q is given more than once", a.Name)
		}
		seen[a.Name] = true
		v, present, err := p.req.coerceLiteral(a.Value, ad.typ, apath, false)
		if err != nil {
			return nil, err
		}
		if present {
			out.set(a.Name, v)
		}
	}
	for _, ad := range def.args {
		if _, ok := out.get(ad.name); !ok && ad.typ.NonNull {
			return nil, newErr(stageSchema, "validation-failed", path+".args."+ad.name, "missing required field '%s'", ad.name)
		}
	}
	return out, nil
}

var booleanNonNull = gqlType("Boolean!")

// included evaluates @skip and @include; other directives are ignored, as
// Hasura ignores the ones it does not act on for these fields.
func (p *planner) included(dirs ast.DirectiveList, path string) (bool, *gqlError) {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			return false, newErr(stageSchema, "validation-failed", path, "directive %q needs the argument 'if'", d.Name)
		}
		v, _, err := p.req.coerceLiteral(arg.Value, booleanNonNull, path, false)
		if err != nil {
			return false, err
		}
		b, _ := v.(bool)
		if (d.Name == "skip") == b {
			return false, nil
		}
	}
	return true, nil
}

// exec carries one request's execution: the simulator, its state lock held,
// and the instant the request is answered at.
type exec struct {
	s   *Server
	now time.Time
	// nullField is a root field a fault answers with null ("" = none).
	nullField string
}

func (x *exec) resolveFields(fields []*planField, td *typeDef, parent any, root bool) (*ordMap, *gqlError) {
	out := newOrdMap()
	for _, f := range fields {
		if f.def == nil {
			out.set(f.key, td.name)
			continue
		}
		if root {
			if x.nullField != "" && f.name == x.nullField {
				out.set(f.key, nil)
				continue
			}
			x.s.countExecuted(f.name)
		}
		v, err := f.def.resolve(x, parent, f.args)
		if err != nil {
			return nil, err
		}
		c, err := x.complete(f, f.def.typ, v)
		if err != nil {
			return nil, err
		}
		out.set(f.key, c)
	}
	return out, nil
}

func (x *exec) complete(f *planField, t *ast.Type, v any) (any, *gqlError) {
	if v == nil {
		return nil, nil
	}
	if t.Elem != nil {
		list, _ := v.([]any)
		out := make([]any, len(list))
		for i, e := range list {
			c, err := x.complete(f, t.Elem, e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	td := schemaTypes[t.NamedType]
	if td.kind == kindObject {
		return x.resolveFields(f.sel, td, v, false)
	}
	return v, nil
}

// checkFragmentCycles rejects fragments that spread themselves, directly or
// through others, before planning could recurse forever.
func checkFragmentCycles(doc *ast.QueryDocument) *gqlError {
	state := map[string]int{} // 0 unseen, 1 on the stack, 2 done
	var visit func(name string) bool
	var walk func(set ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if walk(sel.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if walk(sel.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if visit(sel.Name) {
					return true
				}
			}
		}
		return false
	}
	visit = func(name string) bool {
		switch state[name] {
		case 1:
			return true
		case 2:
			return false
		}
		state[name] = 1
		if f := doc.Fragments.ForName(name); f != nil && walk(f.SelectionSet) {
			return true
		}
		state[name] = 2
		return false
	}
	for _, f := range doc.Fragments {
		if visit(f.Name) {
			return newErr(stageSchema, "validation-failed", "$", "the fragment definition(s) %s form a cycle", f.Name)
		}
	}
	return nil
}
