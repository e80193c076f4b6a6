package apireview

import (
	"cmp"
	"strings"
)

// Destructive is a statement in a migration that loses data or breaks
// what the API returns: a drop of a table, view, schema or column, a
// truncate, a column type change, a delete or update without a where.
type Destructive struct {
	Kind      string `json:"kind"`
	Line      int    `json:"line"`
	Statement string `json:"statement"`
}

type tokKind uint8

const (
	tWord  tokKind = iota
	tValue         // a string, a number or a quoted name: never a keyword
	tPunct
)

type token struct {
	kind tokKind
	text string // words upper-cased; punctuation as is; strings and quoted names empty
	line int
	pos  int
}

// statement is the tokens between two top-level semicolons, the first
// maxStmtTokens of them: a hostile file of 4 MiB of "(" must not become
// millions of tokens. topWhere is tracked over the whole statement.
type statement struct {
	toks       []token
	start, end int
	depth      int
	topWhere   bool
}

const maxStmtTokens = 20000

// maxDestructive caps the statements listed for one migration.
const maxDestructive = 100

// splitSQL tokenizes PostgreSQL text and calls fn with each statement (the
// token slice is reused after fn returns). It knows what hides a semicolon
// or a keyword: -- and nested /* */ comments, ” and E” strings, "quoted
// identifiers" and $tag$ dollar quoting; unterminated text runs to the end.
func splitSQL(sql string, fn func(statement)) {
	var (
		cur  statement
		line = 1
		i    = 0
		n    = len(sql)
	)
	emit := func(t token) {
		if len(cur.toks) == 0 {
			cur.start = t.pos
		}
		switch {
		case t.kind == tPunct && t.text == "(":
			cur.depth++
		case t.kind == tPunct && t.text == ")":
			cur.depth--
		case t.kind == tWord && t.text == "WHERE" && cur.depth == 0:
			cur.topWhere = true
		}
		if len(cur.toks) < maxStmtTokens {
			cur.toks = append(cur.toks, t)
		}
	}
	for i < n {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && sql[i+1] == '-':
			for i < n && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && sql[i+1] == '*':
			depth := 0
			for i < n {
				switch {
				case strings.HasPrefix(sql[i:], "/*"):
					depth++
					i++
				case strings.HasPrefix(sql[i:], "*/"):
					depth--
					i++
				case sql[i] == '\n':
					line++
				}
				i++
				if depth == 0 {
					break
				}
			}
		case c == '\'' || c == '"':
			start, l0 := i, line
			i, line = skipQuoted(sql, i, line, c, false)
			emit(token{kind: tValue, line: l0, pos: start})
		case c == '$' && i+1 < n && sql[i+1] >= '0' && sql[i+1] <= '9':
			start := i
			i++
			for i < n && sql[i] >= '0' && sql[i] <= '9' {
				i++
			}
			emit(token{kind: tPunct, text: sql[start:i], line: line, pos: start})
		case c == '$':
			start, l0 := i, line
			tagEnd := i + 1
			for tagEnd < n && sql[tagEnd] != '$' && isIdentChar(sql[tagEnd], tagEnd == i+1) {
				tagEnd++
			}
			if tagEnd < n && sql[tagEnd] == '$' {
				tag := sql[i : tagEnd+1]
				body := tagEnd + 1
				end := strings.Index(sql[body:], tag)
				if end < 0 {
					end = n - body
				}
				i = min(n, body+end+len(tag))
				line += strings.Count(sql[body:body+end], "\n")
				emit(token{kind: tValue, line: l0, pos: start})
				continue
			}
			emit(token{kind: tPunct, text: "$", line: line, pos: i})
			i++
		case c == ';':
			if len(cur.toks) > 0 {
				cur.end = i
				fn(cur)
			}
			cur = statement{toks: cur.toks[:0]}
			i++
		case c >= '0' && c <= '9':
			start := i
			for i < n && (isIdentChar(sql[i], false) || sql[i] == '.') {
				i++
			}
			emit(token{kind: tValue, text: sql[start:i], line: line, pos: start})
		case isIdentChar(c, true):
			start := i
			for i < n && isIdentChar(sql[i], false) {
				i++
			}
			word := sql[start:i]
			// A prefixed string: E'…' takes backslash escapes; B'…', X'…', N'…' do not.
			if up := strings.ToUpper(word); i < n && sql[i] == '\'' && (up == "E" || up == "B" || up == "X" || up == "N") {
				i, line = skipQuoted(sql, i, line, '\'', up == "E")
				emit(token{kind: tValue, line: line, pos: start})
				continue
			}
			if strings.EqualFold(word, "U") && i+1 < n && sql[i] == '&' && (sql[i+1] == '\'' || sql[i+1] == '"') {
				i++ // U&'…' and U&"…": the quote is handled next round
				continue
			}
			emit(token{kind: tWord, text: strings.ToUpper(word), line: line, pos: start})
		default:
			emit(token{kind: tPunct, text: string(c), line: line, pos: i})
			i++
		}
	}
	if len(cur.toks) > 0 {
		cur.end = n
		fn(cur)
	}
}

// skipQuoted skips text quoted by q from sql[i] == q (a doubled q stands
// for itself); with backslash set (E strings) a backslash escapes a byte.
func skipQuoted(sql string, i, line int, q byte, backslash bool) (int, int) {
	n := len(sql)
	for i++; i < n; i++ {
		switch sql[i] {
		case '\\':
			if backslash {
				if i+1 < n && sql[i+1] == '\n' {
					line++
				}
				i++
			}
		case q:
			if i+1 < n && sql[i+1] == q {
				i++
				continue
			}
			return i + 1, line
		case '\n':
			line++
		}
	}
	return n, line
}

func isIdentChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '$':
		return !first
	}
	return false
}

// DestructiveStatements lists the statements of a migration that drop or
// rewrite data.
func DestructiveStatements(sql string) []Destructive {
	var out []Destructive
	splitSQL(sql, func(st statement) {
		if kind := classify(st.toks, st.topWhere); kind != "" && len(out) < maxDestructive {
			out = append(out, Destructive{Kind: kind, Line: st.toks[0].line, Statement: cut(compactSpace(sql[st.start:st.end]), 160)})
		}
	})
	return out
}

// kw reports whether toks[i] is the keyword k (quoted identifiers never are).
func kw(toks []token, i int, k string) bool {
	return i < len(toks) && toks[i].kind == tWord && toks[i].text == k
}

// classify names what a statement destroys. topWhere says whether the
// statement has a WHERE outside parentheses (a CTE's own WHERE is inside).
func classify(toks []token, topWhere bool) string {
	if kw(toks, 0, "WITH") {
		// The statement a CTE list leads to is its first top-level
		// SELECT, INSERT, UPDATE or DELETE.
		depth := 0
		for i := 1; i < len(toks); i++ {
			switch {
			case toks[i].kind == tPunct && toks[i].text == "(":
				depth++
			case toks[i].kind == tPunct && toks[i].text == ")":
				depth--
			case depth == 0 && (kw(toks, i, "SELECT") || kw(toks, i, "INSERT") || kw(toks, i, "UPDATE") || kw(toks, i, "DELETE")):
				// CTE bodies are parenthesised: topWhere is the main
				// statement's.
				return classify(toks[i:], topWhere)
			}
		}
		return ""
	}
	switch {
	case kw(toks, 0, "DROP"):
		switch {
		case kw(toks, 1, "TABLE"), kw(toks, 1, "FOREIGN") && kw(toks, 2, "TABLE"):
			return "DROP TABLE"
		case kw(toks, 1, "SCHEMA"):
			return "DROP SCHEMA"
		case kw(toks, 1, "VIEW"), kw(toks, 1, "MATERIALIZED") && kw(toks, 2, "VIEW"):
			return "DROP VIEW"
		}
	case kw(toks, 0, "TRUNCATE"):
		return "TRUNCATE"
	case kw(toks, 0, "ALTER") && kw(toks, 1, "TABLE"):
		return alterTable(toks)
	case kw(toks, 0, "DELETE"), kw(toks, 0, "UPDATE"):
		if !topWhere {
			return toks[0].text + " without WHERE"
		}
	}
	return ""
}

// alterTable looks at each comma-separated action of ALTER TABLE.
func alterTable(toks []token) string {
	depth, start := 0, 2
	// Actions follow the table name: [IF EXISTS] [ONLY] name[.name][*].
	if kw(toks, start, "IF") && kw(toks, start+1, "EXISTS") {
		start += 2
	}
	if kw(toks, start, "ONLY") {
		start++
	}
	start++
	for start+1 < len(toks) && toks[start].kind == tPunct && toks[start].text == "." {
		start += 2
	}
	if start < len(toks) && toks[start].kind == tPunct && toks[start].text == "*" {
		start++
	}
	var found string
	for i := start; i <= len(toks); i++ {
		switch {
		case i == len(toks) || depth == 0 && toks[i].kind == tPunct && toks[i].text == ",":
			found = cmp.Or(found, alterAction(toks[start:i]))
			start = i + 1
		case toks[i].kind == tPunct && toks[i].text == "(":
			depth++
		case toks[i].kind == tPunct && toks[i].text == ")":
			depth--
		}
	}
	return found
}

// alterAction names what one action of ALTER TABLE destroys.
func alterAction(a []token) string {
	switch {
	case kw(a, 0, "DROP") && !kw(a, 1, "CONSTRAINT") && len(a) > 1:
		return "DROP COLUMN"
	case kw(a, 0, "ALTER"):
		i := 1
		if kw(a, i, "COLUMN") {
			i++
		}
		i++ // the column name
		if kw(a, i, "TYPE") || (kw(a, i, "SET") && kw(a, i+1, "DATA") && kw(a, i+2, "TYPE")) {
			return "ALTER COLUMN TYPE"
		}
	}
	return ""
}
