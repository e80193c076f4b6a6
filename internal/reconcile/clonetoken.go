package reconcile

import "context"

// tokenRevoker ends a read token early; *ghapp.App has it.
type tokenRevoker interface {
	RevokeToken(ctx context.Context, token string) error
}

// holdCloneToken remembers the running build's read token, in memory only:
// one lost to a restart expires within the hour.
func (r *Reconciler) holdCloneToken(ps *pass, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clones[ps.key] = token
}

// revokeCloneToken revokes the PR's held read token once the build is over:
// the deployment job's tasks (gh-validation, parse-metadata) read the branch too.
func (r *Reconciler) revokeCloneToken(ctx context.Context, ps *pass) {
	r.mu.Lock()
	token := r.clones[ps.key]
	delete(r.clones, ps.key)
	r.mu.Unlock()
	r.revokeToken(ctx, ps, token)
}

// revokeToken revokes one read token, best effort.
func (r *Reconciler) revokeToken(ctx context.Context, ps *pass, token string) {
	rv, ok := r.GitHub.(tokenRevoker)
	if token == "" || !ok {
		return
	}
	if err := rv.RevokeToken(ctx, token); err != nil {
		ps.log.WarnContext(ctx, "could not revoke the build's read token; it expires within the hour", "error", err)
	}
}
