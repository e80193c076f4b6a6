package store

import (
	"context"
	"fmt"
)

var (
	// No conflict target: a row with the same (source, guid) or the same
	// body hash makes the delivery a duplicate.
	stInsertDelivery = newStmt(`INSERT INTO deliveries (source, guid, event, action, repo, pr_number, outcome, reason, received_at, body_sha256)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT DO NOTHING`)
	stRedelivered = newStmt(`UPDATE deliveries SET redeliveries = redeliveries + 1
WHERE (source = $1 AND guid = $2) OR (body_sha256 = $3 AND $3 <> '')`)
	stCommandSeen  = newStmt(`INSERT INTO commands_seen (comment_key, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`)
	stSetOutcome   = newStmt(`UPDATE deliveries SET outcome = $3, reason = $4 WHERE source = $1 AND guid = $2`)
	stRecentDelivs = newStmt(`SELECT source, guid, event, action, repo, pr_number, outcome, reason, received_at, redeliveries
FROM deliveries ORDER BY received_at DESC, guid LIMIT $1`)
	// Keeps the newest $1 rows; ties at the cut-off survive, which is fine.
	stPruneDelivs = newStmt(`DELETE FROM deliveries WHERE received_at <
    (SELECT received_at FROM deliveries ORDER BY received_at DESC LIMIT 1 OFFSET $1)`)
)

// InsertDelivery records d (ReceivedAt defaults to now) unless (Source, GUID),
// or a non-empty BodyHash, is already there; for such a duplicate it returns
// false and counts a redelivery. Call it first in the intake transaction: on
// PostgreSQL a concurrent duplicate waits here for the first to commit.
func (tx *Tx) InsertDelivery(ctx context.Context, d *Delivery) (inserted bool, err error) {
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = tx.Now()
	}
	n, err := tx.q.exec(ctx, stInsertDelivery, d.Source, d.GUID, d.Event, d.Action, d.Repo, d.PRNumber,
		string(d.Outcome), d.Reason, micros(d.ReceivedAt), d.BodyHash)
	if err != nil {
		return false, fmt.Errorf("recording delivery %s: %w", d.GUID, err)
	}
	if n > 0 {
		return true, nil
	}
	if _, err := tx.q.exec(ctx, stRedelivered, d.Source, d.GUID, d.BodyHash); err != nil {
		return false, fmt.Errorf("counting redelivery %s: %w", d.GUID, err)
	}
	return false, nil
}

// FirstCommand records that the command identified by key (its comment, as
// the signed payload names it) was taken, and reports whether it is the
// first time. Unlike deliveries, these keys are never pruned.
func (tx *Tx) FirstCommand(ctx context.Context, key string) (bool, error) {
	n, err := tx.q.exec(ctx, stCommandSeen, key, micros(tx.Now()))
	return n > 0, wrapf(err, "recording command %s", key)
}

// SetDeliveryOutcome changes a recorded delivery's outcome and reason, for
// when applying it turned out differently from what decoding predicted.
func (tx *Tx) SetDeliveryOutcome(ctx context.Context, source, guid string, o Outcome, reason string) error {
	_, err := tx.q.exec(ctx, stSetOutcome, source, guid, string(o), reason)
	return wrapf(err, "updating delivery %s", guid)
}

// RecentDeliveries returns up to limit deliveries, newest first.
func (s *Store) RecentDeliveries(ctx context.Context, limit int) ([]*Delivery, error) {
	out, err := list(ctx, s.q, stRecentDelivs, scanDelivery, limit)
	return out, wrapf(err, "listing deliveries")
}

func scanDelivery(r row) (*Delivery, error) {
	var (
		d        Delivery
		outcome  string
		received int64
	)
	if err := r.Scan(&d.Source, &d.GUID, &d.Event, &d.Action, &d.Repo, &d.PRNumber, &outcome, &d.Reason,
		&received, &d.Redeliveries); err != nil {
		return nil, err
	}
	d.Outcome = Outcome(outcome)
	d.ReceivedAt = fromMicros(received)
	return &d, nil
}

// PruneDeliveries deletes all but the newest keep deliveries (for the sweep).
// A pruned GUID is no longer deduplicated, so keep well over a day's worth.
func (s *Store) PruneDeliveries(ctx context.Context, keep int) (int64, error) {
	if keep < 1 {
		keep = 1
	}
	n, err := s.q.exec(ctx, stPruneDelivs, keep-1)
	return n, wrapf(err, "pruning deliveries")
}
