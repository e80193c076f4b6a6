package apireview

import (
	"slices"
	"testing"
	"testing/fstest"
)

// The v2 layout (config version 2, metadata/tables.yaml as one file,
// migrations/<version>_<name>/up.sql), with tables from the nextjs-13
// sample app rewritten into it.
func v2Project(tables, migration string) fstest.MapFS {
	m := fstest.MapFS{
		"config.yaml":                          {Data: []byte("version: 2\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n")},
		"metadata/version.yaml":                {Data: []byte("version: 2\n")},
		"metadata/tables.yaml":                 {Data: []byte(tables)},
		"metadata/actions.yaml":                {Data: []byte("actions: []\ncustom_types: {}\n")},
		"metadata/functions.yaml":              {Data: []byte("[]\n")},
		"migrations/1646834482402_init/up.sql": {Data: []byte("CREATE TABLE public.product (id serial PRIMARY KEY, name text, price int);\n")},
	}
	if migration != "" {
		m["migrations/1700000000000_drop_price/up.sql"] = &fstest.MapFile{Data: []byte(migration)}
	}
	return m
}

const v2Tables = `- table:
    schema: public
    name: product
  select_permissions:
  - role: anonymous
    permission:
      columns:
      - id
      - name
      filter: {}
  - role: user
    permission:
      columns: '*'
      filter: {}
`

func TestMetadataV2(t *testing.T) {
	base := Load(v2Project(v2Tables, ""), Limits{})
	if len(base.Problems) > 0 || base.Tables["default.public.product"] == nil || len(base.Migrations) != 1 {
		t.Fatalf("v2 base: %+v %+v", base.Problems, base.Tables)
	}
	head := Load(v2Project(v2Tables+`- table:
    schema: public
    name: review
  select_permissions:
  - role: anonymous
    permission:
      columns: [id, body]
      filter: {}
`, "ALTER TABLE public.product DROP COLUMN price;\n"), Limits{})
	r := Diff(base, head, Options{})
	if r.Summary != "1 table added · 1 permission widened ⚠ (1 for the unauthenticated role) · 1 new migration · 1 destructive migration ⚠" {
		t.Errorf("summary %q", r.Summary)
	}
	if len(r.Migrations) != 1 || r.Migrations[0].Database != "default" || r.Migrations[0].Name != "1700000000000_drop_price" {
		t.Errorf("migrations: %+v", r.Migrations)
	}
	p := findPerm(t, r, "public.review", "anonymous", "select")
	if !slices.Equal(p.ColumnsGranted, []string{"body", "id"}) {
		t.Errorf("columns: %+v", p)
	}
}

// TestUnauthorizedRoleOption: the role named by the option gets the
// extra weight, not "anonymous".
func TestUnauthorizedRoleOption(t *testing.T) {
	base := Load(v2Project(v2Tables, ""), Limits{})
	head := Load(v2Project(`- table: {schema: public, name: product}
  select_permissions:
  - role: anonymous
    permission: {columns: '*', filter: {}}
  - role: user
    permission: {columns: '*', filter: {}}
`, ""), Limits{})
	r := Diff(base, head, Options{UnauthorizedRole: "public"})
	if p := findPerm(t, r, "public.product", "anonymous", "select"); p.Unauthenticated || p.Effect != Widened {
		t.Errorf("with role public: %+v", p)
	}
	r = Diff(base, head, Options{})
	if p := findPerm(t, r, "public.product", "anonymous", "select"); !p.Unauthenticated {
		t.Errorf("default role: %+v", p)
	}
}
