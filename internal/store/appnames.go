package store

import (
	"context"
	"fmt"
	"time"
)

var (
	// The update runs only for the holder itself, or when the holder's
	// preview of that name cannot exist any more and its claim is older
	// than claimGrace (a holder saves its building state only after it
	// claimed: until then its claim alone must hold); otherwise no row
	// comes back.
	stClaimAppName = newStmt(`INSERT INTO app_names (app_name, pr_key, claimed_at) VALUES ($1, $2, $3)
ON CONFLICT (app_name) DO UPDATE SET pr_key = excluded.pr_key, claimed_at = excluded.claimed_at
WHERE app_names.pr_key = excluded.pr_key
   OR (app_names.claimed_at < CAST($4 AS BIGINT) AND NOT EXISTS (SELECT 1 FROM previews p
       WHERE p.pr_key = app_names.pr_key AND p.app_name = app_names.app_name AND p.status NOT IN ('', 'deleted')))
RETURNING pr_key`)

	stAppNameHolder = newStmt(`SELECT pr_key FROM app_names WHERE app_name = $1`)
)

// claimGrace is how long a fresh claim holds without a live preview behind
// it: far longer than the moment between a claim and the save of the
// build that follows it.
const claimGrace = 10 * time.Minute

// ClaimAppName gives the app name to the pull request key, unless another
// pull request whose preview may still exist holds it: then it returns that
// holder's key and claims nothing. Claiming is atomic, so two replicas
// cannot both win a name.
func (s *Store) ClaimAppName(ctx context.Context, name, key string) (holder string, err error) {
	var got string
	now := s.Now()
	err = s.q.queryRow(ctx, stClaimAppName, name, key, micros(now), micros(now.Add(-claimGrace))).Scan(&got)
	if err == nil {
		return "", nil
	}
	if !noRows(err) {
		return "", fmt.Errorf("claiming app name %s for %s: %w", name, key, err)
	}
	if err := s.q.queryRow(ctx, stAppNameHolder, name).Scan(&holder); err != nil {
		return "", fmt.Errorf("reading the holder of app name %s: %w", name, err)
	}
	return holder, nil
}
