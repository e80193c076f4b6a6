package store

import (
	"context"
	"fmt"
)

var (
	// The update runs only for the holder itself or when the holder's
	// preview cannot exist any more; otherwise no row comes back.
	stClaimAppName = newStmt(`INSERT INTO app_names (app_name, pr_key, claimed_at) VALUES ($1, $2, $3)
ON CONFLICT (app_name) DO UPDATE SET pr_key = excluded.pr_key, claimed_at = excluded.claimed_at
WHERE app_names.pr_key = excluded.pr_key
   OR NOT EXISTS (SELECT 1 FROM previews p WHERE p.pr_key = app_names.pr_key AND p.status NOT IN ('', 'deleted'))
RETURNING pr_key`)

	stAppNameHolder = newStmt(`SELECT pr_key FROM app_names WHERE app_name = $1`)
)

// ClaimAppName gives the app name to the pull request key, unless another
// pull request whose preview may still exist holds it: then it returns that
// holder's key and claims nothing. Claiming is atomic, so two replicas
// cannot both win a name.
func (s *Store) ClaimAppName(ctx context.Context, name, key string) (holder string, err error) {
	var got string
	err = s.q.queryRow(ctx, stClaimAppName, name, key, micros(s.Now())).Scan(&got)
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
