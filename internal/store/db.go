package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// stmt is one SQL statement, written once in PostgreSQL's $n style. SQLite
// gets the same text with ?n: SQLite's own $name parameters are named, bound
// in order of first appearance, which silently misbinds "$2 ... $1".
type stmt struct {
	id   int
	pg   string
	lite string
}

// registry holds every statement so that Open can prepare them all on the
// SQLite connection before any transaction exists (preparing on the pool
// while a Tx holds the only connection would wait forever).
var registry []*stmt

func newStmt(q string) *stmt {
	s := &stmt{id: len(registry), pg: q, lite: toSQLiteParams(q)}
	registry = append(registry, s)
	return s
}

// newStmtLite registers a statement whose SQLite text differs beyond
// placeholders (lite is still written with $n).
func newStmtLite(pg, lite string) *stmt {
	s := newStmt(pg)
	s.lite = toSQLiteParams(lite)
	return s
}

var pgParam = regexp.MustCompile(`\$([0-9])`)

func toSQLiteParams(q string) string { return pgParam.ReplaceAllString(q, "?$1") }

// querier runs registered statements on a pool or inside a transaction, the
// same way on both backends.
type querier interface {
	exec(ctx context.Context, st *stmt, args ...any) (int64, error)
	query(ctx context.Context, st *stmt, args ...any) (rows, error)
	queryRow(ctx context.Context, st *stmt, args ...any) row
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

type row interface{ Scan(dest ...any) error }

// liteQuerier runs prepared statements on the single SQLite connection.
type liteQuerier struct {
	s  *Store
	tx *sql.Tx // nil outside a transaction
}

func (q liteQuerier) stmt(ctx context.Context, st *stmt) *sql.Stmt {
	ps := q.s.prepared[st.id]
	if q.tx != nil {
		// Re-uses the statement already prepared on this (the only) connection.
		return q.tx.StmtContext(ctx, ps)
	}
	return ps
}

func (q liteQuerier) exec(ctx context.Context, st *stmt, args ...any) (int64, error) {
	res, err := q.stmt(ctx, st).ExecContext(ctx, textArgs(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q liteQuerier) query(ctx context.Context, st *stmt, args ...any) (rows, error) {
	r, err := q.stmt(ctx, st).QueryContext(ctx, textArgs(args)...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (q liteQuerier) queryRow(ctx context.Context, st *stmt, args ...any) row {
	return q.stmt(ctx, st).QueryRowContext(ctx, textArgs(args)...)
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// pgExecutor is satisfied by both *pgxpool.Pool and pgx.Tx; pgx caches the
// prepared statement per connection by itself.
type pgExecutor interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgQuerier struct {
	s *Store
	x pgExecutor
}

func (q pgQuerier) exec(ctx context.Context, st *stmt, args ...any) (int64, error) {
	tag, err := q.x.Exec(ctx, st.pg, textArgs(args)...)
	if err != nil {
		return 0, scrub(err, q.s.target.secret)
	}
	return tag.RowsAffected(), nil
}

func (q pgQuerier) query(ctx context.Context, st *stmt, args ...any) (rows, error) {
	r, err := q.x.Query(ctx, st.pg, textArgs(args)...)
	if err != nil {
		return nil, scrub(err, q.s.target.secret)
	}
	return r, nil
}

func (q pgQuerier) queryRow(ctx context.Context, st *stmt, args ...any) row {
	return pgRow{q.x.QueryRow(ctx, st.pg, textArgs(args)...), q.s.target.secret}
}

type pgRow struct {
	r      pgx.Row
	secret string
}

func (r pgRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return scrub(err, r.secret)
}

// textArgs drops U+0000 from string arguments and replaces invalid UTF-8
// with U+FFFD: PostgreSQL's text can hold neither, yet any payload field or
// unsigned header may carry them, and a delivery that can never be stored
// would be answered 500 and redelivered for nothing. Both backends store the
// same cleaned value.
func textArgs(args []any) []any {
	var out []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok || (!strings.Contains(s, "\x00") && utf8.ValidString(s)) {
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	}
	if out == nil {
		return args
	}
	return out
}

// micros converts a time for storage; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// noRows reports whether err means "no such row" on either backend.
func noRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}

// wrapf adds context to err, keeping nil as nil.
func wrapf(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(a, err)...)
}
