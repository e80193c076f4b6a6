// Package storetest opens real, throw-away Stores for tests: SQLite in
// t.TempDir() and PostgreSQL in a database of its own on the server named by
// HASURA_PREVIEW_TEST_POSTGRES_URL (the test is skipped when it is unset).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// EnvPostgresURL names the variable holding the test server's URL.
const EnvPostgresURL = "HASURA_PREVIEW_TEST_POSTGRES_URL"

// SQLitePath returns a database path in t.TempDir().
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "hasura-preview.db")
}

// SQLite opens a fresh SQLite Store, closed in t.Cleanup.
func SQLite(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	return Open(t, SQLitePath(t), opts)
}

// PostgresURL creates an empty database for this test and returns its URL;
// the database is dropped in t.Cleanup. It skips the test when
// HASURA_PREVIEW_TEST_POSTGRES_URL is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgresURL)
	if admin == "" {
		t.Skip(EnvPostgresURL + " is not set")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvPostgresURL)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hp_test_" + hex.EncodeToString(b[:])

	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Postgres opens a Store on a fresh database (see PostgresURL), closed in
// t.Cleanup before the database is dropped.
func Postgres(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	return Open(t, PostgresURL(t), opts)
}

// Open opens url and closes the Store in t.Cleanup.
func Open(t testing.TB, url string, opts store.Options) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := store.Open(ctx, url, opts)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Backend is a named way to open a fresh Store, for tests that run on both.
type Backend struct {
	Name string
	Open func(t testing.TB, opts store.Options) *store.Store
}

// Backends returns SQLite and PostgreSQL; the PostgreSQL one skips its test
// when the server is not configured.
func Backends() []Backend {
	return []Backend{{Name: "sqlite", Open: SQLite}, {Name: "postgres", Open: Postgres}}
}

// Installation finds installation id among ListInstallations, or returns an
// error wrapping store.ErrNotFound.
func Installation(ctx context.Context, s *store.Store, id int64) (*store.Installation, error) {
	all, err := s.ListInstallations(ctx)
	if err != nil {
		return nil, err
	}
	for _, inst := range all {
		if inst.ID == id {
			return inst, nil
		}
	}
	return nil, fmt.Errorf("installation %d: %w", id, store.ErrNotFound)
}
