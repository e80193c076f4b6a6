package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

const prColumns = `pr_key, installation_id, base_owner, base_repo, number, head_owner, head_repo, branch,
    head_sha, base_ref, title, author, closed, draft, merged, labels, generation, command, command_actor,
    command_comment_id, command_at, uninstalled, event_updated_at, created_at, updated_at`

// The ordering rule: an event applies when its updated_at is newer than the
// stored one, or equal unless that would turn a closed PR back to open
// without a "reopened" action ($20): GitHub's timestamps have one-second
// resolution, and a late synchronize must not undo a close.
var (
	stRecordPR = newStmt(`INSERT INTO pull_requests (pr_key, installation_id, base_owner, base_repo, number,
    head_owner, head_repo, branch, head_sha, base_ref, title, author, closed, draft, merged, labels,
    generation, event_updated_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)
ON CONFLICT (pr_key) DO UPDATE SET
    installation_id = CASE WHEN excluded.installation_id <> 0 THEN excluded.installation_id ELSE pull_requests.installation_id END,
    head_owner = excluded.head_owner, head_repo = excluded.head_repo, branch = excluded.branch,
    head_sha = excluded.head_sha, base_ref = excluded.base_ref, title = excluded.title,
    author = excluded.author, closed = excluded.closed, draft = excluded.draft, merged = excluded.merged,
    labels = excluded.labels, generation = pull_requests.generation + excluded.generation,
    uninstalled = FALSE, event_updated_at = excluded.event_updated_at, updated_at = excluded.updated_at
WHERE pull_requests.event_updated_at < excluded.event_updated_at
   OR (pull_requests.event_updated_at = excluded.event_updated_at
       AND (excluded.closed OR NOT pull_requests.closed OR $20))
RETURNING generation`)

	stEnsureInstallation = newStmt(`INSERT INTO installations (id, created_at, updated_at) VALUES ($1, $2, $2)
ON CONFLICT (id) DO NOTHING`)

	stRecordCommand = newStmt(`INSERT INTO pull_requests (pr_key, installation_id, base_owner, base_repo, number,
    title, author, closed, labels, generation, command, command_actor, command_comment_id, command_at,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11, $12, $13, $13, $13)
ON CONFLICT (pr_key) DO UPDATE SET
    installation_id = CASE WHEN excluded.installation_id <> 0 THEN excluded.installation_id ELSE pull_requests.installation_id END,
    generation = pull_requests.generation + 1, command = excluded.command,
    command_actor = excluded.command_actor, command_comment_id = excluded.command_comment_id,
    command_at = excluded.command_at, updated_at = excluded.updated_at
RETURNING generation`)

	stClearCommand = newStmt(`UPDATE pull_requests SET command = '', command_actor = '', command_comment_id = 0,
    command_at = 0, updated_at = $3
WHERE pr_key = $1 AND command_at = $2 AND command <> ''`)

	stGetPR      = newStmt(`SELECT ` + prColumns + ` FROM pull_requests WHERE pr_key = $1`)
	stGeneration = newStmt(`SELECT generation FROM pull_requests WHERE pr_key = $1`)
	// SQLite has no row locks; its transactions are serialised whole.
	stLockGeneration = newStmtLite(`SELECT generation FROM pull_requests WHERE pr_key = $1 FOR UPDATE`,
		`SELECT generation FROM pull_requests WHERE pr_key = $1`)
	stListOpenPRs  = newStmt(`SELECT ` + prColumns + ` FROM pull_requests WHERE closed = FALSE ORDER BY pr_key`)
	stForgetPR     = newStmt(`DELETE FROM pull_requests WHERE pr_key = $1`)
	stForgetPRPrev = newStmt(`DELETE FROM previews WHERE pr_key = $1`)
	stForgetPRLock = newStmt(`DELETE FROM leases WHERE pr_key = $1`)
)

// RecordPullRequest applies a pull_request event's view of the PR (pr's
// Generation, Command, Uninstalled, CreatedAt and UpdatedAt are ignored).
// demandsWork adds one to the generation; reopened lets an event with the
// same timestamp reopen a closed PR. It returns false, changing nothing, when
// the stored state is newer than the event.
func (tx *Tx) RecordPullRequest(ctx context.Context, pr *PullRequest, demandsWork, reopened bool) (applied bool, err error) {
	labels, err := json.Marshal(nonNil(pr.Labels))
	if err != nil {
		return false, err
	}
	now := micros(tx.Now())
	if pr.InstallationID != 0 {
		if _, err := tx.q.exec(ctx, stEnsureInstallation, pr.InstallationID, now); err != nil {
			return false, fmt.Errorf("recording installation %d: %w", pr.InstallationID, err)
		}
	}
	var bump int64
	if demandsWork {
		bump = 1
	}
	var gen int64
	err = tx.q.queryRow(ctx, stRecordPR, pr.Key, pr.InstallationID, pr.BaseOwner, pr.BaseRepo, pr.Number,
		pr.HeadOwner, pr.HeadRepo, pr.Branch, pr.HeadSHA, pr.BaseRef, pr.Title, pr.Author,
		pr.Closed, pr.Draft, pr.Merged, string(labels), bump, micros(pr.EventUpdatedAt), now, reopened).Scan(&gen)
	if noRows(err) {
		return false, nil
	}
	return err == nil, wrapf(err, "recording %s", pr.Key)
}

// RecordCommand stores cmd on the PR and adds one to its generation. When no
// row exists yet (a comment arrived before any pull_request event), one is
// made from pr's base fields, with empty head fields and a zero
// EventUpdatedAt so that any pull_request event overwrites it.
func (tx *Tx) RecordCommand(ctx context.Context, pr *PullRequest, cmd Command) error {
	labels, err := json.Marshal(nonNil(pr.Labels))
	if err != nil {
		return err
	}
	at := cmd.At
	if at.IsZero() {
		at = tx.Now()
	}
	var gen int64
	err = tx.q.queryRow(ctx, stRecordCommand, pr.Key, pr.InstallationID, pr.BaseOwner, pr.BaseRepo, pr.Number,
		pr.Title, pr.Author, pr.Closed, string(labels), string(cmd.Kind), cmd.Actor, cmd.CommentID, micros(at)).Scan(&gen)
	if err != nil {
		return fmt.Errorf("recording command on %s: %w", pr.Key, err)
	}
	return nil
}

// ClearCommand removes the pending command if it is still the one recorded
// at at (a newer command is kept). It reports whether it cleared one.
func (s *Store) ClearCommand(ctx context.Context, key string, at time.Time) (bool, error) {
	n, err := s.q.exec(ctx, stClearCommand, key, micros(at), micros(s.Now()))
	return n > 0, wrapf(err, "clearing command on %s", key)
}

// GetPR returns the desired state of the PR, or ErrNotFound.
func (s *Store) GetPR(ctx context.Context, key string) (*PullRequest, error) {
	pr, err := scanPR(s.q.queryRow(ctx, stGetPR, key))
	if noRows(err) {
		return nil, fmt.Errorf("pull request %s: %w", key, ErrNotFound)
	}
	return pr, wrapf(err, "reading %s", key)
}

// Generation returns the PR's generation, 0 when it is unknown.
func (s *Store) Generation(ctx context.Context, key string) (int64, error) {
	gen, err := scalar[int64](ctx, s.q, stGeneration, key)
	return gen, wrapf(err, "reading generation of %s", key)
}

// LockGeneration reads the PR's generation (0 when unknown) and, on
// PostgreSQL, locks its row until the transaction ends: a delivery for the
// PR then waits, so a worker can finish its job knowing that no delivery
// slipped in unseen between this read and the commit.
func (tx *Tx) LockGeneration(ctx context.Context, key string) (int64, error) {
	gen, err := scalar[int64](ctx, tx.q, stLockGeneration, key)
	return gen, wrapf(err, "locking %s", key)
}

// ListOpenPRs returns every PR not closed, by key.
func (s *Store) ListOpenPRs(ctx context.Context) ([]*PullRequest, error) {
	out, err := list(ctx, s.q, stListOpenPRs, scanPR)
	return out, wrapf(err, "listing open pull requests")
}

// ForgetPR deletes the PR's desired state, preview record and lease. Call it
// once the preview is gone from the Cloud.
func (s *Store) ForgetPR(ctx context.Context, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		for _, st := range []*stmt{stForgetPRPrev, stForgetPRLock, stForgetPR} {
			if _, err := tx.q.exec(ctx, st, key); err != nil {
				return fmt.Errorf("forgetting %s: %w", key, err)
			}
		}
		return nil
	})
}

// list runs st and scans every row it returns.
func list[T any](ctx context.Context, q querier, st *stmt, scan func(row) (T, error), args ...any) ([]T, error) {
	r, err := q.query(ctx, st, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []T
	for r.Next() {
		v, err := scan(r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, r.Err()
}

// scalar reads the one column of st's row, the zero T when there is no row.
func scalar[T any](ctx context.Context, q querier, st *stmt, args ...any) (T, error) {
	var v T
	if err := q.queryRow(ctx, st, args...).Scan(&v); err != nil && !noRows(err) {
		return v, err
	}
	return v, nil
}

// keys runs st, which returns one pr_key per row.
func keys(ctx context.Context, q querier, st *stmt, args ...any) ([]string, error) {
	return list(ctx, q, st, func(r row) (k string, err error) { return k, r.Scan(&k) }, args...)
}

func scanPR(r row) (*PullRequest, error) {
	var (
		pr                                            PullRequest
		labels, cmd, cmdActor                         string
		cmdComment, cmdAt, evAt, createdAt, updatedAt int64
	)
	err := r.Scan(&pr.Key, &pr.InstallationID, &pr.BaseOwner, &pr.BaseRepo, &pr.Number, &pr.HeadOwner,
		&pr.HeadRepo, &pr.Branch, &pr.HeadSHA, &pr.BaseRef, &pr.Title, &pr.Author, &pr.Closed, &pr.Draft,
		&pr.Merged, &labels, &pr.Generation, &cmd, &cmdActor, &cmdComment, &cmdAt, &pr.Uninstalled,
		&evAt, &createdAt, &updatedAt)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(labels), &pr.Labels); err != nil {
		return nil, fmt.Errorf("labels of %s: %w", pr.Key, err)
	}
	if cmd != "" {
		pr.Command = &Command{Kind: CommandKind(cmd), Actor: cmdActor, CommentID: cmdComment, At: fromMicros(cmdAt)}
	}
	pr.EventUpdatedAt = fromMicros(evAt)
	pr.CreatedAt = fromMicros(createdAt)
	pr.UpdatedAt = fromMicros(updatedAt)
	return &pr, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
