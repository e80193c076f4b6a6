package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

const installationColumns = `id, account, repositories, suspended, deleted`

var (
	stUpsertInstallation = newStmt(`INSERT INTO installations (id, account, repositories, suspended, deleted, created_at, updated_at)
VALUES ($1, $2, $3, $4, FALSE, $5, $5)
ON CONFLICT (id) DO UPDATE SET account = excluded.account, repositories = excluded.repositories,
    suspended = excluded.suspended, deleted = FALSE, updated_at = excluded.updated_at`)
	stSetSuspended = newStmt(`INSERT INTO installations (id, suspended, created_at, updated_at) VALUES ($1, $2, $3, $3)
ON CONFLICT (id) DO UPDATE SET suspended = excluded.suspended, updated_at = excluded.updated_at`)
	stSetDeleted = newStmt(`INSERT INTO installations (id, deleted, created_at, updated_at) VALUES ($1, TRUE, $2, $2)
ON CONFLICT (id) DO UPDATE SET deleted = TRUE, updated_at = excluded.updated_at`)
	stSetRepos          = newStmt(`UPDATE installations SET repositories = $2, updated_at = $3 WHERE id = $1`)
	stGetInstallation   = newStmt(`SELECT ` + installationColumns + ` FROM installations WHERE id = $1`)
	stListInstallations = newStmt(`SELECT ` + installationColumns + ` FROM installations ORDER BY id`)
	stUninstallPRs      = newStmt(`UPDATE pull_requests SET uninstalled = TRUE, generation = generation + 1, updated_at = $2
WHERE installation_id = $1 RETURNING pr_key`)
	stUninstallRepoPRs = newStmt(`UPDATE pull_requests SET uninstalled = TRUE, generation = generation + 1, updated_at = $4
WHERE base_owner = $2 AND base_repo = $3 AND (installation_id = $1 OR installation_id = 0) RETURNING pr_key`)
	stReinstatePR        = newStmt(`UPDATE pull_requests SET uninstalled = FALSE, updated_at = $2 WHERE pr_key = $1`)
	stReinstateInst      = newStmt(`UPDATE installations SET deleted = FALSE, updated_at = $2 WHERE id = $1`)
	stForgetInstPreviews = newStmt(`DELETE FROM previews WHERE installation_id = $1
    OR pr_key IN (SELECT pr_key FROM pull_requests WHERE installation_id = $1)`)
	stForgetInstLeases = newStmt(`DELETE FROM leases WHERE pr_key IN (SELECT pr_key FROM pull_requests WHERE installation_id = $1)`)
	stForgetInstPRs    = newStmt(`DELETE FROM pull_requests WHERE installation_id = $1 RETURNING pr_key`)
)

// UpsertInstallation records a (re)installed, unsuspended or changed
// installation; it clears Deleted.
func (tx *Tx) UpsertInstallation(ctx context.Context, inst *Installation) error {
	repos, err := encodeRepos(inst.Repositories)
	if err != nil {
		return err
	}
	_, err = tx.q.exec(ctx, stUpsertInstallation, inst.ID, inst.Account, repos, inst.Suspended, micros(tx.Now()))
	return wrapf(err, "recording installation %d", inst.ID)
}

// SetInstallationSuspended records a suspend or unsuspend.
func (tx *Tx) SetInstallationSuspended(ctx context.Context, id int64, suspended bool) error {
	_, err := tx.q.exec(ctx, stSetSuspended, id, suspended, micros(tx.Now()))
	return wrapf(err, "recording installation %d", id)
}

// MarkInstallationDeleted records an uninstall: the installation is Deleted
// and each of its PRs Uninstalled with one more generation. It returns those
// PRs' keys so that the caller enqueues them; the reconciler deletes their
// previews, then ForgetInstallation drops the bookkeeping.
func (tx *Tx) MarkInstallationDeleted(ctx context.Context, id int64) ([]string, error) {
	now := micros(tx.Now())
	if _, err := tx.q.exec(ctx, stSetDeleted, id, now); err != nil {
		return nil, fmt.Errorf("recording uninstall of %d: %w", id, err)
	}
	prs, err := keys(ctx, tx.q, stUninstallPRs, id, now)
	return prs, wrapf(err, "marking PRs of installation %d", id)
}

// MarkReposRemoved records repositories ("owner/repo") removed from the
// installation: their PRs become Uninstalled with one more generation, and
// they leave the installation's repository list. It returns the PRs' keys
// for the caller to enqueue.
func (tx *Tx) MarkReposRemoved(ctx context.Context, id int64, repos []string) ([]string, error) {
	now := micros(tx.Now())
	var all []string
	for _, full := range repos {
		owner, name, ok := strings.Cut(full, "/")
		if !ok {
			continue
		}
		prs, err := keys(ctx, tx.q, stUninstallRepoPRs, id, owner, name, now)
		if err != nil {
			return nil, fmt.Errorf("marking PRs of %s: %w", full, err)
		}
		all = append(all, prs...)
	}
	return all, tx.editRepos(ctx, id, nil, repos)
}

// Reinstate undoes MarkInstallationDeleted or MarkReposRemoved for one PR
// (and its installation) when GitHub says the App still reaches the
// repository: the delivery that said otherwise was not to be believed.
func (s *Store) Reinstate(ctx context.Context, prKey string, installationID int64) error {
	err := s.WithTx(ctx, func(tx *Tx) error {
		now := micros(tx.Now())
		if _, err := tx.q.exec(ctx, stReinstatePR, prKey, now); err != nil {
			return err
		}
		_, err := tx.q.exec(ctx, stReinstateInst, installationID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("reinstating %s: %w", prKey, err)
	}
	return nil
}

// AddRepos records repositories added to an installation that is limited
// to selected repositories.
func (tx *Tx) AddRepos(ctx context.Context, id int64, repos []string) error {
	return tx.editRepos(ctx, id, repos, nil)
}

func (tx *Tx) editRepos(ctx context.Context, id int64, add, remove []string) error {
	inst, err := scanInstallation(tx.q.queryRow(ctx, stGetInstallation, id))
	if noRows(err) || (err == nil && inst.Repositories == nil) {
		return nil // unknown, or all repositories: nothing to keep track of
	}
	if err != nil {
		return fmt.Errorf("reading installation %d: %w", id, err)
	}
	list := slices.DeleteFunc(inst.Repositories, func(r string) bool { return slices.Contains(remove, r) })
	for _, r := range add {
		if !slices.Contains(list, r) {
			list = append(list, r)
		}
	}
	slices.Sort(list)
	enc, err := encodeRepos(nonNil(list))
	if err != nil {
		return err
	}
	_, err = tx.q.exec(ctx, stSetRepos, id, enc, micros(tx.Now()))
	return wrapf(err, "updating repositories of %d", id)
}

// ListInstallations returns every installation the Store knows, by id.
func (s *Store) ListInstallations(ctx context.Context) ([]*Installation, error) {
	out, err := list(ctx, s.q, stListInstallations, scanInstallation)
	return out, wrapf(err, "listing installations")
}

// ForgetInstallation deletes an uninstalled installation's bookkeeping (PRs,
// previews, leases, the GitHub pause), keeps its row marked Deleted, and
// returns the forgotten PRs' keys, whose jobs the caller cancels
// (jobs.Client.ForgetInstallation does both). Call it only once its previews
// are deleted (CountActivePreviews is 0): afterwards nothing remembers them.
func (s *Store) ForgetInstallation(ctx context.Context, id int64) ([]string, error) {
	var forgot []string
	err := s.WithTx(ctx, func(tx *Tx) error {
		for _, st := range []*stmt{stForgetInstPreviews, stForgetInstLeases, stForgetInstPause} {
			if _, err := tx.q.exec(ctx, st, id); err != nil {
				return err
			}
		}
		var err error
		if forgot, err = keys(ctx, tx.q, stForgetInstPRs, id); err != nil {
			return err
		}
		_, err = tx.q.exec(ctx, stSetDeleted, id, micros(tx.Now()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("forgetting installation %d: %w", id, err)
	}
	return forgot, nil
}

func encodeRepos(repos []string) (string, error) {
	if repos == nil {
		return "", nil
	}
	b, err := json.Marshal(repos)
	return string(b), err
}

func scanInstallation(r row) (*Installation, error) {
	var (
		inst  Installation
		repos string
	)
	if err := r.Scan(&inst.ID, &inst.Account, &repos, &inst.Suspended, &inst.Deleted); err != nil {
		return nil, err
	}
	if repos != "" {
		if err := json.Unmarshal([]byte(repos), &inst.Repositories); err != nil {
			return nil, fmt.Errorf("repositories of installation %d: %w", inst.ID, err)
		}
	}
	return &inst, nil
}
