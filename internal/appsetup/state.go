package appsetup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// StateTTL is how long an issued state is accepted: GitHub's docs say
// "You must complete all three steps in the GitHub App Manifest flow
// within one hour."
const StateTTL = time.Hour

// maxStates bounds the states kept in memory: each GET /setup issues one.
const maxStates = 64

// States issues the state sent along with the manifest and accepts each
// once before it expires, so that a forged callback is refused.
type States interface {
	Issue(ctx context.Context) (string, error)
	// Consume reports whether state was issued, unexpired and unconsumed.
	Consume(ctx context.Context, state string) (bool, error)
}

// StatesFor keeps states in st's PostgreSQL database, which every replica
// shares, or in memory for a single SQLite replica.
func StatesFor(st *store.Store, now func() time.Time) States {
	if pool := st.Pool(); pool != nil {
		return &PostgresStates{Pool: pool}
	}
	return NewMemoryStates(now)
}

func newState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// MemoryStates keeps states in the process.
type MemoryStates struct {
	now    func() time.Time
	mu     sync.Mutex
	issued map[string]time.Time // state → expiry
}

// NewMemoryStates returns an empty MemoryStates on the clock now [time.Now].
func NewMemoryStates(now func() time.Time) *MemoryStates {
	if now == nil {
		now = time.Now
	}
	return &MemoryStates{now: now, issued: map[string]time.Time{}}
}

// Issue returns a new state, dropping expired ones and, past maxStates,
// the oldest.
func (m *MemoryStates) Issue(context.Context) (string, error) {
	s := newState()
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	oldest, oldestAt := "", time.Time{}
	for k, exp := range m.issued {
		if !now.Before(exp) {
			delete(m.issued, k)
			continue
		}
		if oldest == "" || exp.Before(oldestAt) {
			oldest, oldestAt = k, exp
		}
	}
	if len(m.issued) >= maxStates {
		delete(m.issued, oldest)
	}
	m.issued[s] = now.Add(StateTTL)
	return s, nil
}

// Consume accepts an issued, unexpired state once.
func (m *MemoryStates) Consume(_ context.Context, state string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.issued[state]
	if !ok {
		return false, nil
	}
	delete(m.issued, state)
	return m.now().Before(exp), nil
}

// PostgresStates keeps hashes of states in a table, shared by every replica.
type PostgresStates struct {
	Pool *pgxpool.Pool
}

const statesTable = "hasura_preview_setup_states"

const createStatesTable = `CREATE TABLE IF NOT EXISTS ` + statesTable + ` (
    state_hash text PRIMARY KEY,
    expires_at timestamptz NOT NULL
)`

func hashState(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Issue stores a new state and drops expired ones, on the database's clock.
func (p *PostgresStates) Issue(ctx context.Context) (string, error) {
	s := newState()
	if _, err := p.Pool.Exec(ctx, createStatesTable); err != nil {
		return "", fmt.Errorf("creating the setup state table: %w", err)
	}
	if _, err := p.Pool.Exec(ctx, `DELETE FROM `+statesTable+` WHERE expires_at <= now()`); err != nil {
		return "", fmt.Errorf("dropping expired setup states: %w", err)
	}
	if _, err := p.Pool.Exec(ctx, `INSERT INTO `+statesTable+` (state_hash, expires_at) VALUES ($1, now() + make_interval(secs => $2))`,
		hashState(s), StateTTL.Seconds()); err != nil {
		return "", fmt.Errorf("storing a setup state: %w", err)
	}
	return s, nil
}

// Consume deletes the state's row; only the first of concurrent callers gets it.
func (p *PostgresStates) Consume(ctx context.Context, state string) (bool, error) {
	if _, err := p.Pool.Exec(ctx, createStatesTable); err != nil {
		return false, fmt.Errorf("creating the setup state table: %w", err)
	}
	tag, err := p.Pool.Exec(ctx, `DELETE FROM `+statesTable+` WHERE state_hash = $1 AND expires_at > now()`, hashState(state))
	if err != nil {
		return false, fmt.Errorf("checking the setup state: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
