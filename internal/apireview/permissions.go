package apireview

import (
	"slices"
	"strconv"
	"strings"
)

// permission compares one role's rule for one operation on a table (bok
// and hok say which sides have it) and says whether it widened.
func (d *differ) permission(table string, b Permission, bok bool, h Permission, hok bool) (PermissionChange, bool) {
	p := h
	if !hok {
		p = b
	}
	pc := PermissionChange{Table: table, Role: p.Role, Op: p.Op, Unauthenticated: p.Role == d.opts.UnauthorizedRole}
	for _, ir := range sortedKeys(d.head.InheritedRoles) {
		if slices.Contains(d.head.InheritedRoles[ir], p.Role) {
			pc.InheritedBy = append(pc.InheritedBy, ir)
		}
	}
	var widened, changed, narrowed []string
	switch {
	case !bok:
		pc.Change = Added
		widened = append(widened, "new role on this table")
		pc.ColumnsGranted, _ = columnDiff(Permission{}, h)
		for _, rule := range []struct{ field, v string }{{"filter", h.Filter}, {"check", h.Check}} {
			if rule.v != "" {
				pc.Details = append(pc.Details, Detail{Field: rule.field, After: compactJSON(rule.v)})
			}
		}
		if h.Aggregate {
			pc.Details = append(pc.Details, Detail{Field: "aggregations", After: "allowed"})
		}
		if h.Limit != nil {
			pc.Details = append(pc.Details, Detail{Field: "row limit", After: strconv.FormatInt(*h.Limit, 10)})
		}
	case !hok:
		pc.Change = Removed
		narrowed = append(narrowed, "role removed")
	default:
		pc.Change = Edited
		pc.ColumnsGranted, pc.ColumnsRevoked = columnDiff(b, h)
		if len(pc.ColumnsGranted) > 0 {
			widened = append(widened, "columns added")
		}
		if len(pc.ColumnsRevoked) > 0 {
			narrowed = append(narrowed, "columns removed")
		}
		for _, rule := range []struct{ field, before, after string }{{"filter", b.Filter, h.Filter}, {"check", b.Check, h.Check}} {
			if rule.before == rule.after {
				continue
			}
			before, after := decode(rule.before), decode(rule.after)
			eff := compare(before, after)
			if eff == Same {
				continue
			}
			pc.Details = append(pc.Details, Detail{Field: rule.field, Before: compactJSON(rule.before), After: compactJSON(rule.after)})
			switch eff {
			case Widened:
				if normalize(after).isTrue() {
					widened = append(widened, rule.field+" became {} (every row)")
				} else {
					widened = append(widened, rule.field+" loosened")
				}
			case Changed:
				changed = append(changed, rule.field+" rewritten: cannot show it reaches no new rows")
			case Narrowed:
				narrowed = append(narrowed, rule.field+" tightened")
			}
		}
		if b.Aggregate != h.Aggregate {
			pc.Details = append(pc.Details, Detail{Field: "aggregations", Before: allowed(b.Aggregate), After: allowed(h.Aggregate)})
			if h.Aggregate {
				widened = append(widened, "aggregations allowed")
			} else {
				narrowed = append(narrowed, "aggregations refused")
			}
		}
		if lb, lh := limitText(b.Limit), limitText(h.Limit); lb != lh {
			pc.Details = append(pc.Details, Detail{Field: "row limit", Before: lb, After: lh})
			if h.Limit == nil || (b.Limit != nil && *h.Limit > *b.Limit) {
				widened = append(widened, "row limit raised")
			} else {
				narrowed = append(narrowed, "row limit lowered")
			}
		}
		if b.Set != h.Set {
			pc.Details = append(pc.Details, Detail{Field: "column presets", Before: compactJSON(b.Set), After: compactJSON(h.Set)})
			changed = append(changed, "column presets changed")
		}
		if b.Other != h.Other {
			pc.Details = append(pc.Details, Detail{Field: "other settings", Before: compactJSON(b.Other), After: compactJSON(h.Other)})
		}
		if len(pc.ColumnsGranted) == 0 && len(pc.ColumnsRevoked) == 0 && len(pc.Details) == 0 {
			return pc, false
		}
	}
	switch {
	case len(widened) > 0:
		pc.Effect = Widened
		pc.Warn = strings.Join(widened, "; ")
	case len(changed) > 0:
		pc.Effect = Changed
		pc.Warn = strings.Join(changed, "; ")
	case len(narrowed) > 0:
		pc.Effect = Narrowed
	}
	if pc.Warn != "" {
		if pc.Unauthenticated {
			pc.Warn = "unauthenticated role: " + pc.Warn
		}
		if len(pc.InheritedBy) > 0 {
			pc.Warn += "; also reaches inherited role " + strings.Join(pc.InheritedBy, ", ")
		}
	}
	if hok && pc.Effect != Narrowed {
		pc.SessionVariables = sessionVars(decode(h.Filter), decode(h.Check), decode(h.Set))
	}
	return pc, true
}

func allowed(b bool) string {
	if b {
		return "allowed"
	}
	return "refused"
}

func limitText(l *int64) string {
	if l == nil {
		return "none"
	}
	return strconv.FormatInt(*l, 10)
}

// columnDiff returns the columns head grants that base did not, and the
// other way round; "*" stands for every column.
func columnDiff(b, h Permission) (granted, revoked []string) {
	switch {
	case b.AllColumns && h.AllColumns:
		return nil, nil
	case h.AllColumns:
		return []string{"*"}, nil
	case b.AllColumns:
		return nil, []string{"* (now only " + strings.Join(h.Columns, ", ") + ")"}
	}
	return notIn(h.Columns, b.Columns), notIn(b.Columns, h.Columns)
}

// notIn returns the elements of l missing from the sorted list in.
func notIn(l, in []string) []string {
	var out []string
	for _, c := range l {
		if _, found := slices.BinarySearch(in, c); !found {
			out = append(out, c)
		}
	}
	return out
}
