package reconcile

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/ghapp"
	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// lowBudgetPercent is the share of the hourly GitHub limit below which only
// final states are shown.
const lowBudgetPercent = 10

// ghBudget is what this process knows of one installation's GitHub rate
// limit, read off every answer; until is when it may call GitHub again.
type ghBudget struct {
	limit, remaining int
	reset, until     time.Time
}

// Budgets are the installations' GitHub rate limits, the pause kept in the
// store for every replica. Its Middleware goes on the installation clients.
type Budgets struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu sync.Mutex
	m  map[int64]ghBudget
}

// NewBudgets returns budgets sharing pauses through st; log and now may be nil.
func NewBudgets(st *store.Store, log *slog.Logger, now func() time.Time) *Budgets {
	log = cmp.Or(log, slog.Default())
	if now == nil {
		now = time.Now
	}
	return &Budgets{st: st, log: log, now: now, m: map[int64]ghBudget{}}
}

// with runs f on installation id's budget, under the lock.
func (bs *Budgets) with(id int64, f func(b *ghBudget)) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[id]
	f(&b)
	bs.m[id] = b
}

// pausedUntil reports whether installation id must not call GitHub now.
func (bs *Budgets) pausedUntil(id int64) (until time.Time, paused bool) {
	now := bs.now()
	bs.with(id, func(b *ghBudget) { until, paused = b.until, now.Before(b.until) })
	return until, paused
}

// sharedPause is pausedUntil with the pause recorded in the store.
func (bs *Budgets) sharedPause(ctx context.Context, id int64) (time.Time, bool, error) {
	stored, err := bs.st.GitHubPausedUntil(ctx, id)
	if err != nil {
		return time.Time{}, false, err
	}
	bs.extend(id, stored)
	until, paused := bs.pausedUntil(id)
	return until, paused, nil
}

// extend moves id's pause to end at until, if later (moved), which may
// start one.
func (bs *Budgets) extend(id int64, until time.Time) (started, later bool) {
	now := bs.now()
	bs.with(id, func(b *ghBudget) {
		later = until.After(b.until) && until.After(now)
		started = later && !now.Before(b.until)
		if later {
			b.until = until
		}
	})
	return started, later
}

// low reports whether installation id is short of GitHub budget.
func (bs *Budgets) low(id int64) (low bool) {
	now := bs.now()
	bs.with(id, func(b *ghBudget) {
		low = b.limit > 0 && now.Before(b.reset) && b.remaining*100 < b.limit*lowBudgetPercent
	})
	return low
}

// record keeps one answer's rate-limit headers (the core budget's only).
func (bs *Budgets) record(id int64, h http.Header) {
	if res := h.Get("X-RateLimit-Resource"); res != "" && res != "core" {
		return
	}
	limit, err1 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	bs.with(id, func(b *ghBudget) { b.limit, b.remaining, b.reset = limit, remaining, time.Unix(reset, 0) })
}

// pause stops installation id's GitHub calls until then, in every replica.
func (bs *Budgets) pause(ctx context.Context, id int64, until time.Time) {
	started, later := bs.extend(id, until)
	if started {
		bs.log.WarnContext(ctx, "GitHub rate limit of the installation reached; its GitHub calls wait until it resets, builds in flight carry on",
			"installation", id, "until", until)
	}
	if !later {
		return
	}
	// The pause holds in this process whatever becomes of the write.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := bs.st.PauseGitHub(sctx, id, until); err != nil {
		bs.log.WarnContext(ctx, "the GitHub pause is not shared with other replicas", "installation", id, "error", err)
	}
}

// resumeWait is how long to snooze for a pause that ends at until, plus a
// jitter (a tenth, 1s to 1m) that spreads the installation's PRs.
func (r *Reconciler) resumeWait(until time.Time) time.Duration {
	d := max(until.Sub(r.Now()), minAgain)
	return d + r.Jitter(min(max(d/10, time.Second), time.Minute))
}

// Middleware (ghapp) reads the budget off every answer, pauses on a long
// rate-limit wait, and refuses to send while paused.
func (bs *Budgets) Middleware(id int64, next http.RoundTripper) http.RoundTripper {
	return &budgetTransport{next: next, bs: bs, id: id}
}

type budgetTransport struct {
	next http.RoundTripper
	bs   *Budgets
	id   int64
}

// RoundTrip implements http.RoundTripper.
func (t *budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	now := t.bs.now()
	if until, paused := t.bs.pausedUntil(t.id); paused {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &ghreport.RateLimitError{Op: "not sent while the installation's GitHub rate limit is spent", Until: until}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	t.bs.record(t.id, resp.Header)
	var until time.Time
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests:
		until, _ = ghreport.RateLimitUntil(ghapp.RateLimitAnswer(resp), now)
	case resp.Header.Get("X-RateLimit-Remaining") == "0":
		// The last request of the window: the next one would be refused.
		if s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			until = time.Unix(s, 0)
		}
	}
	// A shorter wait is waited out within the pass (ghreport does).
	if until.Sub(now) > maxRateLimitWait {
		t.bs.pause(req.Context(), t.id, until)
	}
	return resp, nil
}

// snoozeRateLimited turns a rate-limit error into a snooze until the reset,
// instead of an error River would retry every few seconds.
func (r *Reconciler) snoozeRateLimited(ctx context.Context, ps *pass, again time.Duration, err error) (time.Duration, error) {
	until, limited := ghreport.RateLimitUntil(err, r.Now())
	if err == nil || !limited {
		return again, err
	}
	id := ps.pr.InstallationID
	if u, paused := r.Budgets.pausedUntil(id); paused && u.After(until) {
		until = u
	}
	if until.Sub(r.Now()) > maxRateLimitWait {
		// Not every limit shows in the headers (a secondary one).
		r.Budgets.pause(ctx, id, until)
	}
	ps.log.DebugContext(ctx, "GitHub rate limit; reconciling again when it resets", "until", until)
	return r.resumeWait(until), nil
}
