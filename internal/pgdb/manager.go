package pgdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnvVar is one environment variable for the preview app, shaped like the
// Cloud API's UpdateEnvsObject (and convertible to preview.EnvVar).
type EnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// String masks the value: it is a database URL with the server's password.
func (v EnvVar) String() string { return v.Key + "=" + Redact(v.Value) }

// LogValue masks the password for log/slog.
func (v EnvVar) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", v.Key), slog.String("value", Redact(v.Value)))
}

// DefaultConnectTimeout bounds a connection attempt by default: without it
// a server that accepts and never answers holds the caller for as long as
// its context allows, which for the action was forever.
const DefaultConnectTimeout = 10 * time.Second

// dropAttempts bounds the retries of a DROP that lost the race against a
// client reconnecting between terminating its session and the DROP.
const dropAttempts = 3

// Manager creates and drops the ephemeral databases of preview apps on one
// server. It opens one connection per call and holds none in between, so it
// is safe for concurrent use (two calls for the same app still race, as two
// DROP/CREATE sequences would: serialize per app above this package).
type Manager struct {
	cfg    Config
	conn   *pgx.ConnConfig
	scrub  scrubber
	server uriParts
}

// New checks cfg and returns a Manager for it. It does not connect.
func New(cfg Config) (*Manager, error) {
	if cfg.ServerURI == "" {
		return nil, fmt.Errorf("pgdb: %s is empty", KeyServerURI)
	}
	if len(cfg.EnvVars) == 0 {
		return nil, fmt.Errorf("pgdb: %s lists no variable", KeyEnvVars)
	}
	p, err := splitURI(cfg.ServerURI)
	if err != nil {
		return nil, fmt.Errorf("pgdb: %s: %w", KeyServerURI, err)
	}
	connCfg, err := pgx.ParseConfig(cfg.ServerURI)
	if err != nil {
		return nil, fmt.Errorf("pgdb: %s: %s", KeyServerURI, newScrubber(p).scrub(err.Error()))
	}
	if connCfg.ConnectTimeout <= 0 {
		connCfg.ConnectTimeout = DefaultConnectTimeout
	}
	return &Manager{cfg: cfg, conn: connCfg, scrub: newScrubber(p), server: p}, nil
}

// Databases returns the names of app's databases: one, or one per listed
// variable with PerEnvVar.
func (m *Manager) Databases(app string) ([]string, error) {
	if app == "" {
		return nil, errors.New("pgdb: empty app name")
	}
	if !m.cfg.PerEnvVar {
		return []string{DatabaseName(app)}, nil
	}
	names := make([]string, 0, len(m.cfg.EnvVars))
	for _, v := range m.cfg.EnvVars {
		names = append(names, EnvVarDatabaseName(app, v))
	}
	return names, nil
}

// EnvKeys names the app variables Ensure sets.
func (m *Manager) EnvKeys() []string { return append([]string(nil), m.cfg.EnvVars...) }

// Ensure gives app fresh, empty databases (see the package doc) and returns
// each listed variable set to its database's URL, in the config's order.
// The values hold the server's password: log them only as EnvVar.
func (m *Manager) Ensure(ctx context.Context, app string) ([]EnvVar, error) {
	dbs, err := m.Databases(app)
	if err != nil {
		return nil, err
	}
	env := make([]EnvVar, 0, len(m.cfg.EnvVars))
	for i, key := range m.cfg.EnvVars {
		db := dbs[min(i, len(dbs)-1)] // one shared database, or one each
		uri, err := RewriteDatabase(m.cfg.ServerURI, db)
		if err != nil {
			return nil, m.wrap("building the URL of database "+db, err)
		}
		env = append(env, EnvVar{Key: key, Value: uri})
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, db := range dbs {
		if err := m.recreate(ctx, conn, db); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// Drop closes sessions on app's databases and drops them. A database that
// does not exist counts as dropped, so Drop can be repeated safely.
func (m *Manager) Drop(ctx context.Context, app string) error {
	dbs, err := m.Databases(app)
	if err != nil {
		return err
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, db := range dbs {
		if err := m.drop(ctx, conn, db); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, m.conn)
	if err != nil {
		return nil, m.wrap("connecting to the Postgres server "+m.server.hosts, err)
	}
	return conn, nil
}

func (m *Manager) recreate(ctx context.Context, conn *pgx.Conn, db string) error {
	if err := m.drop(ctx, conn, db); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		return m.wrap(fmt.Sprintf("creating database %q", db), err)
	}
	return nil
}

// drop avoids DROP DATABASE ... WITH (FORCE), which needs PostgreSQL 13: it
// sets ALLOW_CONNECTIONS false so that the old preview cannot reconnect,
// terminates the sessions and drops (DROP waits a little for them to exit).
func (m *Manager) drop(ctx context.Context, conn *pgx.Conn, db string) error {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists)
	if err != nil {
		return m.wrap(fmt.Sprintf("looking up database %q", db), err)
	}
	if !exists {
		return nil
	}
	ident := pgx.Identifier{db}.Sanitize()
	// Best effort: a role that may drop the database but not alter it
	// still gets the terminate-and-retry path below.
	_, lockErr := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false")
	for attempt := 1; ; attempt++ {
		var closed int
		err := conn.QueryRow(ctx,
			"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
			db).Scan(&closed)
		if err != nil {
			m.reopen(ctx, conn, ident, lockErr)
			return m.wrap(fmt.Sprintf("closing sessions on database %q", db), err)
		}
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < dropAttempts {
			continue // object_in_use: someone got in between; terminate again
		}
		m.reopen(ctx, conn, ident, lockErr)
		return m.wrap(fmt.Sprintf("dropping database %q", db), err)
	}
}

// reopen undoes ALLOW_CONNECTIONS false after a failed drop, so that a
// failure leaves the database usable rather than locked.
func (m *Manager) reopen(ctx context.Context, conn *pgx.Conn, ident string, lockErr error) {
	if lockErr != nil {
		return
	}
	// Best effort: the caller reports the drop's own error.
	_, _ = conn.Exec(context.WithoutCancel(ctx), "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS true")
}

// Error is the error type of Manager's operations. Its message is scrubbed
// of the server URI and password. Unwrap exposes only what is safe to
// classify with: context cancellation and the server's *pgconn.PgError,
// never pgx's connection errors, whose text may quote the connection string.
type Error struct {
	msg   string
	cause error
}

// Error returns the scrubbed message.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the safe cause, if any.
func (e *Error) Unwrap() error { return e.cause }

func (m *Manager) wrap(op string, err error) error {
	e := &Error{msg: "pgdb: " + op + ": " + m.scrub.scrub(err.Error())}
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	case errors.As(err, &pgErr):
		e.cause = pgErr
	}
	return e
}
