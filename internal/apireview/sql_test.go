package apireview

import (
	"slices"
	"strings"
	"testing"
)

func TestDestructiveStatements(t *testing.T) {
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"drop table", `DROP TABLE public.users;`, []string{"DROP TABLE"}},
		{"drop table lower case, if exists", `drop table if exists "public"."users" cascade`, []string{"DROP TABLE"}},
		{"drop schema", `DROP SCHEMA legacy CASCADE;`, []string{"DROP SCHEMA"}},
		{"drop view and materialized view", `DROP VIEW v; DROP MATERIALIZED VIEW mv;`, []string{"DROP VIEW", "DROP VIEW"}},
		{"truncate", `TRUNCATE TABLE audit RESTART IDENTITY;`, []string{"TRUNCATE"}},
		{"drop column", `ALTER TABLE ONLY public.users DROP COLUMN email;`, []string{"DROP COLUMN"}},
		{"drop column without COLUMN", `ALTER TABLE users DROP IF EXISTS email`, []string{"DROP COLUMN"}},
		{"drop column second action", `ALTER TABLE users ADD COLUMN a int, DROP COLUMN b;`, []string{"DROP COLUMN"}},
		{"table named like an action", `ALTER TABLE public.owner DROP COLUMN x;`, []string{"DROP COLUMN"}},
		{"drop constraint is not", `ALTER TABLE users DROP CONSTRAINT users_email_key;`, nil},
		{"drop default is not", `ALTER TABLE users ALTER COLUMN email DROP DEFAULT, ALTER COLUMN email DROP NOT NULL;`, nil},
		{"type change", `ALTER TABLE users ALTER COLUMN age TYPE bigint USING age::bigint;`, []string{"ALTER COLUMN TYPE"}},
		{"type change SET DATA TYPE", `ALTER TABLE users ALTER age SET DATA TYPE text;`, []string{"ALTER COLUMN TYPE"}},
		{"column named type", `ALTER TABLE t ALTER COLUMN type SET DEFAULT 'a';`, nil},
		{"delete without where", `DELETE FROM sessions;`, []string{"DELETE without WHERE"}},
		{"delete with where", `DELETE FROM sessions WHERE expires < now();`, nil},
		{"delete with where in a subquery only", `DELETE FROM s USING (SELECT id FROM x WHERE y) q;`, []string{"DELETE without WHERE"}},
		{"update without where", `UPDATE users SET admin = true;`, []string{"UPDATE without WHERE"}},
		{"update with where", `UPDATE users SET admin = true WHERE id = 1;`, nil},
		{"cte delete", `WITH old AS (SELECT id FROM t WHERE x) DELETE FROM t;`, []string{"DELETE without WHERE"}},
		{"cte select", `WITH gone AS (DELETE FROM t WHERE a RETURNING *) SELECT * FROM gone;`, nil},
		{"line comment", "-- DROP TABLE users;\nSELECT 1;", nil},
		{"nested block comment", "/* outer /* inner */ DROP TABLE users; */ SELECT 1;", nil},
		{"unterminated comment hides the rest", "/* DROP TABLE users;", nil},
		{"string with doubled quote", `INSERT INTO t VALUES ('it''s; DROP TABLE users');`, nil},
		{"E string with backslash quote", `INSERT INTO t VALUES (E'it\'s; DROP TABLE users');`, nil},
		{"plain string ends at backslash quote", `SELECT 'a\'; DROP TABLE users; --';`, []string{"DROP TABLE"}},
		{"quoted identifier", `SELECT "DROP TABLE x; TRUNCATE y" FROM t;`, nil},
		{"dollar quoted body", "CREATE FUNCTION f() RETURNS void AS $$ BEGIN DELETE FROM t; END $$ LANGUAGE plpgsql;", nil},
		{"tagged dollar quote", "DO $x$ BEGIN TRUNCATE t; $$ still inside $$ END $x$; DROP TABLE t;", []string{"DROP TABLE"}},
		{"positional parameter is not a quote", "UPDATE t SET a = $1; DELETE FROM t;", []string{"UPDATE without WHERE", "DELETE without WHERE"}},
		{"identifier with dollar", "SELECT a$b$ FROM t; TRUNCATE t;", []string{"TRUNCATE"}},
		{"create only", "CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN x int;", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, d := range DestructiveStatements(c.sql) {
				got = append(got, d.Kind)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s\n got %q\nwant %q", c.sql, got, c.want)
			}
		})
	}
}

func TestDestructiveLine(t *testing.T) {
	sql := "CREATE TABLE a (x text);\n/* two\nlines */\nINSERT INTO a VALUES ('multi\nline');\n\n  DROP TABLE a;\n"
	d := DestructiveStatements(sql)
	if len(d) != 1 || d[0].Line != 7 || d[0].Statement != "DROP TABLE a" {
		t.Errorf("got %+v, want DROP TABLE at line 7", d)
	}
}

// TestSplitSQLBounded: a statement of millions of tokens keeps only the
// first maxStmtTokens, and a WHERE past them still counts.
func TestSplitSQLBounded(t *testing.T) {
	huge := "UPDATE t SET a = " + strings.Repeat("(", 1<<20) + strings.Repeat(")", 1<<20) + " WHERE id = 1; DELETE FROM u " + strings.Repeat("x ", 1<<20) + ";"
	var lens []int
	splitSQL(huge, func(st statement) { lens = append(lens, len(st.toks)) })
	if !slices.Equal(lens, []int{maxStmtTokens, maxStmtTokens}) {
		t.Fatalf("statement token counts %v", lens)
	}
	d := DestructiveStatements(huge)
	if len(d) != 1 || d[0].Kind != "DELETE without WHERE" {
		t.Errorf("%+v", d)
	}
}

// TestManyStatements: a migration of millions of statements is read one
// statement at a time, and the list of destructive ones is capped.
func TestManyStatements(t *testing.T) {
	d := DestructiveStatements(strings.Repeat("TRUNCATE t;", 300_000))
	if len(d) != maxDestructive || d[0].Kind != "TRUNCATE" {
		t.Errorf("%d statements listed", len(d))
	}
}
