package pgdb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/testnet"
)

// TestConnectIsBounded: a server that never answers ends the call with an
// error after the connect timeout, even when the caller's context has no
// deadline (the action's had none).
func TestConnectIsBounded(t *testing.T) {
	const password = "pw-of-the-black-hole"
	uri := "postgres://admin:" + password + "@" + testnet.BlackHole(t) + "/postgres?sslmode=disable"
	m, err := pgdb.NewWithConnectTimeout(pgdb.Config{ServerURI: uri, EnvVars: []string{"PG_DATABASE_URL"}}, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := m.Ensure(context.Background(), "shop-pr-1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Ensure against a black hole succeeded")
		}
		if strings.Contains(err.Error(), password) {
			t.Fatalf("the error shows the password: %v", err)
		}
	case <-time.After(time.Minute):
		// A watchdog far beyond the timeout, not a speed check.
		t.Fatal("Ensure still waits on a server that never answers")
	}
}

// TestNewBoundsConnect: New bounds a connection attempt by default (the
// test above shortens that bound, so it cannot see it), and a URI's own
// connect_timeout is kept.
func TestNewBoundsConnect(t *testing.T) {
	for uri, want := range map[string]time.Duration{
		"postgres://admin:pw@db:5432/postgres":                   pgdb.DefaultConnectTimeout,
		"postgres://admin:pw@db:5432/postgres?connect_timeout=3": 3 * time.Second,
	} {
		m, err := pgdb.New(pgdb.Config{ServerURI: uri, EnvVars: []string{"PG_DATABASE_URL"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := pgdb.ConnectTimeout(m); got != want {
			t.Errorf("%s: connect timeout %s, want %s", pgdb.Redact(uri), got, want)
		}
	}
}
