package store

import (
	"context"
	"fmt"
	"time"
)

// A GitHub pause is kept per installation in the store: GitHub's rate limit
// is the installation's, so a replica that was refused makes the others
// hold back too.

var (
	stPauseGitHub = newStmt(`INSERT INTO github_pauses (installation_id, paused_until) VALUES ($1, $2)
ON CONFLICT (installation_id) DO UPDATE SET paused_until = excluded.paused_until
WHERE github_pauses.paused_until < excluded.paused_until`)
	stGitHubPause     = newStmt(`SELECT paused_until FROM github_pauses WHERE installation_id = $1`)
	stForgetInstPause = newStmt(`DELETE FROM github_pauses WHERE installation_id = $1`)
)

// PauseGitHub records that installation id may not call GitHub before
// until. A pause already recorded that ends later is kept.
func (s *Store) PauseGitHub(ctx context.Context, id int64, until time.Time) error {
	_, err := s.q.exec(ctx, stPauseGitHub, id, micros(until))
	return wrapf(err, "recording the GitHub pause of installation %d", id)
}

// GitHubPausedUntil returns when installation id may call GitHub again; a
// zero or past time means it may now.
func (s *Store) GitHubPausedUntil(ctx context.Context, id int64) (time.Time, error) {
	until, err := scalar[int64](ctx, s.q, stGitHubPause, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the GitHub pause of installation %d: %w", id, err)
	}
	return fromMicros(until), nil
}
