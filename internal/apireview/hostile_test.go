package apireview

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// minimal is a valid one-table v3 project; hostile tests replace a file.
func minimal() fstest.MapFS {
	return fstest.MapFS{
		"config.yaml":                                     {Data: []byte("version: 3\nmetadata_directory: metadata\n")},
		"metadata/version.yaml":                           {Data: []byte("version: 3\n")},
		"metadata/databases/databases.yaml":               {Data: []byte("- name: default\n  kind: postgres\n  tables: \"!include default/tables/tables.yaml\"\n")},
		"metadata/databases/default/tables/tables.yaml":   {Data: []byte("- \"!include public_t.yaml\"\n")},
		"metadata/databases/default/tables/public_t.yaml": {Data: []byte("table: {schema: public, name: t}\nselect_permissions:\n- role: user\n  permission: {columns: [a], filter: {owner: {_eq: X-Hasura-User-Id}}}\n")},
	}
}

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("table: {schema: public, name: t}\nbomb:\n- &a0 {x: {_eq: 1}}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "- &a%d [", i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("select_permissions:\n- role: user\n  permission: {columns: [a], filter: {_and: *a9}}\n")
	return b.String()
}

func TestHostileProjects(t *testing.T) {
	const table = "metadata/databases/default/tables/public_t.yaml"
	const tables = "metadata/databases/default/tables/tables.yaml"
	cases := []struct {
		name     string
		edit     func(fstest.MapFS)
		file     string // the file the problem names
		line     int
		message  string
		compared bool // whether the rest is still compared
	}{
		{
			name: "alias bomb",
			edit: func(m fstest.MapFS) { m[table] = &fstest.MapFile{Data: []byte(aliasBomb())} },
			file: table, message: "refused: aliases expand to over",
		},
		{
			name: "10 MB file",
			edit: func(m fstest.MapFS) {
				m[table] = &fstest.MapFile{Data: []byte("table: {schema: public, name: t}\n# " + strings.Repeat("x", 10<<20) + "\n")}
			},
			file: table, message: "over the 4194304-byte limit per file", compared: true,
		},
		{
			// Under the size cap, but a parse tree of hundreds of MiB.
			name: "4 MB of flow sequence",
			edit: func(m fstest.MapFS) {
				m[table] = &fstest.MapFile{Data: []byte("table: {schema: public, name: t}\nx: [" + strings.Repeat("a,", 2<<20-100) + "a]\n")}
			},
			file: table, message: "YAML nodes, over the limit of 250000 per file", compared: true,
		},
		{
			name: "include escaping with ..",
			edit: func(m fstest.MapFS) {
				m[tables] = &fstest.MapFile{Data: []byte("- \"!include ../../../../config.yaml\"\n")}
			},
			file: tables, line: 1, message: "leaves the metadata directory", compared: true,
		},
		{
			name: "include of an absolute path",
			edit: func(m fstest.MapFS) {
				m[tables] = &fstest.MapFile{Data: []byte("- !include /etc/passwd\n")}
			},
			file: tables, line: 1, message: "absolute path", compared: true,
		},
		{
			name: "include cycle",
			edit: func(m fstest.MapFS) {
				m[tables] = &fstest.MapFile{Data: []byte("- \"!include public_t.yaml\"\n- \"!include loop_a.yaml\"\n")}
				m["metadata/databases/default/tables/loop_a.yaml"] = &fstest.MapFile{Data: []byte("\"!include loop_b.yaml\"\n")}
				m["metadata/databases/default/tables/loop_b.yaml"] = &fstest.MapFile{Data: []byte("\"!include loop_a.yaml\"\n")}
			},
			file: "metadata/databases/default/tables/loop_b.yaml", line: 1, message: "is a cycle", compared: true,
		},
		{
			name: "file including itself",
			edit: func(m fstest.MapFS) {
				m[tables] = &fstest.MapFile{Data: []byte("- \"!include public_t.yaml\"\n- \"!include tables.yaml\"\n")}
			},
			file: tables, line: 2, message: "is a cycle", compared: true,
		},
		{
			name: "broken YAML",
			edit: func(m fstest.MapFS) {
				m[table] = &fstest.MapFile{Data: []byte("table:\n  schema: public\n  name: t\nselect_permissions:\n- role: user\n   permission: [\n")}
			},
			file: table, line: 6, message: "invalid YAML", compared: true,
		},
		{
			name: "deep nesting",
			edit: func(m fstest.MapFS) {
				m[table] = &fstest.MapFile{Data: []byte("table: {schema: public, name: t}\nx: " + strings.Repeat("[", 100000) + "\n")}
			},
			file: table, message: "invalid YAML", compared: true,
		},
		{
			name: "metadata directory outside the project",
			edit: func(m fstest.MapFS) {
				m["config.yaml"] = &fstest.MapFile{Data: []byte("version: 3\nmetadata_directory: ../../etc\n")}
			},
			file: "config.yaml", message: "leaves the project directory", compared: true,
		},
		{
			name: "missing include",
			edit: func(m fstest.MapFS) {
				m[tables] = &fstest.MapFile{Data: []byte("- \"!include public_t.yaml\"\n- \"!include nope.yaml\"\n")}
			},
			file: "metadata/databases/default/tables/nope.yaml", message: "file not found", compared: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := minimal()
			c.edit(head)
			hp := Load(head, Limits{})
			var found *Problem
			for i, p := range hp.Problems {
				if strings.Contains(p.Message, c.message) && (c.file == "" || p.File == c.file) {
					found = &hp.Problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no problem %q for %q; got %v", c.message, c.file, hp.Problems)
			}
			if c.line != 0 && found.Line != c.line {
				t.Errorf("problem at line %d, want %d: %v", found.Line, c.line, found)
			}
			r := Diff(Load(minimal(), Limits{}), hp, Options{})
			md := r.Markdown()
			if !strings.Contains(r.Summary, "⚠") || !strings.Contains(md, "Could not be read") {
				t.Errorf("summary %q, section:\n%s", r.Summary, md)
			}
			if c.file != "" && !strings.Contains(md, "`"+c.file+"`") {
				t.Errorf("section does not name %s:\n%s", c.file, md)
			}
			if hp.Incomplete == c.compared {
				t.Errorf("Incomplete = %v, want %v", hp.Incomplete, !c.compared)
			}
			if !c.compared && len(r.Tables) > 0 {
				t.Errorf("an unread project was compared: %+v", r.Tables)
			}
		})
	}
}

// TestUnknownKeysIgnored: keys Hasura may add later do not stop the read.
func TestUnknownKeysIgnored(t *testing.T) {
	head := minimal()
	head["metadata/databases/default/tables/public_t.yaml"] = &fstest.MapFile{Data: []byte(
		"table: {schema: public, name: t, frobnicate: 1}\nfuture_feature: {a: b}\n" +
			"select_permissions:\n- role: user\n  comment: hi\n  permission: {columns: [a], filter: {owner: {_eq: X-Hasura-User-Id}}}\n")}
	head["metadata/network.yaml"] = &fstest.MapFile{Data: []byte("tls_allowlist: []\n")}
	hp := Load(head, Limits{})
	if len(hp.Problems) > 0 {
		t.Fatalf("problems: %v", hp.Problems)
	}
	if r := Diff(Load(minimal(), Limits{}), hp, Options{}); r.Changed {
		t.Errorf("unknown keys reported as a change: %s", r.Summary)
	}
}

// TestIncludeForms: the CLI's quoted "!include x" and a bare !include tag
// read the same.
func TestIncludeForms(t *testing.T) {
	head := minimal()
	head["metadata/databases/default/tables/tables.yaml"] = &fstest.MapFile{Data: []byte("- !include public_t.yaml\n")}
	hp := Load(head, Limits{})
	if len(hp.Problems) > 0 || hp.Tables["default.public.t"] == nil {
		t.Fatalf("bare !include: %v %v", hp.Problems, hp.Tables)
	}
	if r := Diff(Load(minimal(), Limits{}), hp, Options{}); r.Changed {
		t.Errorf("include form reported as a change: %s", r.Summary)
	}
}

// TestNewProject: a project the pull request adds has no base.
func TestNewProject(t *testing.T) {
	base := Load(fstest.MapFS{}, Limits{})
	if !base.Missing || len(base.Problems) > 0 {
		t.Fatalf("empty directory: %+v", base)
	}
	r := Diff(base, Load(minimal(), Limits{}), Options{})
	if r.Summary != "1 table added · 1 permission widened ⚠" {
		t.Errorf("summary %q", r.Summary)
	}
}

// TestIncludeFanOut: one file included over and over counts against the
// byte budget each time.
func TestIncludeFanOut(t *testing.T) {
	head := minimal()
	head["metadata/databases/default/tables/big.yaml"] = &fstest.MapFile{Data: []byte(
		"table: {schema: public, name: big}\n# " + strings.Repeat("x", 1<<20) + "\n")}
	head["metadata/databases/default/tables/tables.yaml"] = &fstest.MapFile{Data: []byte(strings.Repeat("- \"!include big.yaml\"\n", 100))}
	hp := Load(head, Limits{})
	if !hp.Incomplete || len(hp.Problems) == 0 || !strings.Contains(hp.Problems[0].Message, "stopped reading") {
		t.Fatalf("fan-out not refused: %+v", hp.Problems)
	}
}

// TestBrokenFileIsNotARemoval: a table whose file cannot be read on one
// side is not reported as removed (or added): only the problem shows.
func TestBrokenFileIsNotARemoval(t *testing.T) {
	head := minimal()
	head["metadata/databases/default/tables/public_t.yaml"] = &fstest.MapFile{Data: []byte("table: {schema: public, name: t}\nselect_permissions: [\n")}
	r := Diff(Load(minimal(), Limits{}), Load(head, Limits{}), Options{})
	if r.Summary != "1 file could not be read ⚠" || len(r.Tables) > 0 || len(r.Permissions) > 0 {
		t.Errorf("summary %q, tables %+v", r.Summary, r.Tables)
	}
	r = Diff(Load(head, Limits{}), Load(minimal(), Limits{}), Options{})
	if r.Summary != "1 file could not be read ⚠" || len(r.Tables) > 0 {
		t.Errorf("broken base: summary %q, tables %+v", r.Summary, r.Tables)
	}
}
