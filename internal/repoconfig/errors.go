package repoconfig

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrNotConfigured is Fetch's answer for a repository without the file on
// its base branch: it does not take part, which is not a failure.
var ErrNotConfigured = errors.New("the repository has no " + Path)

// Problem is one thing wrong with a configuration file; its message never
// holds a secret's value.
type Problem struct {
	Line    int // 1-based; 0 when the problem has no single line
	Message string
}

// String renders the problem as "line 7: unknown key `directroy`".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	return p.Message
}

// Error reports every problem of a configuration file, in line order.
type Error struct {
	Problems []Problem
}

// Error lists the problems one per line under a heading naming the file.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return Path + ": " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", Path, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// problems collects Problems; the zero value is ready to use.
type problems []Problem

func (ps *problems) add(line int, format string, args ...any) {
	*ps = append(*ps, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// err returns nil or an *Error with the problems stably sorted by line.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone(ps)
	slices.SortStableFunc(out, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
	return &Error{Problems: out}
}

var (
	reLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	reUnknown   = regexp.MustCompile(`^field (.+) not found in type \S+$`)
	reSetTwice  = regexp.MustCompile(`^field (.+) already set in type \S+$`)
	reDuplicate = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	reMismatch  = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

// translateYAML turns yaml.v3's messages into ones a repository owner can
// act on: key paths instead of Go types, and a suggestion for a misspelt key.
func translateYAML(err error, keys keyIndex) problems {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var ps problems
	for _, m := range msgs {
		line, rest := 0, strings.TrimPrefix(m, "yaml: ")
		if sub := reLine.FindStringSubmatch(m); sub != nil {
			line, _ = strconv.Atoi(sub[1])
			rest = sub[2]
		}
		ps = append(ps, Problem{Line: line, Message: translateMessage(line, rest, keys)})
	}
	return ps
}

func translateMessage(line int, msg string, keys keyIndex) string {
	if sub := reUnknown.FindStringSubmatch(msg); sub != nil {
		parent := keys.parents[line]
		out := fmt.Sprintf("unknown key `%s`", sub[1])
		if parent != "" {
			out += fmt.Sprintf(" in `%s`", parent)
		}
		if s := suggest(sub[1], knownKeys[parent]); s != "" {
			out += fmt.Sprintf(" (did you mean `%s`?)", s)
		} else if known := knownKeys[parent]; len(known) > 0 {
			out += " (known keys: " + strings.Join(known, ", ") + ")"
		}
		return out
	}
	if sub := reSetTwice.FindStringSubmatch(msg); sub != nil {
		return fmt.Sprintf("key `%s` appears more than once", sub[1])
	}
	if sub := reDuplicate.FindStringSubmatch(msg); sub != nil {
		return fmt.Sprintf("key `%s` is already set on line %s", sub[1], sub[2])
	}
	if sub := reMismatch.FindStringSubmatch(msg); sub != nil {
		found := describeTag(sub[1], sub[2])
		if strings.HasPrefix(sub[3], "repoconfig.file") {
			return "the file must be a mapping of keys such as `directory: hasura`, not " + found
		}
		want := map[string]string{
			"string": "a single value", "bool": "true or false", "*bool": "true or false",
			"*string": "a single value", "[]string": "a list of names",
		}[sub[3]]
		if want == "" {
			want = "a mapping of keys"
		}
		if key := keys.byLine[line]; key != "" {
			return fmt.Sprintf("`%s` must be %s, not %s", key, want, found)
		}
		return fmt.Sprintf("expected %s, found %s", want, found)
	}
	return msg
}

func describeTag(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "str":
		return fmt.Sprintf("the text `%s`", value)
	case "int", "float":
		return fmt.Sprintf("the number `%s`", value)
	case "bool":
		return fmt.Sprintf("`%s`", value)
	case "null":
		return "an empty value"
	}
	return fmt.Sprintf("a %s value", tag)
}

// suggest returns the known key closest to a misspelt one, if it is close
// enough to be what was meant.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, enough for keys of a few
// dozen bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyIndex remembers where each key is, so that problems found after
// decoding can name a line, and yaml's type errors a key.
type keyIndex struct {
	lines   map[string]int // "policy.skip_drafts" → line of the key
	byLine  map[int]string // line of a key or its scalar value → key path
	parents map[int]string // line of a key → path of the mapping holding it
}

func indexKeys(root *yaml.Node) keyIndex {
	ki := keyIndex{lines: map[string]int{}, byLine: map[int]string{}, parents: map[int]string{}}
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return ki
	}
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if n.Kind != yaml.MappingNode || depth > 2 {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if _, seen := ki.lines[p]; !seen {
				ki.lines[p] = k.Line
			}
			ki.parents[k.Line] = path
			ki.byLine[k.Line] = p
			if v.Kind == yaml.ScalarNode || v.Kind == yaml.SequenceNode {
				if _, taken := ki.byLine[v.Line]; !taken {
					ki.byLine[v.Line] = p
				}
			}
			walk(v, p, depth+1)
		}
	}
	walk(root.Content[0], "", 0)
	return ki
}
