package reconcile

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Queue is what the sweep needs of the job queue; *jobs.Client has it.
type Queue interface {
	// Enqueue asks for a reconcile of the PR (unique per PR).
	Enqueue(ctx context.Context, prKey string) (jobs.Enqueued, error)
	// Pending lists the reconcile jobs that have not finished.
	Pending(ctx context.Context) ([]jobs.PendingJob, error)
	// ForgetInstallation drops an uninstalled installation's bookkeeping.
	ForgetInstallation(ctx context.Context, id int64) error
}

// SweepOptions tunes NewSweeper; zero fields take the defaults in brackets.
type SweepOptions struct {
	// DriftEvery is how often a ready app is looked up in the Cloud [1h].
	DriftEvery time.Duration
	// KeepDeliveries is how many recorded deliveries survive pruning [10000].
	KeepDeliveries int
	// Between OrphanGrace and OrphanWindow after a deletion [10m, +2h], an
	// app a lost creation job brought back is deleted again.
	OrphanGrace, OrphanWindow time.Duration
	// RetainClosed is how long a closed PR is remembered [720h].
	RetainClosed time.Duration
}

// sweepLease is how long the sweep holds a PR while it marks drift.
const sweepLease = 30 * time.Second

// Sweeper is jobs.New's SweepFunc: it enqueues work and writes only a drift
// mark, so a sweep may run any number of times.
type Sweeper struct {
	r     *Reconciler
	opts  SweepOptions
	owner string

	mu            sync.Mutex           // held by a sweep
	checked       map[string]time.Time // by PR key: last drift check
	orphanChecked map[string]time.Time // deletions re-checked, by PR key (a restart checks again)
}

// NewSweeper returns the sweep of r's previews.
func NewSweeper(r *Reconciler, opts SweepOptions) *Sweeper {
	if opts.DriftEvery <= 0 {
		opts.DriftEvery = time.Hour
	}
	if opts.KeepDeliveries <= 0 {
		opts.KeepDeliveries = 10000
	}
	if opts.OrphanGrace <= 0 {
		opts.OrphanGrace = 10 * time.Minute
	}
	if opts.OrphanWindow <= opts.OrphanGrace {
		opts.OrphanWindow = opts.OrphanGrace + 2*time.Hour
	}
	if opts.RetainClosed <= 0 {
		opts.RetainClosed = 30 * 24 * time.Hour
	}
	return &Sweeper{r: r, opts: opts, owner: "sweep/" + rand.Text(),
		checked: map[string]time.Time{}, orphanChecked: map[string]time.Time{}}
}

// Sweep enqueues into q every PR whose preview is not what it should be,
// forgets empty uninstalled installations, and prunes.
func (sw *Sweeper) Sweep(ctx context.Context, q Queue) error {
	sw.mu.Lock() // one sweep at a time
	defer sw.mu.Unlock()
	r := sw.r
	pendingJobs, err := q.Pending(ctx)
	if err != nil {
		return err
	}
	pending := make(map[string]bool, len(pendingJobs))
	for _, j := range pendingJobs {
		pending[j.PRKey] = true
	}
	var errs []error
	enqueued := 0
	enqueue := func(key, why string) {
		if pending[key] {
			return
		}
		if _, err := q.Enqueue(ctx, key); err != nil {
			errs = append(errs, err)
			return
		}
		pending[key] = true
		enqueued++
		r.Logger.InfoContext(ctx, "sweep enqueued a PR", "pr", key, "why", why)
	}

	previews, err := r.Store.ListPreviews(ctx, store.PreviewFilter{Limit: 1 << 30})
	if err != nil {
		return err
	}
	byKey := make(map[string]*store.Preview, len(previews))
	for _, p := range previews {
		byKey[p.Key] = p
		if !p.Active() {
			errs = append(errs, sw.deletedPreview(ctx, p))
			continue
		}
		pr, err := r.Store.GetPR(ctx, p.Key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s := decodeState(p.RunState)
		switch {
		case pr.Closed || pr.Uninstalled:
			enqueue(p.Key, "closed or uninstalled with a live preview")
		case building(p, s) || p.Status == store.StatusQueued || p.Status == store.StatusDeleting:
			enqueue(p.Key, "work under way without a job")
		case pr.Generation > p.BuiltGeneration:
			enqueue(p.Key, "newer desired state")
		case ttlDue(p, s, pr, r.Now()):
			enqueue(p.Key, "TTL warning or expiry due")
		case p.Status == store.StatusReady && s.secretsRotated(r.fingerprints()):
			enqueue(p.Key, "a secret of its env changed in the service's environment")
		case p.Status == store.StatusReady && sw.drifted(ctx, p):
			enqueue(p.Key, "app deleted outside hasura-preview")
		}
	}
	maps.DeleteFunc(sw.checked, func(k string, _ time.Time) bool { return byKey[k] == nil || !byKey[k].Active() })

	open, err := r.Store.ListOpenPRs(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, pr := range open {
		if p := byKey[pr.Key]; (p == nil && pr.Generation > 0) || (p != nil && pr.Generation > p.BuiltGeneration) {
			enqueue(pr.Key, "newer desired state")
		}
	}

	errs = append(errs, sw.forgetInstallations(ctx, q))
	_, err1 := r.Store.PruneDeliveries(ctx, sw.opts.KeepDeliveries)
	_, err2 := r.Store.PruneLeases(ctx)
	_, err3 := r.Store.PruneReplySlots(ctx, replyWindow)
	errs = append(errs, err1, err2, err3)
	if enqueued > 0 {
		r.Logger.InfoContext(ctx, "sweep done", "enqueued", enqueued)
	}
	return errors.Join(errs...)
}

// deletedPreview re-checks a recent deletion; it forgets an old one.
func (sw *Sweeper) deletedPreview(ctx context.Context, p *store.Preview) error {
	if p.Status != store.StatusDeleted || p.DeletedAt.IsZero() {
		return nil
	}
	age := sw.r.Now().Sub(p.DeletedAt)
	switch {
	case age >= sw.opts.RetainClosed:
		pr, err := sw.r.Store.GetPR(ctx, p.Key)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (pr.Closed || pr.Uninstalled)) {
			sw.r.Logger.InfoContext(ctx, "forgetting a long-closed pull request", "pr", p.Key)
			return sw.r.Store.ForgetPR(ctx, p.Key)
		}
		return err
	case age < sw.opts.OrphanGrace || age > sw.opts.OrphanWindow:
		return nil
	}
	if sw.orphanChecked[p.Key].Equal(p.DeletedAt) || p.AppName == "" {
		return nil
	}
	projects, err := sw.r.Engine.Cloud.ProjectsByName(ctx, p.AppName)
	switch {
	case err != nil:
		sw.r.Logger.WarnContext(ctx, "orphan check failed", "pr", p.Key, "app", p.AppName, "error", err)
		return nil
	case len(projects) > 0:
		// A PR reopened meanwhile owns its app again.
		pr, err := sw.r.Store.GetPR(ctx, p.Key)
		if err == nil && !pr.Closed && !pr.Uninstalled && pr.Generation > p.BuiltGeneration {
			return nil
		}
		if holder, err := sw.r.Store.ClaimAppName(ctx, p.AppName, p.Key); err != nil || holder != "" {
			return err // the app is another PR's preview now
		}
		sw.r.Logger.WarnContext(ctx, "a deleted preview app is back in the Cloud; deleting it again", "pr", p.Key, "app", p.AppName)
		if _, err := sw.r.Engine.Destroy(ctx, preview.DestroySpec{Name: p.AppName}); err != nil {
			return fmt.Errorf("deleting orphan %s: %w", p.AppName, err)
		}
	}
	sw.orphanChecked[p.Key] = p.DeletedAt
	return nil
}

// ttlDue reports whether the preview's TTL warning or deletion is due.
func ttlDue(p *store.Preview, s *state, pr *store.PullRequest, now time.Time) bool {
	return kept(p, s, pr) && !s.ExpiresAt.IsZero() && (!now.Before(s.ExpiresAt) || ttlWarnDue(p, s, pr, now))
}

// drifted marks a ready preview whose app is gone (checked once per DriftEvery).
func (sw *Sweeper) drifted(ctx context.Context, p *store.Preview) bool {
	now := sw.r.Now()
	if last, ok := sw.checked[p.Key]; ok && now.Sub(last) < sw.opts.DriftEvery {
		return false
	}
	projects, err := sw.r.Engine.Cloud.ProjectsByName(ctx, p.AppName)
	if err != nil {
		sw.r.Logger.WarnContext(ctx, "drift check failed", "pr", p.Key, "app", p.AppName, "error", err)
		return false
	}
	if len(projects) > 0 {
		sw.checked[p.Key] = now
		if len(projects) > 1 && p.ProjectID != "" && slices.ContainsFunc(projects, func(c cloud.Project) bool { return c.ID == p.ProjectID }) {
			// Several projects of one name (graphql-engine#10287): all but
			// the one this preview was built as are orphans.
			// Under the PR's lease, and only if the preview is still the one
			// listed: its job may have rebuilt or deleted it since.
			err := sw.leased(ctx, p.Key, func(cur *store.Preview) error {
				if cur.Status != store.StatusReady || cur.AppName != p.AppName || cur.ProjectID != p.ProjectID {
					return nil
				}
				res, err := sw.r.Engine.Destroy(ctx, preview.DestroySpec{Name: p.AppName, Keep: p.ProjectID})
				if err == nil && res.Deleted > 0 {
					sw.r.Logger.WarnContext(ctx, "deleted duplicate projects of a preview app", "pr", p.Key, "app", p.AppName, "deleted", res.Deleted)
				}
				return err
			})
			if err != nil {
				sw.r.Logger.WarnContext(ctx, "deleting duplicate projects failed", "pr", p.Key, "app", p.AppName, "error", err)
			}
		}
		return false
	}
	marked, merr := sw.markDrifted(ctx, p.Key)
	if merr != nil {
		sw.r.Logger.WarnContext(ctx, "marking drift failed", "pr", p.Key, "error", merr)
		return false
	}
	if marked {
		sw.checked[p.Key] = now
		sw.r.Logger.InfoContext(ctx, "preview app is gone from the Cloud; it will be rebuilt", "pr", p.Key, "app", p.AppName)
	}
	return marked
}

// markDrifted records the drift under the PR's lease, so that it cannot
// overwrite a reconcile; a held PR waits for the next sweep.
func (sw *Sweeper) markDrifted(ctx context.Context, key string) (marked bool, err error) {
	err = sw.leased(ctx, key, func(p *store.Preview) error {
		if p.Status != store.StatusReady {
			return nil
		}
		s := decodeState(p.RunState)
		s.Redo = cmp.Or(s.Redo, redoDrifted)
		p.RunState = s.encode()
		p.LastError = "the app was deleted outside hasura-preview"
		marked = true
		return sw.r.Store.SavePreview(ctx, p)
	})
	return marked, err
}

// leased runs fn on the preview as it is now, holding the PR's lease as its
// job would; while the job holds it, fn does not run.
func (sw *Sweeper) leased(ctx context.Context, key string, fn func(*store.Preview) error) error {
	st := sw.r.Store
	ok, _, err := st.AcquireLease(ctx, key, sw.owner, sweepLease)
	if err != nil || !ok {
		return err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = st.ReleaseLease(rctx, key, sw.owner)
	}()
	p, err := st.GetPreview(ctx, key)
	if err != nil {
		return err
	}
	return fn(p)
}

// forgetInstallations drops uninstalled installations without previews.
func (sw *Sweeper) forgetInstallations(ctx context.Context, q Queue) error {
	insts, err := sw.r.Store.ListInstallations(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, in := range insts {
		if !in.Deleted {
			continue
		}
		if live, err := sw.r.Store.CountActivePreviews(ctx, in.ID); err != nil || live > 0 {
			errs = append(errs, err)
			continue
		}
		if err := q.ForgetInstallation(ctx, in.ID); err != nil {
			errs = append(errs, fmt.Errorf("forgetting installation %d: %w", in.ID, err))
			continue
		}
		sw.r.GitHub.Forget(in.ID)
	}
	return errors.Join(errs...)
}
