package apireview

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// cond is a permission's boolean expression in a normal form (nested
// _and/_or flattened, one-element ones unwrapped, operands sorted and
// deduplicated, a mapping the conjunction of its keys), so that rules
// written differently with the same meaning get the same key.
type cond struct {
	op   string // and, or, not, cmp, rel, exists, raw
	name string // cmp: column; rel: relationship; exists: table
	cmp  string // cmp: operator
	val  any    // cmp: operand
	subs []*cond
	key  string
}

// maxCondDepth stops a hostile filter nested thousands deep.
const maxCondDepth = 64

func normalize(v any) *cond { return norm(v, 0) }

func norm(v any, depth int) *cond {
	if depth > maxCondDepth {
		return finish(&cond{op: "raw", val: canonical(v)})
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return finish(&cond{op: "and"}) // absent: no condition
		}
		return finish(&cond{op: "raw", val: canonical(v)})
	}
	var parts []*cond
	for k, sub := range m {
		switch k {
		case "_and", "_or":
			l, ok := sub.([]any)
			if !ok {
				l = []any{sub}
			}
			var ops []*cond
			for _, e := range l {
				ops = append(ops, norm(e, depth+1))
			}
			parts = append(parts, junction(strings.TrimPrefix(k, "_"), ops))
		case "_not":
			parts = append(parts, finish(&cond{op: "not", subs: []*cond{norm(sub, depth+1)}}))
		case "_exists":
			em, _ := sub.(map[string]any)
			parts = append(parts, finish(&cond{op: "exists", name: canonical(em["_table"]), subs: []*cond{norm(em["_where"], depth+1)}}))
		default:
			if ops, ok := sub.(map[string]any); ok && isComparison(ops) {
				for op, val := range ops {
					parts = append(parts, finish(&cond{op: "cmp", name: k, cmp: op, val: val}))
				}
				continue
			}
			parts = append(parts, finish(&cond{op: "rel", name: k, subs: []*cond{norm(sub, depth+1)}}))
		}
	}
	return junction("and", parts)
}

// isComparison tells a column's operators ({_eq: …}) from a
// relationship's nested expression. An empty mapping is a relationship
// that exists with no further condition.
func isComparison(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for k := range m {
		if !strings.HasPrefix(k, "_") || k == "_and" || k == "_or" || k == "_not" || k == "_exists" {
			return false
		}
	}
	return true
}

// junction builds a flattened, sorted, deduplicated and/or.
func junction(op string, ops []*cond) *cond {
	var flat []*cond
	for _, o := range ops {
		if o.op == op {
			flat = append(flat, o.subs...)
		} else {
			flat = append(flat, o)
		}
	}
	slices.SortFunc(flat, func(a, b *cond) int { return strings.Compare(a.key, b.key) })
	flat = slices.CompactFunc(flat, func(a, b *cond) bool { return a.key == b.key })
	if len(flat) == 1 {
		return flat[0]
	}
	return finish(&cond{op: op, subs: flat})
}

func finish(c *cond) *cond {
	var b strings.Builder
	b.WriteString(c.op)
	b.WriteByte('(')
	switch c.op {
	case "cmp":
		b.WriteString(canonical(c.name) + " " + c.cmp + " " + canonical(c.val))
	case "raw":
		b.WriteString(c.val.(string))
	default:
		if c.name != "" {
			b.WriteString(canonical(c.name) + ":")
		}
		for i, s := range c.subs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s.key)
		}
	}
	b.WriteByte(')')
	c.key = b.String()
	return c
}

// isTrue reports a condition every row meets ({} or an absent filter).
func (c *cond) isTrue() bool { return c.op == "and" && len(c.subs) == 0 }

// maxImplySteps bounds the proof search: nested _and/_or can make it
// exponential, and running out only means "cannot show it".
const maxImplySteps = 100_000

// implies reports whether every row a meets also meets b. False means
// "cannot show it", which a caller reads as possibly wider.
func implies(a, b *cond) bool {
	steps := 0
	return implied(a, b, &steps)
}

func implied(a, b *cond, steps *int) bool {
	*steps++
	if *steps > maxImplySteps {
		return false
	}
	implies := func(a, b *cond) bool { return implied(a, b, steps) }
	fromA := func(s *cond) bool { return implies(a, s) }
	toB := func(s *cond) bool { return implies(s, b) }
	switch {
	case a.key == b.key, b.isTrue():
		return true
	case a.op == "or" && len(a.subs) == 0:
		return true // _or: [] matches nothing
	case b.op == "and":
		return !slices.ContainsFunc(b.subs, func(s *cond) bool { return !fromA(s) })
	case a.op == "or":
		return !slices.ContainsFunc(a.subs, func(s *cond) bool { return !toB(s) })
	case a.op == "and" && slices.ContainsFunc(a.subs, toB), b.op == "or" && slices.ContainsFunc(b.subs, fromA):
		return true
	case a.op == "rel" && b.op == "rel" && a.name == b.name,
		a.op == "exists" && b.op == "exists" && a.name == b.name:
		return implies(a.subs[0], b.subs[0])
	case a.op == "not" && b.op == "not":
		return implies(b.subs[0], a.subs[0])
	case a.op == "cmp" && b.op == "cmp" && a.name == b.name:
		return cmpImplies(a, b)
	}
	return false
}

// cmpImplies handles the comparisons that commonly move between rules:
// an _eq inside an _in list, and an _in list inside a larger one.
func cmpImplies(a, b *cond) bool {
	inB := func(v any) bool {
		l, _ := b.val.([]any)
		k := canonical(v)
		return slices.ContainsFunc(l, func(e any) bool { return canonical(e) == k })
	}
	switch {
	case a.cmp == "_eq" && b.cmp == "_in":
		return inB(a.val)
	case a.cmp == "_in" && b.cmp == "_in":
		l, ok := a.val.([]any)
		return ok && !slices.ContainsFunc(l, func(e any) bool { return !inB(e) })
	}
	return false
}

// Effect says how a rule change moves what a role can reach.
type Effect string

// The effects of a change of rule.
const (
	Same     Effect = ""
	Widened  Effect = "widened"
	Narrowed Effect = "narrowed"
	// Changed means neither side implies the other: some rows leave, some
	// may come in.
	Changed Effect = "changed"
)

// compare classifies a row rule's change from before to after.
func compare(before, after any) Effect {
	b, a := normalize(before), normalize(after)
	if a.key == b.key {
		return Same
	}
	aImpB, bImpA := implies(a, b), implies(b, a)
	switch {
	case aImpB && bImpA:
		return Same
	case aImpB:
		return Narrowed
	case bImpA:
		return Widened
	}
	return Changed
}

var sessionVarRE = regexp.MustCompile(`(?i)^x-hasura-[a-z0-9_-]+$`)

// sessionVars lists the session variables a rule reads, sorted.
func sessionVars(vs ...any) []string {
	seen := map[string]string{} // lower case → the first spelling met
	note := func(s string) {
		if sessionVarRE.MatchString(s) {
			seen[strings.ToLower(s)] = cmp.Or(seen[strings.ToLower(s)], s)
		}
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxCondDepth {
			return
		}
		switch x := v.(type) {
		case string:
			note(x)
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		case map[string]any:
			for k, e := range x {
				note(k)
				walk(e, depth+1)
			}
		}
	}
	for _, v := range vs {
		walk(v, 0)
	}
	out := make([]string, 0, len(seen))
	for _, k := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, seen[k])
	}
	return out
}
