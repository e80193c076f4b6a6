package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/hasura-preview/hasura-preview/internal/config"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
)

// cfgEntry is a repository's configuration as last read, or what was wrong.
type cfgEntry struct {
	cfg *repoconfig.Config
	err error
	at  time.Time
}

// filesEntry is a PR's changed paths at one head commit.
type filesEntry struct {
	files []string
	at    time.Time
}

// filesTTL bounds the memory of changed paths (by head SHA).
const filesTTL = 10 * time.Minute

// maxFilePages caps the listing: GitHub stops at 3000 files (30 pages).
const maxFilePages = 30

// loadConfig reads the configuration from the default branch, never from
// the PR's base branch, which anyone who can push can choose (and so name
// the repository's secrets). With fetch false it takes what this process
// last read, however old. It returns only the errors worth a retry.
func (r *Reconciler) loadConfig(ctx context.Context, ps *pass, fetch bool) error {
	pr := ps.pr
	key := strings.ToLower(pr.BaseOwner + "/" + pr.BaseRepo)
	now := r.Now()
	r.mu.Lock()
	e, ok := r.configs[key]
	r.mu.Unlock()
	if fetch && (!ok || now.Sub(e.at) >= configCacheTTL) {
		// No ref: GitHub's contents API reads the default branch.
		cfg, err := repoconfig.Fetch(ctx, ps.gh, pr.BaseOwner, pr.BaseRepo, "")
		var ce *repoconfig.Error
		if err != nil && !errors.Is(err, repoconfig.ErrNotConfigured) && !errors.As(err, &ce) {
			return fmt.Errorf("reading the configuration of %s: %w", ps.key, err)
		}
		e, ok = cfgEntry{cfg: cfg, err: err, at: now}, true
		r.mu.Lock()
		r.configs[key] = e
		r.mu.Unlock()
	}
	if ok {
		r.applyConfig(ps, e)
	}
	return nil
}

// applyConfig fills ps with what a configuration says.
func (r *Reconciler) applyConfig(ps *pass, e cfgEntry) {
	pr := ps.pr
	ps.cfgErr = e.err
	if e.err != nil {
		return
	}
	scope, err := r.secretPrefix(pr.BaseOwner, pr.BaseRepo)
	if err != nil {
		ps.cfgErr = problem(err)
		return
	}
	res, err := e.cfg.Resolve(r.Getenv, scope)
	if err != nil {
		ps.cfgErr = err
		return
	}
	ps.res, ps.warns = res, e.cfg.Warnings
	ps.name, err = preview.AppName(res.NameTemplate, preview.NameVars{
		Owner: pr.BaseOwner, Repo: pr.BaseRepo, PR: pr.Number, Branch: pr.Branch,
	})
	if err != nil {
		ps.cfgErr = problem(err)
	}
}

// changedFiles lists the PR's changed paths, once per head commit.
func (r *Reconciler) changedFiles(ctx context.Context, ps *pass) ([]string, error) {
	pr := ps.pr
	key := ps.key + "@" + pr.HeadSHA
	now := r.Now()
	r.mu.Lock()
	maps.DeleteFunc(r.files, func(_ string, e filesEntry) bool { return now.Sub(e.at) >= filesTTL })
	e, ok := r.files[key]
	r.mu.Unlock()
	if ok {
		return e.files, nil
	}
	files := []string{} // not nil: next takes nil for "not asked"
	opts := &github.ListOptions{PerPage: 100}
	for range maxFilePages {
		page, resp, err := ps.gh.PullRequests.ListFiles(ctx, pr.BaseOwner, pr.BaseRepo, pr.Number, opts)
		if err != nil {
			return nil, fmt.Errorf("listing the files of %s: %w", ps.key, err)
		}
		for _, f := range page {
			files = append(files, f.GetFilename())
			if prev := f.GetPreviousFilename(); prev != "" {
				// A file moved out of the project changes the project.
				files = append(files, prev)
			}
		}
		if resp == nil || resp.NextPage == 0 || resp.NextPage == opts.Page {
			break
		}
		opts.Page = resp.NextPage
	}
	r.mu.Lock()
	r.files[key] = filesEntry{files: files, at: now}
	r.mu.Unlock()
	return files, nil
}

// databases is the database manager the configuration asks for, or nil.
func (r *Reconciler) databases(ps *pass) (preview.Databases, error) {
	if ps.res.Postgres == nil {
		return nil, nil
	}
	return r.NewDatabases(*ps.res.Postgres)
}

// problem is err as a configuration problem to show.
func problem(err error) *repoconfig.Error {
	return &repoconfig.Error{Problems: []repoconfig.Problem{{Message: err.Error()}}}
}

// secretPrefix is where a repository's secrets are read: by default only
// its own; by owner, any of its account's.
func (r *Reconciler) secretPrefix(owner, repo string) (string, error) {
	switch r.Settings.SecretScope {
	case config.SecretScopeShared:
		return r.Settings.SecretEnvPrefix, nil
	case config.SecretScopeOwner:
		return SecretPrefix(r.Settings.SecretEnvPrefix, owner)
	}
	return RepoSecretPrefix(r.Settings.SecretEnvPrefix, owner, repo)
}

// SecretPrefix is <prefix><OWNER>__ with OWNER upper-cased and - as _: one
// to one for GitHub's owner names, any other is refused.
func SecretPrefix(prefix, owner string) (string, error) {
	if owner == "" || strings.Trim(owner, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" ||
		strings.Contains(owner, "--") {
		return "", fmt.Errorf("the account name %q cannot be mapped to a secret scope", owner)
	}
	return prefix + strings.ToUpper(strings.ReplaceAll(owner, "-", "_")) + "__", nil
}

// RepoSecretPrefix is <prefix><OWNER>__<REPO>_<hash>__: the hash of
// owner/repo keeps web.shop and web-shop, which read alike, apart.
func RepoSecretPrefix(prefix, owner, repo string) (string, error) {
	p, err := SecretPrefix(prefix, owner)
	if err != nil {
		return "", err
	}
	name := []byte(strings.ToUpper(repo))
	for i, c := range name {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			name[i] = '_'
		}
	}
	return p + strings.Trim(string(name), "_") + "_" + strings.ToUpper(preview.RepoHash(owner, repo)) + "__", nil
}
