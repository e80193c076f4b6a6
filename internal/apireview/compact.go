package apireview

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxCompact caps one rendered value; the JSON output keeps whole values
// only up to the same cap, as a filter can be arbitrarily large.
const maxCompact = 400

var bareRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// compactText renders a rule on one line in YAML flow style with sorted
// keys: {user_id: {_eq: X-Hasura-User-Id}}. Absent renders as "none".
func compactText(v any) string {
	if v == nil {
		return "none"
	}
	var b strings.Builder
	writeCompact(&b, v, 0)
	return cut(b.String(), maxCompact)
}

func writeCompact(b *strings.Builder, v any, depth int) {
	if b.Len() > maxCompact || depth > maxCondDepth {
		b.WriteString("…")
		return
	}
	switch x := v.(type) {
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeScalar(b, k)
			b.WriteString(": ")
			writeCompact(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeCompact(b, e, depth+1)
		}
		b.WriteByte(']')
	case string:
		writeScalar(b, x)
	case nil:
		b.WriteString("null")
	default:
		j, _ := json.Marshal(x)
		b.Write(j)
	}
}

func writeScalar(b *strings.Builder, s string) {
	if bareRE.MatchString(s) && s != "null" && s != "true" && s != "false" {
		b.WriteString(s)
		return
	}
	b.WriteString(strconv.Quote(s))
}

// compactJSON renders a canonical JSON text the same way.
func compactJSON(s string) string {
	return compactText(decode(s))
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
