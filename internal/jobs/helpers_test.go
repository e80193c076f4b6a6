package jobs

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
)

// recFunc adapts a function to Reconciler.
type recFunc func(ctx context.Context, key string) (time.Duration, error)

func (f recFunc) Reconcile(ctx context.Context, key string) (time.Duration, error) {
	return f(ctx, key)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// testOptions keeps River's real behaviour but without its start-up jitter
// and with quick fetches, so tests take milliseconds.
func testOptions() Options {
	return Options{
		Workers: 4,
		Logger:  quietLogger(),
		Configure: func(cfg *river.Config) {
			cfg.TestOnly = true
			cfg.FetchPollInterval = 50 * time.Millisecond
			cfg.FetchCooldown = 10 * time.Millisecond
		},
	}
}

// newClient builds a client and stops it hard at cleanup (if started).
func newClient(t *testing.T, st *store.Store, rec Reconciler, sw SweepFunc, opts Options) *Client {
	t.Helper()
	c, err := New(st, rec, sw, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.e.StopAndCancel(ctx)
	})
	return c
}

func start(t *testing.T, c *Client) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds; the deadline only guards against a
// hung test, it is not what the test asserts.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stats(t *testing.T, c *Client) map[string]int {
	t.Helper()
	s, err := c.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unfinished(s map[string]int) int {
	return s["available"] + s["running"] + s["scheduled"] + s["retryable"] + s["pending"]
}

func eachBackend(t *testing.T, fn func(t *testing.T, open func(t testing.TB) *store.Store)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			fn(t, func(t testing.TB) *store.Store { return b.Open(t, store.Options{}) })
		})
	}
}

func enqueue(t *testing.T, c *Client, key string) Enqueued {
	t.Helper()
	e, err := c.Enqueue(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// recordCommand bumps the PR's generation the way a delivery would.
func recordCommand(t *testing.T, st *store.Store, key string) {
	t.Helper()
	pr := &store.PullRequest{Key: key, BaseOwner: "o", BaseRepo: "r", Number: 1}
	err := st.WithTx(context.Background(), func(tx *store.Tx) error {
		return tx.RecordCommand(context.Background(), pr, store.Command{Kind: store.CommandRebuild, Actor: "alice"})
	})
	if err != nil {
		t.Error(err)
	}
}

func openSQLite(t testing.TB) *store.Store { return storetest.SQLite(t, store.Options{}) }

func postgresURL(t testing.TB) string { return storetest.PostgresURL(t) }

func openURL(t testing.TB, url string) *store.Store { return storetest.Open(t, url, store.Options{}) }
