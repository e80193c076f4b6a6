// Package webhook is the service's front door: it checks a GitHub delivery's
// signature, decodes it, and records the PR's desired state, the delivery
// and a reconcile job in one transaction, answering in milliseconds. It never
// calls GitHub or the Cloud; the reconciler does that later.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// MaxBodyBytes is GitHub's own cap on a payload: 25 MiB.
const MaxBodyBytes = 25 << 20

// Enqueuer puts the reconcile jobs of a batch of deliveries in the
// intake's transaction with one call (*jobs.Client).
type Enqueuer interface {
	EnqueueManyTx(ctx context.Context, tx *store.Tx, prKeys []string) ([]jobs.Enqueued, error)
}

// Config is what New needs.
type Config struct {
	// Secret is the webhook secret; required.
	Secret []byte
	// Store records deliveries and desired state; required.
	Store *store.Store
	// Queue enqueues reconcile jobs, once per batch of deliveries; required.
	Queue Enqueuer
	// AppSlug is the GitHub App's slug; its bot is "<slug>[bot]". BotLogin
	// overrides that. One of them is required: comments by the bot are ours.
	AppSlug  string
	BotLogin string
	// Registerer receives the intake's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Logger gets one line per delivery [slog.Default()].
	Logger *slog.Logger
	// Now is the clock for latency and received times [time.Now].
	Now func() time.Time
}

// Handler serves POST /webhook.
type Handler struct {
	secret   []byte
	st       *store.Store
	q        Enqueuer
	botLogin string
	m        *metrics
	log      *slog.Logger
	now      func() time.Time
	bufs     sync.Pool
	w        *writer
}

// New checks cfg and builds the Handler.
func New(cfg Config) (*Handler, error) {
	var problems []string
	if len(cfg.Secret) == 0 {
		problems = append(problems, "a webhook secret is required (unsigned deliveries are never accepted)")
	}
	if cfg.Store == nil {
		problems = append(problems, "a store is required")
	}
	if cfg.Queue == nil {
		problems = append(problems, "a queue is required")
	}
	bot := cfg.BotLogin
	if bot == "" && cfg.AppSlug != "" {
		bot = cfg.AppSlug + "[bot]"
	}
	if bot == "" {
		problems = append(problems, "the App slug (or its bot login) is required")
	}
	if len(problems) > 0 {
		return nil, errors.New("webhook: " + strings.Join(problems, "; "))
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("webhook: registering metrics: %w", err)
	}
	h := &Handler{secret: bytes.Clone(cfg.Secret), st: cfg.Store, q: cfg.Queue, botLogin: bot, m: m,
		log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	h.w = newWriter(h)
	return h, nil
}

// Close stops accepting deliveries (later ones get 503, and GitHub may
// redeliver them), waits until those already handed in are recorded and
// answered, and stops the writer goroutine. Call it after the HTTP server's
// Shutdown and before closing the Store. It returns early with an error when
// ctx ends first; the writer then still finishes in the background.
func (h *Handler) Close(ctx context.Context) error { return h.w.close(ctx) }

// result is what the handler answers and logs for one request.
type result struct {
	status  int
	outcome string // a store.Outcome, or "error"
	reason  string
	err     error // logged, never sent back
}

// ServeHTTP answers one delivery: 202 once recorded (accepted or ignored),
// 200 for ping and duplicates, 400/401/405/413 for bad requests, 500 when
// nothing could be committed (a redelivery then starts afresh), 503 after
// Close.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	hdr := r.Header
	event, guid := hdr.Get("X-GitHub-Event"), hdr.Get("X-GitHub-Delivery")
	res, in := h.serve(w, r, start, event, guid)

	elapsed := h.now().Sub(start)
	h.m.deliveries.WithLabelValues(eventLabel(event), res.outcome).Inc()
	h.m.latency.WithLabelValues(res.outcome).Observe(elapsed.Seconds())

	attrs := []slog.Attr{
		slog.String("event", event), slog.String("delivery", guid), slog.String("outcome", res.outcome),
		slog.Int("status", res.status), slog.Duration("duration", elapsed),
	}
	if in != nil {
		attrs = append(attrs, slog.String("action", in.action), slog.String("repo", in.repo), slog.Int("pr", in.number))
	}
	if res.reason != "" {
		attrs = append(attrs, slog.String("reason", res.reason))
	}
	if res.err != nil {
		attrs = append(attrs, slog.String("error", res.err.Error()))
	}
	level := slog.LevelInfo
	switch res.outcome {
	case string(store.OutcomeRejected):
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	h.log.LogAttrs(r.Context(), level, "webhook delivery", attrs...)

	w.Header().Set("Content-Type", "application/json")
	if res.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.WriteHeader(res.status)
	_, _ = fmt.Fprintf(w, "{\"outcome\":%q,\"reason\":%q}\n", res.outcome, res.reason)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, start time.Time, event, guid string) (result, *intent) {
	if r.Method != http.MethodPost {
		return reject(http.StatusMethodNotAllowed, "only POST"), nil
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		return reject(http.StatusUnauthorized, "missing X-Hub-Signature-256"), nil
	}
	// From here on the writer may wait a moment for this delivery.
	a := h.w.arrive()
	defer a.leave()
	buf := h.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // do not pin a huge payload's buffer
			buf.Reset()
			h.bufs.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return reject(http.StatusRequestEntityTooLarge, "payload over 25 MiB"), nil
		}
		return reject(http.StatusBadRequest, "reading the body failed"), nil
	}
	body := buf.Bytes()
	if !validSignature(sig, body, h.secret) {
		return reject(http.StatusUnauthorized, "bad signature"), nil
	}
	if event == "" || guid == "" {
		return reject(http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery"), nil
	}
	if event == "ping" {
		return result{status: http.StatusOK, outcome: string(store.OutcomeAccepted), reason: "pong"}, nil
	}
	source := sourceOf(r.Header)
	in, err := decode(event, body, h.botLogin)
	if err != nil {
		// Signed by GitHub yet unreadable: record it so the dashboard shows it.
		bad := &intent{event: event, outcome: store.OutcomeRejected, reason: err.Error()}
		res := reject(http.StatusBadRequest, err.Error())
		res.err = h.record(r.Context(), source, guid, start, bad, a).err
		return res, nil
	}
	return h.record(r.Context(), source, guid, start, in, a), in
}

// reject is the 4xx answer to a request the intake refuses.
func reject(status int, reason string) result {
	return result{status: status, outcome: string(store.OutcomeRejected), reason: reason}
}

// record hands the delivery to the writer and waits until it is committed.
func (h *Handler) record(ctx context.Context, source, guid string, received time.Time, in *intent, a *arrival) result {
	p := &pending{ctx: ctx, source: source, guid: guid, received: received, in: in, done: make(chan result, 1)}
	return h.w.submit(p, a)
}

// validSignature checks "sha256=<hex>" against the body's HMAC in constant
// time. Nothing else is accepted: no SHA-1, no unsigned payloads.
func validSignature(header string, body, secret []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	var want [sha256.Size]byte
	return hmac.Equal(got[:], mac.Sum(want[:0]))
}

// sourceOf names who sent the delivery: the App (by id) or the hook. Two
// Apps receive the same X-GitHub-Delivery for one event.
func sourceOf(h http.Header) string {
	src := "unknown"
	switch tid := h.Get("X-GitHub-Hook-Installation-Target-ID"); {
	case tid != "" && h.Get("X-GitHub-Hook-Installation-Target-Type") == "integration":
		src = "app:" + tid
	case h.Get("X-GitHub-Hook-ID") != "":
		src = "hook:" + h.Get("X-GitHub-Hook-ID")
	case tid != "":
		src = h.Get("X-GitHub-Hook-Installation-Target-Type") + ":" + tid
	}
	if len(src) > 100 {
		src = src[:100]
	}
	return src
}

// Sign returns the X-Hub-Signature-256 value GitHub would send for body;
// for tests and tools that post deliveries.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
