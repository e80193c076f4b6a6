package store

import (
	"context"
)

var stNudge = newStmt(`UPDATE pull_requests SET generation = generation + 1 WHERE pr_key = $1`)

// Nudge adds one to the PR's generation without changing what is wanted of
// it: news for its job, which runs again at once if the nudge arrives while
// it is running (a request to enqueue it would then be a duplicate).
func (s *Store) Nudge(ctx context.Context, key string) error {
	_, err := s.q.exec(ctx, stNudge, key)
	return wrapf(err, "nudging %s", key)
}
