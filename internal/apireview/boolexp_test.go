package apireview

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func yamlValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return fixInts(v)
}

// fixInts turns yaml.v3's int into the int64 the reader produces.
func fixInts(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = fixInts(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fixInts(e)
		}
	}
	return v
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name, before, after string
		want                Effect
	}{
		{"key order", `{a: {_eq: 1}, b: {_eq: X-Hasura-User-Id}}`, `{b: {_eq: X-Hasura-User-Id}, a: {_eq: 1}}`, Same},
		{"one-element _and", `{user_id: {_eq: X-Hasura-User-Id}}`, `{_and: [{user_id: {_eq: X-Hasura-User-Id}}]}`, Same},
		{"one-element _or", `{user_id: {_eq: X-Hasura-User-Id}}`, `{_or: [{user_id: {_eq: X-Hasura-User-Id}}]}`, Same},
		{"nested _and flattened", `{_and: [{a: {_eq: 1}}, {_and: [{b: {_eq: 2}}, {c: {_eq: 3}}]}]}`, `{a: {_eq: 1}, b: {_eq: 2}, c: {_eq: 3}}`, Same},
		{"two operators on one column", `{a: {_gt: 1, _lt: 5}}`, `{_and: [{a: {_lt: 5}}, {a: {_gt: 1}}]}`, Same},
		{"repeated condition", `{a: {_eq: 1}}`, `{_and: [{a: {_eq: 1}}, {a: {_eq: 1}}]}`, Same},
		{"absent and {}", ``, `{}`, Same},
		{"becomes {}", `{a: {_eq: 1}}`, `{}`, Widened},
		{"loses a conjunct", `{a: {_eq: 1}, b: {_eq: 2}}`, `{a: {_eq: 1}}`, Widened},
		{"_or added", `{a: {_eq: 1}}`, `{_or: [{a: {_eq: 1}}, {public: {_eq: true}}]}`, Widened},
		{"relationship loses a condition", `{owner: {id: {_eq: X-Hasura-User-Id}, active: {_eq: true}}}`, `{owner: {id: {_eq: X-Hasura-User-Id}}}`, Widened},
		{"_in grows", `{status: {_in: [a, b]}}`, `{status: {_in: [a, b, c]}}`, Widened},
		{"_eq to _in", `{status: {_eq: a}}`, `{status: {_in: [a, b]}}`, Widened},
		{"_not drops a negated condition", `{_not: {banned: {_eq: true}}}`, `{}`, Widened},
		{"gains a conjunct", `{a: {_eq: 1}}`, `{a: {_eq: 1}, b: {_eq: 2}}`, Narrowed},
		{"from {}", `{}`, `{a: {_eq: 1}}`, Narrowed},
		{"_or branch removed", `{_or: [{a: {_eq: 1}}, {b: {_eq: 2}}]}`, `{a: {_eq: 1}}`, Narrowed},
		{"_not gains a condition", `{_not: {a: {_eq: 1}, b: {_eq: 2}}}`, `{_not: {a: {_eq: 1}}}`, Narrowed},
		{"value changed", `{user_id: {_eq: X-Hasura-User-Id}}`, `{user_id: {_eq: X-Hasura-Org-Id}}`, Changed},
		{"operator changed", `{a: {_eq: 1}}`, `{a: {_neq: 1}}`, Changed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after any
			if c.before != "" {
				before = yamlValue(t, c.before)
			}
			if c.after != "" {
				after = yamlValue(t, c.after)
			}
			if got := compare(before, after); got != c.want {
				t.Errorf("%s → %s: %q, want %q", c.before, c.after, got, c.want)
			}
		})
	}
}

// TestImpliesBounded: a filter built to make the proof search exponential
// gets an answer quickly (and a conservative one).
func TestImpliesBounded(t *testing.T) {
	var deep func(n int, op string) any
	deep = func(n int, op string) any {
		if n == 0 {
			return map[string]any{"a": map[string]any{"_eq": int64(n)}}
		}
		next := "_or"
		if op == "_or" {
			next = "_and"
		}
		return map[string]any{op: []any{deep(n-1, next), deep(n-1, next), map[string]any{"x": map[string]any{"_eq": int64(n)}}}}
	}
	if got := compare(deep(12, "_and"), deep(12, "_or")); got == Same {
		t.Errorf("different deep filters compared Same")
	}
}

func TestSessionVars(t *testing.T) {
	v := yamlValue(t, `{_or: [{owner: {_eq: X-Hasura-User-Id}}, {org: {_in: x-hasura-allowed-orgs}}, {x-hasura-user-id: 1}]}`)
	got := sessionVars(v, map[string]any{"created_by": "X-HASURA-USER-ID"})
	if len(got) != 2 || got[0] != "x-hasura-allowed-orgs" || got[1] != "X-Hasura-User-Id" {
		t.Errorf("got %q", got)
	}
}
