package store

import (
	"context"
	"fmt"
	"time"
)

// A lease says which worker may act on a PR until when. River already keeps
// one job per PR; the lease also covers a job that River rescued (or a
// duplicate) while the first attempt is, in fact, still running elsewhere.

var (
	stAcquireLease = newStmt(`INSERT INTO leases (pr_key, owner, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (pr_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE leases.expires_at <= $4 OR leases.owner = excluded.owner
RETURNING expires_at`)
	stLeaseUntil   = newStmt(`SELECT expires_at FROM leases WHERE pr_key = $1`)
	stReleaseLease = newStmt(`DELETE FROM leases WHERE pr_key = $1 AND owner = $2`)
	stBreakLeases  = newStmt(`DELETE FROM leases`)
	stPruneLeases  = newStmt(`DELETE FROM leases WHERE expires_at <= $1`)
)

// AcquireLease gives owner the PR for ttl if nobody else holds an unexpired
// lease on it (re-acquiring one's own lease extends it). When another owner
// holds it, acquired is false and heldUntil says when it runs out.
func (s *Store) AcquireLease(ctx context.Context, key, owner string, ttl time.Duration) (acquired bool, heldUntil time.Time, err error) {
	now := s.Now()
	var until int64
	err = s.q.queryRow(ctx, stAcquireLease, key, owner, micros(now.Add(ttl)), micros(now)).Scan(&until)
	if err == nil {
		return true, fromMicros(until), nil
	}
	if !noRows(err) {
		return false, time.Time{}, fmt.Errorf("acquiring lease on %s: %w", key, err)
	}
	err = s.q.queryRow(ctx, stLeaseUntil, key).Scan(&until)
	if noRows(err) {
		// Released between the two statements: let the caller try again soon.
		return false, now, nil
	}
	if err != nil {
		return false, time.Time{}, fmt.Errorf("reading lease on %s: %w", key, err)
	}
	return false, fromMicros(until), nil
}

// ReleaseLease ends owner's lease; releasing a lease one does not hold does
// nothing.
func (s *Store) ReleaseLease(ctx context.Context, key, owner string) error {
	return releaseLease(ctx, s.q, key, owner)
}

// ReleaseLease ends owner's lease as part of tx.
func (tx *Tx) ReleaseLease(ctx context.Context, key, owner string) error {
	return releaseLease(ctx, tx.q, key, owner)
}

func releaseLease(ctx context.Context, q querier, key, owner string) error {
	_, err := q.exec(ctx, stReleaseLease, key, owner)
	return wrapf(err, "releasing lease on %s", key)
}

// BreakAllLeases drops every lease. Only for a single-replica start (SQLite),
// where any lease left over belongs to a process that no longer exists.
func (s *Store) BreakAllLeases(ctx context.Context) (int64, error) {
	n, err := s.q.exec(ctx, stBreakLeases)
	return n, wrapf(err, "breaking leases")
}

// PruneLeases deletes expired leases (for the sweep).
func (s *Store) PruneLeases(ctx context.Context) (int64, error) {
	n, err := s.q.exec(ctx, stPruneLeases, micros(s.Now()))
	return n, wrapf(err, "pruning leases")
}
