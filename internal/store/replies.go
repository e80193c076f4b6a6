package store

import (
	"context"
	"strings"
	"time"
)

var (
	stTakeReplySlot = newStmt(`INSERT INTO command_replies (pr_key, actor, replied_at) VALUES ($1, $2, $3)
ON CONFLICT (pr_key, actor) DO UPDATE SET replied_at = excluded.replied_at
WHERE command_replies.replied_at <= $4
RETURNING replied_at`)
	stPruneReplies = newStmt(`DELETE FROM command_replies WHERE replied_at <= $1`)
)

// TakeReplySlot reports whether the service may answer actor on the PR
// now: true at most once per window per (PR, actor), and it records the
// answer in the same statement, so two replicas cannot both answer. Logins
// compare case-insensitively, as GitHub's do.
func (s *Store) TakeReplySlot(ctx context.Context, key, actor string, window time.Duration) (bool, error) {
	now := s.Now()
	var at int64
	err := s.q.queryRow(ctx, stTakeReplySlot, key, strings.ToLower(actor), micros(now), micros(now.Add(-window))).Scan(&at)
	if noRows(err) {
		return false, nil
	}
	return err == nil, wrapf(err, "recording a reply to %s on %s", actor, key)
}

// PruneReplySlots forgets replies older than window, which no longer hold
// anyone back (for the sweep).
func (s *Store) PruneReplySlots(ctx context.Context, window time.Duration) (int64, error) {
	n, err := s.q.exec(ctx, stPruneReplies, micros(s.Now().Add(-window)))
	return n, wrapf(err, "pruning command replies")
}
