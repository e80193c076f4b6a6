package apireview

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMarkdownHostileNames: names from the pull request's files cannot
// close the <details>, hide text in an HTML comment, mention people, or
// start a heading of their own.
func TestMarkdownHostileNames(t *testing.T) {
	evil := "x`</details><!-- @octocat\n## Approved [click](javascript:alert(1)) ``"
	head := minimal()
	head["metadata/databases/default/tables/tables.yaml"] = &fstest.MapFile{Data: []byte(
		"- \"!include public_t.yaml\"\n- table: {schema: public, name: " + yamlQuote(evil) + "}\n" +
			"  select_permissions:\n  - role: " + yamlQuote(evil) + "\n    permission: {columns: [" + yamlQuote(evil) + "], filter: {" + yamlQuote(evil) + ": {_eq: 1}}}\n" +
			"- \"!include ../" + strings.ReplaceAll(evil, "\n", " ") + "\"\n")}
	head["metadata/actions.yaml"] = &fstest.MapFile{Data: []byte("actions:\n- name: " + yamlQuote(evil) + "\n  definition: {handler: " + yamlQuote(evil) + "}\n")}
	r := Diff(Load(minimal(), Limits{}), Load(head, Limits{}), Options{})
	md := r.Markdown()
	if len(r.Problems) == 0 || len(r.Tables) != 1 || len(r.Actions) != 1 {
		t.Fatalf("the hostile names were not all read: %+v\n%s", r, md)
	}
	if n := strings.Count(md, "</details>"); n != 1 {
		t.Errorf("%d </details>, want only ours:\n%s", n, md)
	}
	if strings.Contains(md, "<!--") {
		t.Errorf("an HTML comment opener got through:\n%s", md)
	}
	if strings.Contains(md, "@octocat") {
		t.Errorf("a mention got through:\n%s", md)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "## ") {
			t.Errorf("a name started a heading: %q", line)
		}
		if strings.Contains(line, "](javascript:") && !strings.Contains(line, "`") {
			t.Errorf("a link outside code: %q", line)
		}
	}
}

func yamlQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// TestMarkdownCapped: a huge change set renders within the cap and says
// how much it left out.
func TestMarkdownCapped(t *testing.T) {
	head := minimal()
	var b strings.Builder
	b.WriteString("- \"!include public_t.yaml\"\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("- table: {schema: public, name: t" + strings.Repeat("x", 50) + strconv.Itoa(i) + "}\n")
	}
	head["metadata/databases/default/tables/tables.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	r := Diff(Load(minimal(), Limits{}), Load(head, Limits{}), Options{})
	md := r.Markdown()
	if len(md) > maxSection+2000 || !strings.Contains(md, "more not shown here") || len(r.Tables) != 3000 {
		t.Errorf("len %d, %d tables in the report", len(md), len(r.Tables))
	}
}

// TestBrief: the short form keeps the summary and the first problems.
func TestBrief(t *testing.T) {
	r := &Report{Summary: "s", Changed: true, Warnings: 3, Tables: []Change{{Change: Added, Name: "t"}}}
	for i := 0; i < 30; i++ {
		r.Problems = append(r.Problems, Problem{Message: "p"})
	}
	b := r.Brief()
	if b.Summary != "s" || !b.Changed || b.Warnings != 3 || !b.Truncated || len(b.Problems) != 20 || len(b.Tables) != 0 {
		t.Errorf("%+v", b)
	}
}
