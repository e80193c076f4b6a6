package appsetup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/appsetup"
	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

func sampleCredentials() *appsetup.Credentials {
	return &appsetup.Credentials{
		AppID: 880001, Slug: "hasura-preview", Name: "hasura-preview", Owner: "acme",
		HTMLURL:       "https://github.com/apps/hasura-preview",
		PrivateKeyPEM: "-----BEGIN RSA PRIVATE KEY-----\nsecret-key-body\n-----END RSA PRIVATE KEY-----\n",
		WebhookSecret: "whsec-stored-0123", ClientID: "Iv1.abc", ClientSecret: "client-secret-4567",
		CreatedAt: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC),
	}
}

// The file beside a SQLite database: only its owner can read it, it is
// never replaced, and what is read back is what was stored.
func TestFileStorage(t *testing.T) {
	st := storetest.SQLite(t, store.Options{})
	storage, err := appsetup.StorageFor(st)
	if err != nil {
		t.Fatal(err)
	}
	fs, ok := storage.(*appsetup.FileStorage)
	if !ok || fs.Path != st.SQLitePath()+appsetup.CredentialsFileSuffix {
		t.Fatalf("StorageFor(SQLite) = %v", storage)
	}
	ctx := context.Background()
	if c, err := fs.Load(ctx); c != nil || err != nil {
		t.Fatalf("Load before Save = %v, %v", c, err)
	}
	want := sampleCredentials()
	if err := fs.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(fs.Path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file mode %#o, want 0600", mode)
	}
	got, err := fs.Load(ctx)
	if err != nil || *got != *want {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := fs.Save(ctx, &appsetup.Credentials{AppID: 2}); !errors.Is(err, appsetup.ErrAlreadyStored) {
		t.Errorf("second Save = %v, want ErrAlreadyStored", err)
	}
	if got, _ := fs.Load(ctx); got.AppID != want.AppID {
		t.Error("the second Save replaced the first App")
	}
	// No temporary file is left behind.
	entries, _ := os.ReadDir(filepath.Dir(fs.Path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestCorruptFileIsNamedNotShown(t *testing.T) {
	fs := &appsetup.FileStorage{Path: filepath.Join(t.TempDir(), "x.github-app.json")}
	if err := os.WriteFile(fs.Path, []byte(`{"pem":"-----BEGIN secret-body`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := fs.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), fs.Path) || strings.Contains(err.Error(), "secret-body") {
		t.Errorf("Load of a corrupt file = %v", err)
	}
}

func TestInMemorySQLiteHasNoStorage(t *testing.T) {
	st := storetest.Open(t, "file:mem?mode=memory", store.Options{})
	if _, err := appsetup.StorageFor(st); err == nil || !strings.Contains(err.Error(), "in-memory") {
		t.Errorf("StorageFor(in-memory) = %v", err)
	}
}

func TestPostgresStorage(t *testing.T) {
	st := storetest.Postgres(t, store.Options{})
	storage, err := appsetup.StorageFor(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := storage.(*appsetup.PostgresStorage); !ok {
		t.Fatalf("StorageFor(PostgreSQL) = %v", storage)
	}
	ctx := context.Background()
	if c, err := storage.Load(ctx); c != nil || err != nil {
		t.Fatalf("Load before the table exists = %v, %v", c, err)
	}
	want := sampleCredentials()
	if err := storage.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	// Another replica's view: a second Storage on the same database.
	other := &appsetup.PostgresStorage{Pool: st.Pool()}
	got, err := other.Load(ctx)
	if err != nil || *got != *want {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := other.Save(ctx, &appsetup.Credentials{AppID: 2}); !errors.Is(err, appsetup.ErrAlreadyStored) {
		t.Errorf("second Save = %v, want ErrAlreadyStored", err)
	}
	if s := fmt.Sprint(storage); strings.Contains(s, "postgres://") {
		t.Errorf("String shows the database URL: %s", s)
	}
}

// A state is good once, for an hour.
func TestMemoryStates(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC))
	states := appsetup.NewMemoryStates(clk.Now)
	testStates(t, states, func() { clk.Advance(appsetup.StateTTL) })
}

func TestPostgresStates(t *testing.T) {
	st := storetest.Postgres(t, store.Options{})
	states := appsetup.StatesFor(st, nil)
	if _, ok := states.(*appsetup.PostgresStates); !ok {
		t.Fatalf("StatesFor(PostgreSQL) = %T", states)
	}
	testStates(t, states, func() {
		// The database's clock decides: move the rows back instead.
		if _, err := st.Pool().Exec(context.Background(), `UPDATE hasura_preview_setup_states SET expires_at = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
	})
}

func testStates(t *testing.T, states appsetup.States, expire func()) {
	t.Helper()
	ctx := context.Background()
	a, err := states.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := states.Issue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || len(a) < 40 {
		t.Fatalf("states %q and %q", a, b)
	}
	for _, tt := range []struct {
		state string
		want  bool
	}{{"forged", false}, {"", false}, {a, true}, {a, false}} {
		if ok, err := states.Consume(ctx, tt.state); ok != tt.want || err != nil {
			t.Errorf("Consume(%q) = %v, %v; want %v", tt.state, ok, err, tt.want)
		}
	}
	expire()
	if ok, err := states.Consume(ctx, b); ok || err != nil {
		t.Errorf("Consume(expired) = %v, %v", ok, err)
	}
}

// Each GET /setup issues a state; the oldest give way past a bound.
func TestMemoryStatesAreBounded(t *testing.T) {
	states := appsetup.NewMemoryStates(nil)
	ctx := context.Background()
	first, _ := states.Issue(ctx)
	var last string
	for range 1000 {
		last, _ = states.Issue(ctx)
	}
	if ok, _ := states.Consume(ctx, first); ok {
		t.Error("the first of 1001 states is still kept")
	}
	if ok, _ := states.Consume(ctx, last); !ok {
		t.Error("the newest state was dropped")
	}
}
