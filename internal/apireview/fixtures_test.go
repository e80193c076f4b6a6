package apireview

import (
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

// TestCloudPreviewApps diffs hasura/hasura-cloud-preview-apps' two-database
// project (metadata v3) against a head that touches every kind of object.
func TestCloudPreviewApps(t *testing.T) {
	r := diffDirs(t, "cloud-preview-apps")

	if c := findChange(t, r.Tables, "db1:public.db1_orders"); c.Change != Added {
		t.Errorf("db1_orders: %s, want added", c.Change)
	}
	if c := findChange(t, r.Tables, "db1:public.db1_table_2z"); c.Change != Removed {
		t.Errorf("db1_table_2z: %s, want removed", c.Change)
	}
	if c := findChange(t, r.Relationships, "db1:public.db_1_table2.table_1"); c.Change != Added {
		t.Errorf("relationship table_1: %s", c.Change)
	}
	if c := findChange(t, r.Relationships, "db1:public.db_1_table2.db1_table_1kjdksajglalk"); c.Change != Removed {
		t.Errorf("old relationship: %s", c.Change)
	}

	anon := findPerm(t, r, "db1:public.db1_orders", "anonymous", "select")
	if anon.Effect != Widened || !anon.Unauthenticated || !slices.Equal(anon.ColumnsGranted, []string{"id", "total"}) {
		t.Errorf("anonymous select on db1_orders: %+v", anon)
	}
	if !slices.Equal(anon.InheritedBy, []string{"support"}) {
		t.Errorf("anonymous is in inherited role support: %+v", anon.InheritedBy)
	}
	user := findPerm(t, r, "db2:public.db2_table_1", "user", "select")
	if user.Effect != Widened || !slices.Equal(user.SessionVariables, []string{"X-Hasura-User-Id"}) {
		t.Errorf("user select on db2_table_1: %+v", user)
	}

	// db2_table_2 was reformatted (key order, flow style, quotes): only its
	// new event trigger counts.
	for _, c := range r.Relationships {
		if strings.Contains(c.Name, "db2_table_2") || strings.Contains(c.Name, "db2_table_1") {
			t.Errorf("reformatted relationship reported: %+v", c)
		}
	}
	et := findChange(t, r.EventTriggers, "db2:public.db2_table_2.notify_text")
	if et.Change != Added || et.Details[0].After != "https://hooks.example.com/db2" {
		t.Errorf("event trigger: %+v", et)
	}

	act := findChange(t, r.Actions, "placeOrder")
	if act.Change != Added || !strings.Contains(act.Warn, "unauthenticated") {
		t.Errorf("action placeOrder: %+v", act)
	}
	if c := findChange(t, r.RemoteSchemas, "payments"); c.Change != Added || c.Details[0].After != "https://payments.example.com/graphql" {
		t.Errorf("remote schema: %+v", c)
	}
	if c := findChange(t, r.CronTriggers, "nightly_cleanup"); c.Change != Added {
		t.Errorf("cron trigger: %+v", c)
	}
	if c := findChange(t, r.RestEndpoints, "orders"); c.Change != Added || !strings.Contains(c.Details[0].After, "GET /api/rest/orders") {
		t.Errorf("REST endpoint: %+v", c)
	}
	if c := findChange(t, r.AllowList, "allowed-queries"); c.Change != Added || c.Warn == "" {
		t.Errorf("allow list: %+v", c)
	}
	if c := findChange(t, r.InheritedRoles, "support"); c.Change != Added || c.Warn == "" {
		t.Errorf("inherited role: %+v", c)
	}

	// Two new migrations, each with one destructive statement; the
	// comments and the string that mention DROP and TRUNCATE do not count.
	if len(r.Migrations) != 2 {
		t.Fatalf("migrations: %+v", r.Migrations)
	}
	want := map[string]string{
		"migrations/db1/1700000000000_orders/up.sql":  "DROP TABLE",
		"migrations/db2/1700000000001_cleanup/up.sql": "DROP COLUMN",
	}
	for _, m := range r.Migrations {
		if m.Change != Added || len(m.Destructive) != 1 || m.Destructive[0].Kind != want[m.Path] {
			t.Errorf("migration %s: %+v", m.Path, m)
		}
	}
	if r.Migrations[0].Destructive[0].Line != 5 {
		t.Errorf("DROP TABLE reported at line %d, want 5", r.Migrations[0].Destructive[0].Line)
	}

	wantSummary := "1 table added · 1 table removed · 1 relationship added · 1 relationship removed · " +
		"2 permissions widened ⚠ (1 for the unauthenticated role) · 1 inherited role changed ⚠ · 1 action changed ⚠ · " +
		"1 remote schema changed · 2 triggers changed · 1 REST endpoint changed · 2 allow list changes ⚠ · " +
		"2 new migrations · 2 destructive migrations ⚠"
	if r.Summary != wantSummary {
		t.Errorf("summary\n got %s\nwant %s", r.Summary, wantSummary)
	}

	md := r.Markdown()
	if !strings.HasPrefix(md, Heading+"\n\n"+strings.ReplaceAll(wantSummary, "·", "·")) {
		t.Errorf("Markdown does not start with the summary:\n%s", md)
	}
	if !strings.Contains(md, "<details>") || strings.Count(md, "</details>") != 1 {
		t.Errorf("details block missing:\n%s", md)
	}

	// The report is the action's apiChanges output: it must round-trip.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Summary != r.Summary || len(back.Permissions) != len(r.Permissions) {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
}

// TestNextjs13 diffs graphql-engine's nextjs-13 sample app against a head
// with the tricky permission changes.
func TestNextjs13(t *testing.T) {
	r := diffDirs(t, "nextjs-13")

	// A one-element _and and reordered keys: the same rule.
	noPerm(t, r, "public.order", "user", "select")

	cases := []struct {
		table, role, op string
		effect          Effect
		warn            string
	}{
		{"public.address", "user", "select", Widened, "filter loosened"},           // _or added
		{"public.address", "anonymous", "select", Widened, "unauthenticated role"}, // new role for everyone
		{"public.user", "user", "select", Widened, "filter became {}"},             // every row
		{"public.user", "support", "select", Widened, "new role on this table"},    // new role
		{"public.product_review", "user", "update", Widened, "filter loosened"},    // lost a condition
		{"public.order_product", "user", "insert", Narrowed, ""},                   // gained a condition
		{"public.product", "anonymous", "select", Narrowed, ""},                    // fewer columns, no aggregates
		{"public.product", "user", "select", Narrowed, ""},                         // row limit added
		{"public.order", "site-admin", "delete", Narrowed, ""},                     // removed
	}
	for _, c := range cases {
		p := findPerm(t, r, c.table, c.role, c.op)
		if p.Effect != c.effect || !strings.Contains(p.Warn, c.warn) {
			t.Errorf("%s %s on %s: effect %q warn %q, want %q with %q", c.role, c.op, c.table, p.Effect, p.Warn, c.effect, c.warn)
		}
	}
	support := findPerm(t, r, "public.user", "support", "select")
	if !slices.Equal(support.SessionVariables, []string{"X-Hasura-Org-Id"}) || !slices.Equal(support.ColumnsGranted, []string{"email", "id"}) {
		t.Errorf("support: %+v", support)
	}
	anonProduct := findPerm(t, r, "public.product", "anonymous", "select")
	if len(anonProduct.ColumnsRevoked) != 1 || !strings.HasPrefix(anonProduct.ColumnsRevoked[0], "*") {
		t.Errorf("anonymous product columns: %+v", anonProduct)
	}

	if c := findChange(t, r.Actions, "login"); c.Details[0].After != "https://auth.example.com/login" || c.Warn != "" {
		t.Errorf("login handler: %+v", c)
	}
	if c := findChange(t, r.Actions, "adminSignup"); !strings.Contains(c.Warn, "unauthenticated") {
		t.Errorf("adminSignup opened to anonymous: %+v", c)
	}

	// The migration's function body, string literals and quoted
	// identifier mention DELETE, DROP and TRUNCATE; only the real type
	// change and the UPDATE without WHERE count.
	if len(r.Migrations) != 1 {
		t.Fatalf("migrations: %+v", r.Migrations)
	}
	var kinds []string
	for _, d := range r.Migrations[0].Destructive {
		kinds = append(kinds, d.Kind)
	}
	if !slices.Equal(kinds, []string{"ALTER COLUMN TYPE", "UPDATE without WHERE"}) {
		t.Errorf("destructive: %+v", r.Migrations[0].Destructive)
	}
}

// TestSameProjectNoChange: a project against itself reports nothing.
func TestSameProjectNoChange(t *testing.T) {
	for _, dir := range []string{"cloud-preview-apps/base", "cloud-preview-apps/head", "nextjs-13/base", "nextjs-13/head"} {
		p := Load(os.DirFS("testdata/"+dir), Limits{})
		r := Diff(p, Load(os.DirFS("testdata/"+dir), Limits{}), Options{})
		if r.Summary != "no API change" || r.Changed || r.Markdown() != Heading+"\n\nno API change\n" {
			t.Errorf("%s against itself: %q\n%s", dir, r.Summary, r.Markdown())
		}
	}
}

// TestReformattedNoChange rewrites every YAML file of the real fixtures
// (mapping keys reversed, flow style, every filter and check wrapped in a
// one-element _and) and expects no change at all.
func TestReformattedNoChange(t *testing.T) {
	for _, dir := range []string{"cloud-preview-apps/base", "nextjs-13/base", "nextjs-13/head"} {
		src := os.DirFS("testdata/" + dir)
		out := fstest.MapFS{}
		err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".yaml") {
				var n yaml.Node
				if err := yaml.Unmarshal(data, &n); err != nil {
					return err
				}
				reformat(&n, 0)
				if data, err = yaml.Marshal(&n); err != nil {
					return err
				}
			}
			out[p] = &fstest.MapFile{Data: data}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if string(out["metadata/databases/databases.yaml"].Data) == mustRead(t, "testdata/"+dir+"/metadata/databases/databases.yaml") {
			t.Fatal("the rewrite changed nothing")
		}
		r := Diff(Load(src, Limits{}), Load(out, Limits{}), Options{})
		if r.Changed || len(r.Problems) > 0 {
			t.Errorf("%s reformatted: %s\n%s", dir, r.Summary, r.Markdown())
		}
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func reformat(n *yaml.Node, depth int) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			reformat(c, depth+1)
		}
	case yaml.MappingNode:
		var pairs [][2]*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			reformat(v, depth+1)
			if (k.Value == "filter" || k.Value == "check") && v.Kind == yaml.MappingNode && len(v.Content) > 0 {
				v = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Value: "_and"},
					{Kind: yaml.SequenceNode, Content: []*yaml.Node{v}},
				}}
			}
			pairs = append(pairs, [2]*yaml.Node{k, v})
		}
		slices.Reverse(pairs)
		n.Content = n.Content[:0]
		for _, p := range pairs {
			n.Content = append(n.Content, p[0], p[1])
		}
		if depth > 4 {
			n.Style = yaml.FlowStyle
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" && !strings.HasPrefix(n.Value, "!include") {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
}
