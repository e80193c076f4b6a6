package reconcile

import "context"

// tokenRevoker is what *ghapp.App offers to end a read token before its
// hour is up; a GitHubApp without it leaves tokens to expire.
type tokenRevoker interface {
	RevokeToken(ctx context.Context, token string) error
}

// holdCloneToken remembers the read token the PR's running build was
// given, to revoke once the build is over. It lives in memory only: a
// token must not be stored, and one lost to a restart expires within the
// hour anyway.
func (r *Reconciler) holdCloneToken(ps *pass, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clones[ps.key] = token
}

// revokeCloneToken revokes the PR's held read token, if any. It runs when
// the build is over rather than when the creation job is: the deployment
// job's tasks (gh-validation, parse-metadata) read the branch too.
func (r *Reconciler) revokeCloneToken(ctx context.Context, ps *pass) {
	r.mu.Lock()
	token := r.clones[ps.key]
	delete(r.clones, ps.key)
	r.mu.Unlock()
	r.revokeToken(ctx, ps, token)
}

// revokeToken revokes one read token, best effort: a failure is logged
// and the token expires by itself.
func (r *Reconciler) revokeToken(ctx context.Context, ps *pass, token string) {
	rv, ok := r.GitHub.(tokenRevoker)
	if token == "" || !ok {
		return
	}
	if err := rv.RevokeToken(ctx, token); err != nil {
		ps.log.WarnContext(ctx, "could not revoke the build's read token; it expires within the hour", "error", err)
	}
}
