package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationFS embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises replicas
// migrating at the same time ("hprv" + "migr" in ASCII).
const migrationLockKey int64 = 0x68707276_6d696772

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(backend Backend) ([]migration, error) {
	dir := path.Join("migrations", string(backend))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %q is not named NNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS hasura_preview_schema (
    version    BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)`

// sqlConn is a *sql.DB (SQLite) or a *sql.Conn (PostgreSQL, holding the lock).
type sqlConn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// migrate applies our migrations, then River's, each at most once, through
// database/sql on both backends. On PostgreSQL a session lock is held on one
// connection while both run: a second replica waits and then finds nothing
// to do. On SQLite, BEGIN IMMEDIATE (the DSN's _txlock) makes each
// check-and-apply atomic against another process opening the same file.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.target.backend)
	if err != nil {
		return err
	}
	if s.db != nil {
		if err := s.applyMigrations(ctx, s.db, ms, toSQLiteParams); err != nil {
			return err
		}
		return migrateRiver(ctx, riversqlite.New(s.db), s)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}()
	if err := s.applyMigrations(ctx, conn, ms, func(q string) string { return q }); err != nil {
		return err
	}
	return migrateRiver(ctx, riverpgxv5.New(s.pool), s)
}

// applyMigrations runs each migration not yet recorded in one transaction
// with its record; dialect turns $n placeholders into the backend's.
func (s *Store) applyMigrations(ctx context.Context, c sqlConn, ms []migration, dialect func(string) string) error {
	if _, err := c.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("creating schema table: %w", err)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, c, m, micros(s.Now()), dialect)
		if err != nil {
			return err
		}
		if applied {
			s.log.InfoContext(ctx, "applied migration", "store", s, "migration", m.name)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, c sqlConn, m migration, now int64, dialect func(string) string) (bool, error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, dialect(`SELECT count(*) FROM hasura_preview_schema WHERE version = $1`), m.version).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("applying %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, dialect(`INSERT INTO hasura_preview_schema (version, name, applied_at) VALUES ($1, $2, $3)`),
		m.version, m.name, now); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// migrateRiver applies River's own migrations with its migrator.
func migrateRiver[TTx any](ctx context.Context, d riverdriver.Driver[TTx], s *Store) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: s.log})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return wrapf(err, "migrating River")
}
