package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// remove deletes the preview, if any, for reason (shown). It waits for a
// running creation job, which could bring the app up after the delete.
func (r *Reconciler) remove(ctx context.Context, ps *pass, reason string) (time.Duration, error) {
	p, s := ps.p, ps.s
	if !p.Active() {
		ps.dirty = ps.dirty || s.Reason != reason
		s.Reason = reason
		return r.settle(ctx, ps)
	}
	if p.Status != store.StatusQueued {
		wait, err := r.destroy(ctx, ps, p.AppName)
		if errors.Is(err, preview.ErrBuildInFlight) {
			if p.Status != store.StatusDeleting || s.Reason != reason {
				p.Status, s.Reason = store.StatusDeleting, reason
				if err := r.save(ctx, ps); err != nil {
					return 0, err
				}
			}
			r.progress(ctx, ps)
			return wait, nil
		}
		if errors.Is(err, cloud.ErrUnauthorized) {
			p.LastError = unauthorizedMessage
			if serr := r.save(ctx, ps); serr != nil {
				return 0, serr
			}
			return 0, jobs.Permanent(err)
		}
		if err != nil {
			return 0, err
		}
	}
	p.Status, p.DeletedAt, p.LastError = store.StatusDeleted, r.Now(), ""
	p.Endpoint, p.ConsoleURL, p.ProjectID, p.TenantID = "", "", "", ""
	s.Run, s.Redo = nil, ""
	s.QueuedAt, s.Reason = time.Time{}, reason
	if err := r.save(ctx, ps); err != nil {
		return 0, err
	}
	ps.log.InfoContext(ctx, "preview deleted", "app", p.AppName, "reason", reason)
	r.wakeNext(ctx, ps)
	return r.settle(ctx, ps)
}

// destroy deletes the app called name and its database, if any; while a
// creation job may bring it up, preview.ErrBuildInFlight and a wait.
func (r *Reconciler) destroy(ctx context.Context, ps *pass, name string) (time.Duration, error) {
	if name == "" {
		return 0, nil
	}
	// Deletes are by name: another PR's live preview may hold it.
	if holder, err := r.Store.ClaimAppName(ctx, name, ps.key); err != nil {
		return 0, err
	} else if holder != "" {
		ps.log.WarnContext(ctx, "not deleting: the app name belongs to another pull request's preview", "app", name, "holder", holder)
		return 0, nil
	}
	inFlight, since := "", time.Time{}
	if run := ps.s.Run; run != nil && run.Result.Status == preview.StatusCreating {
		inFlight, since = run.Result.CreationJobID, run.Result.Started
	}
	dbs, err := r.databases(ps)
	if err != nil {
		// The database is the lesser loss: the app must still go.
		ps.log.WarnContext(ctx, "cannot drop the preview's database", "app", name, "error", err)
		dbs = nil
	}
	_, err = r.Engine.Destroy(ctx, preview.DestroySpec{Name: name, InFlightJob: inFlight, InFlightSince: since, Databases: dbs})
	if errors.Is(err, preview.ErrBuildInFlight) {
		return inFlightPoll, err
	}
	return 0, err
}

// destroyRenamed deletes the app left under the old name when the name
// template changed.
func (r *Reconciler) destroyRenamed(ctx context.Context, ps *pass) (time.Duration, error) {
	p, s := ps.p, ps.s
	old := p.AppName
	wait, err := r.destroy(ctx, ps, old)
	if errors.Is(err, preview.ErrBuildInFlight) {
		return wait, nil
	}
	if err != nil {
		return 0, err
	}
	ps.log.InfoContext(ctx, "the app name changed; deleted the app under the old name", "old", old, "new", ps.name)
	p.Status, p.DeploymentID = store.StatusNone, 0
	s.Run = nil
	if err := r.save(ctx, ps); err != nil {
		return 0, err
	}
	r.warnGitHub(ctx, ps, "deployments", ps.rep.DeactivateEnvironment(ctx, ghreport.EnvironmentName(old)))
	return 0, nil
}
