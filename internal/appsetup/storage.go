package appsetup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// ErrAlreadyStored means an App's credentials are stored already: a second
// App would orphan the first one's installations.
var ErrAlreadyStored = errors.New("a GitHub App is already stored")

// Storage keeps the credentials of the App that setup created.
type Storage interface {
	// Load returns the stored credentials, or nil when there are none.
	Load(ctx context.Context) (*Credentials, error)
	Save(ctx context.Context, c *Credentials) error // ErrAlreadyStored when they are
	// String says where, for logs and pages (never a password).
	String() string
}

// CredentialsFileSuffix names the credentials file beside a SQLite
// database: hasura-preview.db → hasura-preview.db.github-app.json.
const CredentialsFileSuffix = ".github-app.json"

// StorageFor keeps the App's credentials beside st's SQLite file or in its
// PostgreSQL database; for an in-memory database it errs, as its Save does.
func StorageFor(st *store.Store) (Storage, error) {
	if pool := st.Pool(); pool != nil {
		return &PostgresStorage{Pool: pool}, nil
	}
	path := st.SQLitePath()
	if path == "" {
		err := errors.New("an in-memory SQLite database has no directory to keep the GitHub App's credentials in: use a database file or PostgreSQL")
		return noStorage{err}, err
	}
	return &FileStorage{Path: path + CredentialsFileSuffix}, nil
}

// noStorage stores nothing, and says why when asked to.
type noStorage struct{ err error }

func (n noStorage) Load(context.Context) (*Credentials, error) { return nil, nil }
func (n noStorage) Save(context.Context, *Credentials) error   { return n.err }
func (n noStorage) String() string                             { return "nowhere" }

// FileStorage keeps the credentials as JSON in a file of mode 0600.
type FileStorage struct {
	Path string
}

// String names the file.
func (f *FileStorage) String() string { return "file " + f.Path }

// Load reads the file; a missing file means nothing is stored.
func (f *FileStorage) Load(context.Context) (*Credentials, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		// The os error names the path and the reason, not the content.
		return nil, fmt.Errorf("reading the GitHub App's credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("reading the GitHub App's credentials: %s is not valid JSON; restore it, or remove it and create the App again at /setup", f.Path)
	}
	return &c, nil
}

// Save writes a temporary 0600 file and links it into place, so the file
// is never half-written or readable by others, nor an existing one replaced.
func (f *FileStorage) Save(_ context.Context, c *Credentials) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, ".github-app-*.tmp")
	if err != nil {
		return fmt.Errorf("storing the GitHub App's credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes it 0600 already; Chmod states the intent.
	_, werr := tmp.Write(append(data, '\n'))
	if werr = errors.Join(tmp.Chmod(0o600), werr, tmp.Sync(), tmp.Close()); werr != nil {
		return fmt.Errorf("storing the GitHub App's credentials: %w", werr)
	}
	if err := os.Link(tmp.Name(), f.Path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w (%s)", ErrAlreadyStored, f.Path)
		}
		return fmt.Errorf("storing the GitHub App's credentials: %w", err)
	}
	return nil
}

// PostgresStorage keeps the credentials in one row, which every replica finds.
type PostgresStorage struct {
	Pool *pgxpool.Pool
}

// String names the table.
func (p *PostgresStorage) String() string { return "PostgreSQL table " + credentialsTable }

const credentialsTable = "hasura_preview_github_app"

// The table has at most one row: the primary key can only be true.
const createCredentialsTable = `CREATE TABLE IF NOT EXISTS ` + credentialsTable + ` (
    singleton   boolean PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    credentials jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
)`

// pgUndefinedTable is PostgreSQL's SQLSTATE for a missing table.
const pgUndefinedTable = "42P01"

// Load reads the row; no table or no row means nothing is stored.
func (p *PostgresStorage) Load(ctx context.Context) (*Credentials, error) {
	var data []byte
	err := p.Pool.QueryRow(ctx, `SELECT credentials FROM `+credentialsTable+` WHERE singleton`).Scan(&data)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == pgUndefinedTable:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the GitHub App's credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("reading the GitHub App's credentials: the stored row is not valid JSON")
	}
	return &c, nil
}

// Save inserts the row, creating the table on first use.
func (p *PostgresStorage) Save(ctx context.Context, c *Credentials) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := p.Pool.Exec(ctx, createCredentialsTable); err != nil {
		return fmt.Errorf("creating the table for the GitHub App's credentials: %w", err)
	}
	tag, err := p.Pool.Exec(ctx, `INSERT INTO `+credentialsTable+` (credentials) VALUES ($1) ON CONFLICT (singleton) DO NOTHING`, string(data))
	if err != nil {
		// pgx's error names the statement, not the parameters.
		return fmt.Errorf("storing the GitHub App's credentials: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrAlreadyStored
	}
	return nil
}
