package webhook

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Group commit. A durable intake pays a transaction per delivery: on SQLite
// one writer, a WAL commit and River's insert statement parsed anew each
// time; on PostgreSQL a round trip per statement and a commit. A writer
// goroutine therefore records the deliveries that arrive together in one
// transaction (one commit, one River insert for all their jobs) and answers
// each request only after that commit, so a 202 still means "durable".

const (
	// batchWindow is how long the writer waits, at most, for deliveries
	// still being read and checked before it commits a batch. Nothing waits
	// when no other request is on its way.
	batchWindow = 2 * time.Millisecond
	// maxBatch caps the deliveries recorded in one transaction.
	maxBatch = 64
	// txTimeout bounds one batch transaction, and the one-by-one retries
	// after a failed batch together: requests wait on the writer, so a hung
	// database must not hold it forever.
	txTimeout = 30 * time.Second
)

// errClosed answers deliveries that arrive after Close.
var errClosed = errors.New("the intake is shutting down")

// pending is one decoded delivery waiting for the writer.
type pending struct {
	ctx      context.Context // the request's: once done, nobody waits for the answer
	source   string
	guid     string
	received time.Time
	in       *intent
	done     chan result // buffered: the writer never blocks on an answer
}

// writer owns the intake's transactions: one goroutine per lane, each
// committing its own batches. SQLite has one lane (one connection, one
// writer). PostgreSQL commits in parallel, and its batches are bound by
// round trips rather than CPU, so it gets postgresLanes. A PR always goes to
// the same lane, so its deliveries commit in arrival order and two lanes do
// not lock the same PR or job rows in opposite orders; only installation
// events touch other lanes' PRs, and a rare deadlock there is detected by
// PostgreSQL and re-run by Store.WithTx.
type writer struct {
	h     *Handler
	lanes []*lane
	seed  maphash.Seed
	// arriving counts requests past the method and signature-header checks
	// that have not yet handed in a delivery (or given up): a lane waits
	// for them, up to batchWindow, instead of committing a batch that is
	// about to grow. At concurrency 1 it is zero and nothing waits.
	arriving atomic.Int64
	// gate, when set, holds each lane with the first delivery of its next
	// batch (held counts them) until it is closed: tests use it to form
	// batches of known content.
	gate atomic.Pointer[chan struct{}]
	held atomic.Int64

	mu     sync.RWMutex // closed, and sends on the lanes
	closed bool
	done   chan struct{} // every lane has answered everything and exited
}

// lane is one writer goroutine's queue.
type lane struct {
	in    chan *pending
	nudge chan struct{} // a request gave up: re-check arriving
}

// postgresLanes is the number of writers on PostgreSQL (see writer).
const postgresLanes = 2

func newWriter(h *Handler) *writer {
	w := &writer{h: h, seed: maphash.MakeSeed(), done: make(chan struct{})}
	n := 1
	if h.st.Backend() == store.Postgres {
		n = postgresLanes
	}
	var wg sync.WaitGroup
	for range n {
		l := &lane{in: make(chan *pending, 4*maxBatch), nudge: make(chan struct{}, 1)}
		w.lanes = append(w.lanes, l)
		wg.Go(func() { w.run(l) })
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// laneOf picks p's lane: by PR, so that a PR stays on one lane.
func (w *writer) laneOf(p *pending) *lane {
	if len(w.lanes) == 1 {
		return w.lanes[0]
	}
	key := p.guid
	switch in := p.in; {
	case in.pr != nil:
		key = in.pr.Key
	case in.installation != nil:
		key = "installation " + strconv.FormatInt(in.installation.ID, 10)
	}
	return w.lanes[maphash.String(w.seed, key)%uint64(len(w.lanes))]
}

// arrival is one request on its way to the writer.
type arrival struct {
	w    *writer
	over bool
}

// arrive announces a request that will probably hand in a delivery; call
// leave when it gives up (it is a no-op once the delivery is handed in).
func (w *writer) arrive() *arrival {
	w.arriving.Add(1)
	return &arrival{w: w}
}

// leave ends an arrival without a delivery, waking a writer that was
// waiting for it.
func (a *arrival) leave() {
	if a.over {
		return
	}
	a.over = true
	if a.w.arriving.Add(-1) == 0 {
		for _, l := range a.w.lanes {
			select {
			case l.nudge <- struct{}{}:
			default:
			}
		}
	}
}

// handIn ends an arrival without the nudge: the send that follows wakes the
// writer anyway, and a nudge would only make a writer that has just taken
// this delivery wake once more (a thread wake-up per delivery at
// concurrency 1, where every batch is one delivery).
func (a *arrival) handIn() {
	if !a.over {
		a.over = true
		a.w.arriving.Add(-1)
	}
}

// submit hands p to the writer and waits for its answer, or for p.ctx.
func (w *writer) submit(p *pending, a *arrival) result {
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		a.leave()
		return result{status: http.StatusServiceUnavailable, outcome: "error", reason: "shutting down", err: errClosed}
	}
	a.handIn()
	select {
	case w.laneOf(p).in <- p:
	case <-p.ctx.Done():
		w.mu.RUnlock()
		return gone(p.ctx)
	}
	w.mu.RUnlock()
	select {
	case res := <-p.done:
		return res
	case <-p.ctx.Done():
		// The writer still records or skips it; the client will not know
		// which, and GitHub's redelivery is deduplicated either way.
		return gone(p.ctx)
	}
}

func gone(ctx context.Context) result {
	return result{status: http.StatusServiceUnavailable, outcome: "error",
		reason: "the client went away before the delivery was recorded", err: context.Cause(ctx)}
}

func (w *writer) answer(p *pending, res result) { p.done <- res }

// close stops accepting deliveries; the writer records those already
// handed in, answers them and exits.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		for _, l := range w.lanes {
			close(l.in)
		}
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: deliveries still being recorded: %w", ctx.Err())
	}
}

func (w *writer) run(l *lane) {
	batch := make([]*pending, 0, maxBatch)
	for {
		first, ok := <-l.in
		if !ok {
			return
		}
		if g := w.gate.Load(); g != nil {
			w.held.Add(1)
			<-*g
			w.held.Add(-1)
		}
		batch = w.collect(l, append(batch[:0], first))
		w.commit(batch)
		clear(batch) // drop references to answered requests
	}
}

// collect adds what is already queued and, while requests are still on
// their way, what arrives within batchWindow, up to maxBatch.
func (w *writer) collect(l *lane, batch []*pending) []*pending {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for len(batch) < maxBatch {
		select {
		case p, ok := <-l.in:
			if !ok {
				return batch
			}
			batch = append(batch, p)
			continue
		default:
		}
		if w.arriving.Load() == 0 {
			return batch
		}
		if timer == nil {
			timer = time.NewTimer(batchWindow)
		}
		select {
		case p, ok := <-l.in:
			if !ok {
				return batch
			}
			batch = append(batch, p)
		case <-l.nudge:
		case <-timer.C:
			return batch
		}
	}
	return batch
}

// commit records the batch in one transaction and answers each delivery.
// When that transaction fails, each delivery is retried in one of its own,
// so that one that cannot be stored does not fail the others.
func (w *writer) commit(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if p.ctx.Err() != nil {
			// Nobody waits for this answer and no 202 was promised: not
			// recording it keeps the batch for those who still wait.
			w.answer(p, gone(p.ctx))
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	w.h.m.batchSize.Observe(float64(len(live)))
	ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
	defer cancel()
	results, err := w.h.applyBatch(ctx, live)
	if err == nil {
		for i, p := range live {
			w.answer(p, results[i])
		}
		return
	}
	if len(live) == 1 {
		w.answer(live[0], failed(err))
		return
	}
	w.h.log.Warn("a batch of deliveries failed; recording them one by one", "deliveries", len(live), "error", err)
	retry, cancelRetry := context.WithTimeout(context.Background(), txTimeout)
	defer cancelRetry()
	for _, p := range live {
		if p.ctx.Err() != nil {
			w.answer(p, gone(p.ctx))
			continue
		}
		res, err := w.h.applyBatch(retry, []*pending{p})
		if err != nil {
			w.answer(p, failed(err))
			continue
		}
		w.answer(p, res[0])
	}
}

// failed is the answer when nothing of the delivery was committed, so a
// redelivery will be processed afresh.
func failed(err error) result {
	return result{status: http.StatusInternalServerError, outcome: "error", reason: "internal error", err: err}
}

// applyBatch records the deliveries in arrival order, in one transaction,
// with one enqueue for all the PRs they touch.
func (h *Handler) applyBatch(ctx context.Context, batch []*pending) ([]result, error) {
	results := make([]result, len(batch))
	counts := make([]int, len(batch))
	var keys []string
	err := h.st.WithTx(ctx, func(tx *store.Tx) error {
		keys = keys[:0] // PostgreSQL may run this again after a serialization failure
		for i, p := range batch {
			res, ks, err := h.apply(ctx, tx, p)
			if err != nil {
				return fmt.Errorf("delivery %s: %w", p.guid, err)
			}
			results[i], counts[i] = res, len(ks)
			keys = append(keys, ks...)
		}
		_, err := h.q.EnqueueManyTx(ctx, tx, keys)
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range results {
		if counts[i] > 1 {
			results[i].reason = strings.TrimPrefix(results[i].reason+"; ", "; ") + strconv.Itoa(counts[i]) + " PRs queued"
		}
	}
	return results, nil
}

// apply records one delivery and what it implies within tx, and returns
// the PRs whose reconcile job it asks for.
func (h *Handler) apply(ctx context.Context, tx *store.Tx, p *pending) (result, []string, error) {
	in := p.in
	res := result{status: http.StatusAccepted, outcome: string(in.outcome), reason: in.reason}
	if in.outcome == store.OutcomeRejected {
		res.status = http.StatusBadRequest
	}
	d := &store.Delivery{Source: p.source, GUID: p.guid, Event: in.event, Action: in.action, Repo: in.repo,
		PRNumber: in.number, Outcome: in.outcome, Reason: in.reason, ReceivedAt: p.received}
	inserted, err := tx.InsertDelivery(ctx, d)
	if err != nil {
		return result{}, nil, err
	}
	if !inserted {
		return result{status: http.StatusOK, outcome: string(store.OutcomeDuplicate), reason: "already received"}, nil, nil
	}
	var keys []string
	switch in.kind {
	case kindPullRequest:
		applied, err := tx.RecordPullRequest(ctx, in.pr, in.demandsWork, in.reopened)
		if err != nil {
			return result{}, nil, err
		}
		if !applied {
			res.reason = "older than the recorded state"
			return res, nil, tx.SetDeliveryOutcome(ctx, p.source, p.guid, in.outcome, res.reason)
		}
		keys = []string{in.pr.Key}
	case kindCommand:
		c := in.command
		c.At = p.received
		if err := tx.RecordCommand(ctx, in.pr, c); err != nil {
			return result{}, nil, err
		}
		keys = []string{in.pr.Key}
	case kindInstallUpsert:
		err = tx.UpsertInstallation(ctx, in.installation)
	case kindInstallSuspend:
		err = tx.SetInstallationSuspended(ctx, in.installation.ID, true)
	case kindInstallDelete:
		keys, err = tx.MarkInstallationDeleted(ctx, in.installation.ID)
	case kindReposChanged:
		if err = tx.AddRepos(ctx, in.installation.ID, in.reposAdded); err == nil {
			keys, err = tx.MarkReposRemoved(ctx, in.installation.ID, in.reposRemoved)
		}
	}
	if err != nil {
		return result{}, nil, err
	}
	return res, keys, nil
}
