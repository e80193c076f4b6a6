package cloudsim

import (
	"sort"
	"strings"
	"time"
)

// row is anything a Hasura list argument can filter and sort: its columns
// are strings, times or nil.
type row interface {
	column(name string) any
}

func (p *project) column(name string) any {
	switch name {
	case "id":
		return p.id
	case "name":
		return p.name
	case "endpoint":
		return p.endpoint
	}
	return nil
}

func (t *taskView) column(name string) any {
	switch name {
	case "id":
		return t.t.id
	case "name":
		return t.t.name
	case "cloud":
		return t.t.cloud
	case "region":
		return t.t.region
	case "updated_at":
		return t.updatedAt()
	}
	return nil
}

func (e *event) column(name string) any {
	switch name {
	case "id":
		return e.id
	case "event_type":
		return e.typ
	case "error":
		return optString(e.err)
	case "github_detail":
		return optString(e.detail)
	case "created_at", "updated_at":
		return e.at
	}
	return nil
}

// applyListArgs does where, order_by, offset and limit, in Hasura's order.
// Rows arrive in insertion order, which is also the answer when no order_by
// is given and the tie-break when sort keys are equal (in the direction of
// the first key, so "desc" puts the later of two equal rows first).
func applyListArgs[R row](rows []R, a *ordMap) ([]any, *gqlError) {
	type indexed struct {
		r R
		i int
	}
	var kept []indexed
	where, _ := a.get("where")
	wm, _ := where.(*ordMap)
	for i, r := range rows {
		if wm == nil || matches(r, wm) {
			kept = append(kept, indexed{r, i})
		}
	}
	keys := orderKeys(a)
	if len(keys) > 0 {
		desc := strings.HasPrefix(keys[0].dir, "desc")
		sort.SliceStable(kept, func(i, j int) bool {
			for _, k := range keys {
				if c := compareColumn(kept[i].r.column(k.col), kept[j].r.column(k.col), k.dir); c != 0 {
					return c < 0
				}
			}
			if desc {
				return kept[i].i > kept[j].i
			}
			return kept[i].i < kept[j].i
		})
	}
	if off, ok := a.get("offset"); ok && off != nil {
		n := off.(int64)
		if n < 0 {
			return nil, newErr(stageExecute, "validation-failed", "$", "unexpected negative value for \"offset\"")
		}
		if n >= int64(len(kept)) {
			kept = nil
		} else {
			kept = kept[n:]
		}
	}
	if lim, ok := a.get("limit"); ok && lim != nil {
		n := lim.(int64)
		if n < 0 {
			return nil, newErr(stageExecute, "validation-failed", "$", "unexpected negative value for \"limit\"")
		}
		if n < int64(len(kept)) {
			kept = kept[:n]
		}
	}
	out := make([]any, len(kept))
	for i, k := range kept {
		out[i] = k.r
	}
	return out, nil
}

type orderKey struct{ col, dir string }

// orderKeys flattens order_by: a list of objects, each object's keys in the
// order written.
func orderKeys(a *ordMap) []orderKey {
	v, _ := a.get("order_by")
	list, _ := v.([]any)
	var keys []orderKey
	for _, e := range list {
		m, ok := e.(*ordMap)
		if !ok {
			continue
		}
		for _, col := range m.keys {
			if dir, ok := m.vals[col].(string); ok {
				keys = append(keys, orderKey{col, dir})
			}
		}
	}
	return keys
}

// compareColumn orders a before b (negative) under dir, with Postgres's
// defaults: nulls last ascending, first descending.
func compareColumn(a, b any, dir string) int {
	desc := strings.HasPrefix(dir, "desc")
	nullsFirst := desc
	switch {
	case strings.HasSuffix(dir, "_nulls_first"):
		nullsFirst = true
	case strings.HasSuffix(dir, "_nulls_last"):
		nullsFirst = false
	}
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if nullsFirst {
			return 1
		}
		return -1
	}
	c := compareValues(a, b)
	if desc {
		c = -c
	}
	return c
}

func compareValues(a, b any) int {
	if at, ok := a.(time.Time); ok {
		if bt, ok := b.(time.Time); ok {
			return at.Compare(bt)
		}
	}
	as, _ := a.(string)
	bs, _ := b.(string)
	return strings.Compare(as, bs)
}

// matches evaluates a Hasura boolean expression. A comparison whose value
// is null is no condition at all, as in Hasura (a null $name matches every
// row, a trap the simulator keeps so clients meet it in tests).
func matches(r row, exp *ordMap) bool {
	for _, k := range exp.keys {
		v := exp.vals[k]
		if v == nil {
			continue
		}
		switch k {
		case "_and":
			for _, e := range v.([]any) {
				if m, ok := e.(*ordMap); ok && !matches(r, m) {
					return false
				}
			}
		case "_or":
			hit := false
			for _, e := range v.([]any) {
				if m, ok := e.(*ordMap); ok && matches(r, m) {
					hit = true
				}
			}
			if !hit {
				return false
			}
		case "_not":
			if matches(r, v.(*ordMap)) {
				return false
			}
		default:
			if !compareOps(r.column(k), v.(*ordMap)) {
				return false
			}
		}
	}
	return true
}

func compareOps(col any, ops *ordMap) bool {
	for _, op := range ops.keys {
		want := ops.vals[op]
		if want == nil {
			continue
		}
		ok := true
		switch op {
		case "_is_null":
			ok = (col == nil) == want.(bool)
		case "_in", "_nin":
			found := false
			for _, w := range want.([]any) {
				found = found || (col != nil && w != nil && compareValues(col, w) == 0)
			}
			ok = found == (op == "_in")
		default:
			if col == nil {
				return false
			}
			c := compareValues(col, want)
			switch op {
			case "_eq":
				ok = c == 0
			case "_neq":
				ok = c != 0
			case "_gt":
				ok = c > 0
			case "_gte":
				ok = c >= 0
			case "_lt":
				ok = c < 0
			case "_lte":
				ok = c <= 0
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
