package apireview

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is something in a project that could not be read. The report
// lists it instead of failing.
type Problem struct {
	// Side is "base" or "head", set when the problem reaches a Report.
	Side    string `json:"side,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// reader reads the YAML files of one side under a node and byte budget.
// Once a budget runs out it stops reading altogether: half a project
// diffed against a whole one would report everything as removed.
type reader struct {
	fsys    fs.FS
	lim     Limits
	root    string // the metadata directory; includes stay inside it
	nodes   int
	aliased int
	parsed  int // files parsed, to tell whether an extraction included any
	// shared holds tables read from files identical on both sides of a
	// review, so the second side skips parsing them (see LoadPair).
	shared   map[string]*Table
	bytes    int64
	files    int
	over     bool
	problems []Problem
}

// src is a YAML node with the file it came from and the include chain
// that led to it.
type src struct {
	n     *yaml.Node
	file  string
	chain *chain
}

type chain struct {
	file  string
	up    *chain
	depth int
}

func (c *chain) has(file string) bool {
	for ; c != nil; c = c.up {
		if c.file == file {
			return true
		}
	}
	return false
}

func (r *reader) problem(file string, line int, format string, args ...any) {
	if len(r.problems) >= 200 {
		return
	}
	r.problems = append(r.problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// read reads a file under the size caps. A missing file is a problem
// unless optional is set (the CLI omits files with nothing in them).
func (r *reader) read(p string, optional bool) ([]byte, bool) {
	if r.over {
		return nil, false
	}
	if !fs.ValidPath(p) {
		r.problem(p, 0, "not a valid path")
		return nil, false
	}
	f, err := r.fsys.Open(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.problem(p, 0, "cannot open: %v", err)
		} else if !optional {
			r.problem(p, 0, "file not found")
		}
		return nil, false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			r.problem(p, 0, "is a directory, not a file")
			return nil, false
		}
		if st.Size() > r.lim.MaxFileBytes {
			r.problem(p, 0, "refused: %d bytes, over the %d-byte limit per file", st.Size(), r.lim.MaxFileBytes)
			return nil, false
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, r.lim.MaxFileBytes+1))
	if err != nil {
		r.problem(p, 0, "cannot read: %v", err)
		return nil, false
	}
	if int64(len(data)) > r.lim.MaxFileBytes {
		r.problem(p, 0, "refused: over the %d-byte limit per file", r.lim.MaxFileBytes)
		return nil, false
	}
	r.bytes += int64(len(data))
	if r.bytes > r.lim.MaxTotalBytes {
		r.problem(p, 0, "refused: the project is over the %d-byte limit; stopped reading", r.lim.MaxTotalBytes)
		r.over = true
		return nil, false
	}
	return data, true
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// parse reads and parses one YAML file.
func (r *reader) parse(p string, up *chain, optional bool) (src, bool) {
	data, ok := r.read(p, optional)
	if !ok {
		return src{}, false
	}
	return r.parseData(p, data, up)
}

// parseData parses a file already read.
func (r *reader) parseData(p string, data []byte, up *chain) (src, bool) {
	r.parsed++
	if n := separators(data); n > r.lim.MaxFileNodes {
		r.problem(p, 0, "refused: about %d YAML nodes, over the limit of %d per file", n, r.lim.MaxFileNodes)
		return src{}, false
	}
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimPrefix(msg, m[0]+": ")
		}
		r.problem(p, line, "invalid YAML: %s", msg)
		return src{}, false
	}
	c := &chain{file: p, up: up}
	if up != nil {
		c.depth = up.depth + 1
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return src{n: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}, file: p, chain: c}, true
	}
	return src{n: doc.Content[0], file: p, chain: c}, true
}

// safeUnmarshal turns a panic inside the YAML library into an error: a
// preview must never fail because of a file in the pull request.
func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("the YAML parser gave up: %v", v)
		}
	}()
	return yaml.Unmarshal(data, n)
}

// visit charges one node to the budget.
func (r *reader) visit() bool {
	if r.over {
		return false
	}
	r.nodes++
	if r.nodes > r.lim.MaxNodes {
		r.over = true
		r.problem("", 0, "refused: over %d YAML nodes (an alias bomb or an !include fan-out?); stopped reading", r.lim.MaxNodes)
		return false
	}
	return true
}

// includeTarget returns the path of an !include scalar. The Hasura CLI
// writes includes as quoted strings ("!include default/tables/tables.yaml");
// a bare !include tag means the same.
func includeTarget(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if n.Tag == "!include" {
		return strings.TrimSpace(n.Value), true
	}
	rest, ok := strings.CutPrefix(n.Value, "!include")
	if n.Tag == "!!str" && ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		return strings.TrimSpace(rest), true
	}
	return "", false
}

// deref follows aliases and includes until it reaches a node of the data.
func (r *reader) deref(s src) (src, bool) {
	d, _, ok := r.derefAlias(s)
	return d, ok
}

// derefAlias is deref that also tells whether it went through an alias.
func (r *reader) derefAlias(s src) (d src, alias bool, ok bool) {
	for {
		if s.n == nil || !r.visit() {
			return src{}, alias, false
		}
		if s.n.Kind == yaml.AliasNode {
			s.n = s.n.Alias
			alias = true
			continue
		}
		target, isInclude := includeTarget(s.n)
		if !isInclude {
			return s, alias, true
		}
		p, found := r.includePath(s, target)
		if !found {
			return src{}, alias, false
		}
		if s, ok = r.parse(p, s.chain, false); !ok {
			return src{}, alias, false
		}
	}
}

// includePath resolves an !include relative to the including file and
// refuses one that leaves the metadata directory, loops or nests too deep.
func (r *reader) includePath(s src, target string) (string, bool) {
	line := s.n.Line
	switch {
	case target == "":
		r.problem(s.file, line, "!include without a file name")
		return "", false
	case strings.HasPrefix(target, "/") || strings.Contains(target, `\`) || (len(target) > 1 && target[1] == ':'):
		r.problem(s.file, line, "refused: !include %s is an absolute path", quoteName(target))
		return "", false
	}
	p := path.Join(path.Dir(s.file), target)
	if !within(r.root, p) {
		r.problem(s.file, line, "refused: !include %s leaves the metadata directory", quoteName(target))
		return "", false
	}
	if s.chain.has(p) {
		r.problem(s.file, line, "refused: !include %s is a cycle", quoteName(target))
		return "", false
	}
	if s.chain != nil && s.chain.depth+1 > r.lim.MaxIncludeDepth {
		r.problem(s.file, line, "refused: !include nested deeper than %d", r.lim.MaxIncludeDepth)
		return "", false
	}
	return p, true
}

// within reports whether the cleaned path p lies inside dir.
func within(dir, p string) bool {
	if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return false
	}
	if dir == "." || dir == "" {
		return true
	}
	return strings.HasPrefix(p, dir+"/")
}

// quoteName keeps a name from the user's files short for a message.
func quoteName(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// get returns the value under key in a mapping; when there is none (or
// it cannot be read), an empty src, which has no items and no keys.
func (r *reader) get(s src, key string) src {
	if s.n == nil || s.n.Kind != yaml.MappingNode {
		return src{}
	}
	for i := 0; i+1 < len(s.n.Content); i += 2 {
		k := s.n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == key {
			d, _ := r.deref(src{n: s.n.Content[i+1], file: s.file, chain: s.chain})
			return d
		}
	}
	return src{}
}

// found reports whether s holds a node (see get).
func (s src) found() bool { return s.n != nil }

// list returns the entries of a sequence; null is an empty one.
func (r *reader) list(s src, what string) []*yaml.Node {
	if s.n == nil || isNull(s.n) {
		return nil
	}
	if s.n.Kind != yaml.SequenceNode {
		r.problem(s.file, s.n.Line, "%s should be a list", what)
		return nil
	}
	return s.n.Content
}

// items returns the entries of a sequence, each dereferenced.
func (r *reader) items(s src, what string) []src {
	l := r.list(s, what)
	out := make([]src, 0, len(l))
	for _, c := range l {
		d, ok := r.deref(src{n: c, file: s.file, chain: s.chain})
		if !ok {
			if r.over {
				return out
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// str returns a scalar's text ("" for anything else).
func (r *reader) str(s src, key string) string {
	v := r.get(s, key)
	if !v.found() || v.n.Kind != yaml.ScalarNode || isNull(v.n) {
		return ""
	}
	return v.n.Value
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || (n.Tag == "" && n.Value == ""))
}

// value converts a subtree into plain Go values, charging every node to
// the budget so that a filter full of aliases cannot expand without bound.
// aliased says the subtree was reached through an alias.
func (r *reader) value(s src, aliased bool) (any, bool) {
	d, viaAlias, ok := r.derefAlias(s)
	if !ok {
		return nil, false
	}
	if aliased = aliased || viaAlias; aliased {
		r.aliased++
		if r.aliased > r.lim.MaxAliasNodes {
			if !r.over {
				r.problem(d.file, d.n.Line, "refused: aliases expand to over %d YAML nodes (an alias bomb?); stopped reading", r.lim.MaxAliasNodes)
			}
			r.over = true
			return nil, false
		}
	}
	n := d.n
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := r.deref(src{n: n.Content[i], file: d.file, chain: d.chain})
			if !ok {
				return nil, false
			}
			if k.n.Kind != yaml.ScalarNode {
				r.problem(d.file, k.n.Line, "a mapping key that is not a plain value")
				continue
			}
			v, ok := r.value(src{n: n.Content[i+1], file: d.file, chain: d.chain}, aliased)
			if !ok {
				return nil, false
			}
			if mm, isMap := v.(map[string]any); isMap && k.n.Value == "<<" {
				// A merge key: the merged mapping's keys, ours winning.
				for mk, mv := range mm {
					if _, set := m[mk]; !set {
						m[mk] = mv
					}
				}
				continue
			}
			m[k.n.Value] = v
		}
		return m, true
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, ok := r.value(src{n: c, file: d.file, chain: d.chain}, aliased)
			if !ok {
				return nil, false
			}
			l = append(l, v)
		}
		return l, true
	case yaml.ScalarNode:
		return scalar(n), true
	}
	return nil, true
}

func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		if b, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	}
	return n.Value
}

// separators estimates a file's YAML nodes without parsing it.
func separators(data []byte) int {
	n := 0
	for _, c := range data {
		switch c {
		case ',', ':', '-', '[', '{':
			n++
		}
	}
	return n
}
