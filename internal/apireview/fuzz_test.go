package apireview

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes as a table file and as the tables.yaml
// that includes it. Nothing may panic, the budgets must hold, and the
// report must serialise and render with our </details> the only one.
// The seed corpus is testdata/fuzz/FuzzLoad plus the fixtures' table files.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*/metadata/databases/*/tables/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte("- \"!include public_t.yaml\"\n"))
	}
	f.Add([]byte(aliasBomb()), []byte("- !include public_t.yaml\n- *x\n"))
	lim := Limits{MaxFileBytes: 1 << 20, MaxNodes: 200_000, MaxAliasNodes: 20_000}
	f.Fuzz(func(t *testing.T, table, tables []byte) {
		head := minimal()
		head["metadata/databases/default/tables/public_t.yaml"] = &fstest.MapFile{Data: table}
		head["metadata/databases/default/tables/tables.yaml"] = &fstest.MapFile{Data: tables}
		p := Load(head, lim)
		if p.Incomplete && len(p.Problems) == 0 {
			t.Fatal("incomplete without a problem")
		}
		r := Diff(Load(minimal(), lim), p, Options{})
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("report does not serialise: %v", err)
		}
		md := r.Markdown()
		if strings.Count(md, "</details>") > 1 || strings.Contains(md, "<!--") {
			t.Fatalf("unsafe Markdown:\n%s", md)
		}
	})
}

// FuzzDestructive: the SQL tokenizer never panics and reports lines
// inside the text.
func FuzzDestructive(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*/migrations/*/*/up.sql")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, sql string) {
		lines := strings.Count(sql, "\n") + 1
		for _, d := range DestructiveStatements(sql) {
			if d.Line < 1 || d.Line > lines {
				t.Fatalf("line %d outside 1..%d", d.Line, lines)
			}
		}
	})
}

// FuzzCompare: any two filters compare without panicking, and a filter
// compared with itself is the same.
func FuzzCompare(f *testing.F) {
	f.Add(`{"a":{"_eq":1}}`, `{"_or":[{"a":{"_eq":1}},{"b":{"_eq":2}}]}`)
	f.Add(`{"_and":[{"_not":{"x":{}}}]}`, `{}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		var va, vb any
		if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
			return
		}
		_ = compare(va, vb)
		if e := compare(va, va); e != Same {
			t.Fatalf("%s against itself: %q", a, e)
		}
	})
}
