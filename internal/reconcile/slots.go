package reconcile

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// capLease bounds how long a pass holds its installation's cap: a count
// and a save, and a crashed holder must not stop the line for long.
const capLease = 30 * time.Second

// leaseCap takes the installation's lease on its cap in the store; when
// another pass holds it, release is nil and wait says when to try again.
func (r *Reconciler) leaseCap(ctx context.Context, id int64) (release func(), wait time.Duration, err error) {
	key, owner := "installation:"+strconv.FormatInt(id, 10), "cap/"+rand.Text()
	ok, until, err := r.Store.AcquireLease(ctx, key, owner, capLease)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		// The holder lets go within milliseconds; jitter spreads the waiters.
		return nil, min(max(until.Sub(r.Store.Now()), minAgain), 2*time.Second) + r.Jitter(time.Second), nil
	}
	return sync.OnceFunc(func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := r.Store.ReleaseLease(rctx, key, owner); err != nil {
			r.Logger.WarnContext(rctx, "releasing the installation's cap lease", "installation", id, "error", err)
		}
	}), 0, nil
}

// waiting is a PR in line for a slot of its installation's cap, since at.
type waiting struct {
	key string
	at  time.Time
}

func compareWaiting(a, b waiting) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.key, b.key)) }

// slots counts the installation's previews that hold a slot, and lists
// those waiting for one, first in line first.
func (r *Reconciler) slots(ctx context.Context, id int64) (running int, line []waiting, err error) {
	list, err := r.Store.ListPreviews(ctx, store.PreviewFilter{InstallationID: id, ActiveOnly: true, Limit: 100000})
	if err != nil {
		return 0, nil, err
	}
	for _, o := range list {
		if o.Status != store.StatusQueued {
			running++
			continue
		}
		line = append(line, waiting{o.Key, decodeState(o.RunState).QueuedAt})
	}
	slices.SortFunc(line, compareWaiting)
	return running, line, nil
}

// wakeNext enqueues the PRs first in line for the free slots at once; a
// failure is logged, as the queue poll still comes.
func (r *Reconciler) wakeNext(ctx context.Context, ps *pass) {
	limit := r.Settings.MaxPreviewsPerInstallation
	if r.Wake == nil || limit <= 0 {
		return
	}
	running, line, err := r.slots(ctx, ps.pr.InstallationID)
	if err != nil {
		ps.log.WarnContext(ctx, "cannot look for the next PR in line", "error", err)
		return
	}
	for _, w := range line[:max(0, min(limit-running, len(line)))] {
		// The nudge reaches a running job, the enqueue a snoozed one.
		if err := r.Store.Nudge(ctx, w.key); err != nil {
			ps.log.WarnContext(ctx, "cannot wake the next PR in line", "next", w.key, "error", err)
			continue
		}
		r.enqueueWoken(ctx, ps, w.key)
	}
}

// wakeTries bounds how often wakeNext asks again for a job that was running.
const wakeTries = 4

// enqueueWoken enqueues key, again shortly if the job was running: River
// records its snooze a moment after its pass.
func (r *Reconciler) enqueueWoken(ctx context.Context, ps *pass, key string) {
	for try := 1; ; try++ {
		e, err := r.Wake(ctx, key)
		if err != nil {
			ps.log.WarnContext(ctx, "cannot wake the next PR in line", "next", key, "error", err)
			return
		}
		if e.Woken || !e.Duplicate || try == wakeTries {
			ps.log.InfoContext(ctx, "a slot is free: woke the next PR in line", "next", key, "woken", e.Woken)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}
