package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Logger receives migration notices. Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock for every stored time. Defaults to time.Now.
	Now func() time.Time
}

// Store is the service's database. It is safe for concurrent use.
type Store struct {
	target   target
	now      func() time.Time
	log      *slog.Logger
	db       *sql.DB     // SQLite
	prepared []*sql.Stmt // SQLite, indexed by stmt.id
	// txTurn hands SQLite's one connection to transactions in arrival
	// order: database/sql gives a freed connection to a random waiter,
	// which makes the slowest of a burst of deliveries wait far longer.
	txTurn chan struct{}
	pool   *pgxpool.Pool // PostgreSQL
	q      querier
}

// Open connects to url (see parseTarget; "" is DefaultSQLitePath), applies
// this package's migrations and River's, and returns the Store. Several
// processes may Open one PostgreSQL database at once.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	t, err := parseTarget(url)
	if err != nil {
		return nil, err
	}
	s := &Store{target: t, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	switch t.backend {
	case SQLite:
		err = s.openSQLite(ctx)
	case Postgres:
		err = s.openPostgres(ctx)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("opening %s: %w", t.display, err)
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context) error {
	if err := createPrivate(s.target.path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", s.target.dsn)
	if err != nil {
		return err
	}
	s.db = db
	s.txTurn = make(chan struct{}, 1)
	// River and this package share one connection: SQLite allows one writer,
	// and a second connection would only trade waiting for SQLITE_BUSY.
	db.SetMaxOpenConns(1) // and so at most one idle; connections never expire by default
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	s.prepared = make([]*sql.Stmt, len(registry))
	for _, st := range registry {
		ps, err := db.PrepareContext(ctx, st.lite)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", st.lite, err)
		}
		s.prepared[st.id] = ps
	}
	s.q = liteQuerier{s: s}
	return nil
}

func (s *Store) openPostgres(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(s.target.dsn)
	if err != nil {
		// pgx's parse error keeps the raw URL in a field: never wrap it.
		return errors.New("invalid PostgreSQL URL")
	}
	// Migrations hold one connection (the advisory lock) while River's
	// migrator needs another; River's own services want several.
	cfg.MaxConns = max(cfg.MaxConns, 4)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return scrub(err, s.target.secret)
	}
	s.pool = pool
	s.q = pgQuerier{s: s, x: pool}
	if err := pool.Ping(ctx); err != nil {
		return scrub(err, s.target.secret)
	}
	return scrub(s.migrate(ctx), s.target.secret)
}

// Close releases the database. Stop River clients that use the Store first.
func (s *Store) Close() {
	for _, ps := range s.prepared {
		if ps != nil {
			_ = ps.Close()
		}
	}
	if s.db != nil {
		_ = s.db.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}

// Backend reports which engine the Store runs on.
func (s *Store) Backend() Backend { return s.target.backend }

// DB is the SQLite handle (nil on PostgreSQL), for River's riversqlite driver.
// It has a single connection: see the package comment.
func (s *Store) DB() *sql.DB { return s.db }

// SQLitePath is the SQLite database file: "" on PostgreSQL and for an
// in-memory SQLite database.
func (s *Store) SQLitePath() string { return s.target.path }

// Pool is the PostgreSQL pool (nil on SQLite), for River's riverpgxv5 driver.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Now is the Store's clock, for callers that compare with stored times.
func (s *Store) Now() time.Time { return s.now().UTC() }

// String names the database without its password.
func (s *Store) String() string { return s.target.display }

// LogValue lets slog print the Store without its password.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.target.display) }

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	var err error
	if s.db != nil {
		err = s.db.PingContext(ctx)
	} else {
		err = s.pool.Ping(ctx)
	}
	return wrapf(scrub(err, s.target.secret), "pinging %s", s.target.display)
}

// Tx is a transaction, handed to the function given to WithTx. It carries
// the intake's writes; River's InsertTx runs on the same transaction through
// SQL or Pgx.
type Tx struct {
	s   *Store
	sql *sql.Tx
	pgx pgx.Tx
	q   querier
}

// SQL is the underlying SQLite transaction (nil on PostgreSQL).
func (tx *Tx) SQL() *sql.Tx { return tx.sql }

// Pgx is the underlying PostgreSQL transaction (nil on SQLite).
func (tx *Tx) Pgx() pgx.Tx { return tx.pgx }

// Now is the Store's clock.
func (tx *Tx) Now() time.Time { return tx.s.Now() }

// WithTx runs fn in one transaction and commits it if fn returns nil. On
// PostgreSQL a serialization failure or deadlock re-runs fn (up to three
// times), so fn must not have effects outside the transaction. On SQLite, fn
// must not call methods of the Store itself: the transaction holds the only
// connection.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.db != nil {
		select {
		case s.txTurn <- struct{}{}: // blocked senders are served first come, first served
		case <-ctx.Done():
			return fmt.Errorf("beginning transaction: %w", ctx.Err())
		}
		defer func() { <-s.txTurn }()
		return s.runTx(ctx, fn)
	}
	var err error
	for range 3 {
		err = s.runTx(ctx, fn)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "40001" && pgErr.Code != "40P01") {
			return err
		}
	}
	return err
}

// runTx is one attempt of WithTx.
func (s *Store) runTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx := &Tx{s: s}
	var err error
	if s.db != nil {
		tx.sql, err = s.db.BeginTx(ctx, nil)
		tx.q = liteQuerier{s: s, tx: tx.sql}
	} else {
		tx.pgx, err = s.pool.Begin(ctx)
		tx.q = pgQuerier{s: s, x: tx.pgx}
	}
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", scrub(err, s.target.secret))
	}
	if err := fn(tx); err != nil {
		// A fresh context: the caller's may be the reason fn failed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.end(rctx, false)
		return err
	}
	if err := tx.end(ctx, true); err != nil {
		return fmt.Errorf("committing: %w", scrub(err, s.target.secret))
	}
	return nil
}

// end commits the transaction or rolls it back, on its backend.
func (tx *Tx) end(ctx context.Context, commit bool) error {
	switch {
	case tx.sql != nil && commit:
		return tx.sql.Commit()
	case tx.sql != nil:
		return tx.sql.Rollback()
	case commit:
		return tx.pgx.Commit(ctx)
	default:
		return tx.pgx.Rollback(ctx)
	}
}

// createPrivate creates the SQLite file (and so its -wal and -shm files)
// readable by its owner only, not under the umask: it holds every PR's
// state. An existing file is left as the operator made it.
func createPrivate(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating the database file: %w", err)
	}
	return f.Close()
}
