package store

import (
	"context"
	"fmt"
)

const previewColumns = `pr_key, installation_id, app_name, status, endpoint, console_url, project_id, tenant_id,
    run_state, built_generation, built_sha, comment_id, deployment_id, last_error, created_at, updated_at,
    deleted_at, ttl_warned_at`

var (
	stSavePreview = newStmt(`INSERT INTO previews (` + previewColumns + `)
VALUES ($1, CASE WHEN CAST($2 AS BIGINT) <> 0 THEN CAST($2 AS BIGINT) ELSE COALESCE((SELECT installation_id FROM pull_requests WHERE pr_key = $1), 0) END,
    $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $17)
ON CONFLICT (pr_key) DO UPDATE SET
    installation_id = excluded.installation_id, app_name = excluded.app_name, status = excluded.status,
    endpoint = excluded.endpoint, console_url = excluded.console_url, project_id = excluded.project_id,
    tenant_id = excluded.tenant_id, run_state = excluded.run_state, built_generation = excluded.built_generation,
    built_sha = excluded.built_sha, comment_id = excluded.comment_id, deployment_id = excluded.deployment_id,
    last_error = excluded.last_error, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at,
    ttl_warned_at = excluded.ttl_warned_at
RETURNING created_at, installation_id`)

	stGetPreview = newStmt(`SELECT ` + previewColumns + ` FROM previews WHERE pr_key = $1`)

	// Zero values switch a filter off; column comparisons come first so that
	// PostgreSQL infers each parameter's type from its column.
	stListPreviews = newStmt(`SELECT ` + previewColumns + ` FROM previews
WHERE (installation_id = $1 OR $1 = 0)
  AND (status NOT IN ('', 'deleted') OR $2 = FALSE)
ORDER BY updated_at, pr_key
LIMIT $3`)

	stCountActive = newStmt(`SELECT count(*) FROM previews
WHERE installation_id = $1 AND status NOT IN ('', 'deleted')`)
)

// SavePreview writes the preview's actual state. CreatedAt is kept from the
// first save and UpdatedAt set to now; p is updated to match what was
// stored. A zero InstallationID is filled from the PR row.
func (s *Store) SavePreview(ctx context.Context, p *Preview) error {
	now := micros(s.Now())
	runState := p.RunState
	if runState == nil {
		runState = []byte{}
	}
	var created int64
	err := s.q.queryRow(ctx, stSavePreview, p.Key, p.InstallationID, p.AppName, string(p.Status), p.Endpoint,
		p.ConsoleURL, p.ProjectID, p.TenantID, runState, p.BuiltGeneration, p.BuiltSHA, p.CommentID,
		p.DeploymentID, p.LastError, now, micros(p.DeletedAt), micros(p.TTLWarnedAt)).Scan(&created, &p.InstallationID)
	if err != nil {
		return fmt.Errorf("saving preview of %s: %w", p.Key, err)
	}
	p.CreatedAt = fromMicros(created)
	p.UpdatedAt = fromMicros(now)
	return nil
}

// GetPreview returns the preview's actual state, or ErrNotFound.
func (s *Store) GetPreview(ctx context.Context, key string) (*Preview, error) {
	p, err := scanPreview(s.q.queryRow(ctx, stGetPreview, key))
	if noRows(err) {
		return nil, fmt.Errorf("preview of %s: %w", key, ErrNotFound)
	}
	return p, wrapf(err, "reading preview of %s", key)
}

// PreviewFilter selects previews; zero fields do not filter.
type PreviewFilter struct {
	InstallationID int64 // of this installation
	ActiveOnly     bool  // status neither "" nor "deleted"
	Limit          int   // default 1000
}

// ListPreviews returns matching previews, least recently updated first.
func (s *Store) ListPreviews(ctx context.Context, f PreviewFilter) ([]*Preview, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	out, err := list(ctx, s.q, stListPreviews, scanPreview, f.InstallationID, f.ActiveOnly, limit)
	return out, wrapf(err, "listing previews")
}

// CountActivePreviews counts the installation's active previews (for quotas).
func (s *Store) CountActivePreviews(ctx context.Context, installationID int64) (int, error) {
	var n int
	if err := s.q.queryRow(ctx, stCountActive, installationID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting previews of installation %d: %w", installationID, err)
	}
	return n, nil
}

func scanPreview(r row) (*Preview, error) {
	var (
		p                                         Preview
		status                                    string
		createdAt, updatedAt, deletedAt, warnedAt int64
	)
	err := r.Scan(&p.Key, &p.InstallationID, &p.AppName, &status, &p.Endpoint, &p.ConsoleURL, &p.ProjectID,
		&p.TenantID, &p.RunState, &p.BuiltGeneration, &p.BuiltSHA, &p.CommentID, &p.DeploymentID, &p.LastError,
		&createdAt, &updatedAt, &deletedAt, &warnedAt)
	if err != nil {
		return nil, err
	}
	p.Status = Status(status)
	p.CreatedAt = fromMicros(createdAt)
	p.UpdatedAt = fromMicros(updatedAt)
	p.DeletedAt = fromMicros(deletedAt)
	p.TTLWarnedAt = fromMicros(warnedAt)
	if len(p.RunState) == 0 {
		p.RunState = nil
	}
	return &p, nil
}
