package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

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

// migrate applies our migrations, then River's, each at most once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(s.target.backend)
	if err != nil {
		return err
	}
	if s.db != nil {
		if err := s.migrateSQLite(ctx, ms); err != nil {
			return err
		}
		m, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: s.log})
		if err != nil {
			return err
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrating River: %w", err)
		}
		return nil
	}
	return s.migratePostgres(ctx, ms)
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS hasura_preview_schema (
    version    BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)`

func (s *Store) migrateSQLite(ctx context.Context, ms []migration) error {
	if _, err := s.db.ExecContext(ctx, createVersionTable); err != nil {
		return fmt.Errorf("creating schema table: %w", err)
	}
	for _, m := range ms {
		// BEGIN IMMEDIATE (the DSN's _txlock) makes the check-and-apply atomic
		// against another process opening the same file.
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hasura_preview_schema WHERE version = ?`, m.version).Scan(&n); err != nil {
			_ = tx.Rollback()
			return err
		}
		if n > 0 {
			_ = tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("applying %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO hasura_preview_schema (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, micros(s.Now())); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "applied migration", "store", s, "migration", m.name)
	}
	return nil
}

func (s *Store) migratePostgres(ctx context.Context, ms []migration) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// A session lock, held on this connection while both our migrations and
	// River's run: a second replica waits here and then finds nothing to do.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}()
	if _, err := conn.Exec(ctx, createVersionTable); err != nil {
		return fmt.Errorf("creating schema table: %w", err)
	}
	for _, m := range ms {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM hasura_preview_schema WHERE version = $1`, m.version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("applying %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hasura_preview_schema (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, micros(s.Now())); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "applied migration", "store", s, "migration", m.name)
	}
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: s.log})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating River: %w", err)
	}
	return nil
}
