// Package webhook is the service's front door: it checks a GitHub delivery's
// headers and signature, decodes it, and records the PR's desired state, the
// delivery and a reconcile job in one transaction. It never calls GitHub or
// the Cloud; the reconciler does that later.
package webhook

import (
	"bytes"
	"cmp"
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

// MaxBytesInFlight bounds the body bytes held at once. Every body is held
// before its signature can be checked, so this is what keeps an
// unauthenticated sender from exhausting memory.
const MaxBytesInFlight = 32 << 20

// txTimeout bounds recording one delivery: a hung database must not hold
// requests forever.
const txTimeout = 30 * time.Second

// Enqueuer puts the reconcile jobs of a delivery in the intake's
// transaction (*jobs.Client).
type Enqueuer interface {
	EnqueueManyTx(ctx context.Context, tx *store.Tx, prKeys []string) ([]jobs.Enqueued, error)
}

// Config is what New needs; Secret, Store, Queue and BotLogin are required.
type Config struct {
	Secret   []byte // the webhook secret
	Store    *store.Store
	Queue    Enqueuer
	BotLogin string // the App's bot, "<slug>[bot]": its comments are ours
	// Registerer receives the intake's metrics (nil: not registered).
	Registerer prometheus.Registerer
	Logger     *slog.Logger     // one line per delivery [slog.Default()]
	Now        func() time.Time // for latency and received times [time.Now]
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

	mu       sync.Mutex
	closed   bool
	held     int64          // body bytes reserved by requests in flight
	inFlight sync.WaitGroup // requests past the header checks
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
	if cfg.BotLogin == "" {
		problems = append(problems, "the App's bot login is required")
	}
	if len(problems) > 0 {
		return nil, errors.New("webhook: " + strings.Join(problems, "; "))
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("webhook: registering metrics: %w", err)
	}
	h := &Handler{secret: bytes.Clone(cfg.Secret), st: cfg.Store, q: cfg.Queue, botLogin: cfg.BotLogin, m: m,
		log: cmp.Or(cfg.Logger, slog.Default()), now: cfg.Now}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Close stops accepting deliveries (later ones get 503) and waits until
// those in flight are answered, or ctx ends. Call it after the HTTP
// server's Shutdown and before closing the Store.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.inFlight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: deliveries still being recorded: %w", ctx.Err())
	}
}

// admit reserves n body bytes for a request and counts it in flight, or
// answers why not.
func (h *Handler) admit(n int64) (release func(), refused *result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, &result{status: http.StatusServiceUnavailable, outcome: "error", reason: "shutting down",
			err: errors.New("the intake is shutting down"), unread: true}
	case h.held+n > MaxBytesInFlight:
		return nil, &result{status: http.StatusServiceUnavailable, outcome: "error", reason: "too many bytes in flight; try again",
			retryAfter: true, unread: true}
	}
	h.held += n
	h.inFlight.Add(1)
	return func() {
		h.mu.Lock()
		h.held -= n
		h.mu.Unlock()
		h.inFlight.Done()
	}, nil
}

// result is what the handler answers and logs for one request.
type result struct {
	status     int
	outcome    string // a store.Outcome, or "error"
	reason     string
	err        error // logged, never sent back
	retryAfter bool  // ask the sender to come back in a moment
	unread     bool  // refused before the body was read
}

// ServeHTTP answers one delivery: 202 once recorded (accepted or ignored),
// 200 for ping and duplicates, 400/401/405/411/413 for bad requests, 500
// when nothing could be committed (a redelivery then starts afresh), 503
// after Close or while too many body bytes are in flight.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	event, guid := r.Header.Get("X-GitHub-Event"), r.Header.Get("X-GitHub-Delivery")
	res, in := h.serve(r, start, event, guid)

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
	switch {
	case res.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case res.retryAfter:
		w.Header().Set("Retry-After", "1")
	}
	if res.unread {
		// Otherwise net/http reads up to 256 KiB of the unread body before
		// it answers, hoping to reuse the connection.
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(res.status)
	_, _ = fmt.Fprintf(w, "{\"outcome\":%q,\"reason\":%q}\n", res.outcome, res.reason)
}

// serve checks everything the headers tell before it reads the body, then
// reads exactly Content-Length bytes, checks the signature, decodes and
// records.
func (h *Handler) serve(r *http.Request, start time.Time, event, guid string) (result, *intent) {
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "only POST"), nil
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		return refuse(http.StatusUnauthorized, "missing X-Hub-Signature-256"), nil
	}
	want, ok := parseSignature(sig)
	if !ok {
		return refuse(http.StatusUnauthorized, "bad signature"), nil
	}
	if event == "" || guid == "" {
		return refuse(http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery"), nil
	}
	// GitHub states each payload's length ("Content-Length: 6615" in
	// "Webhook events and payloads", delivery headers); without it the
	// bytes to hold cannot be known before reading them.
	switch n := r.ContentLength; {
	case n < 0:
		return refuse(http.StatusLengthRequired, "Content-Length is required"), nil
	case n > MaxBodyBytes:
		return refuse(http.StatusRequestEntityTooLarge, "payload over 25 MiB"), nil
	}
	release, refused := h.admit(r.ContentLength)
	if refused != nil {
		return *refused, nil
	}
	defer release()
	held, err := readBody(r.Body, int(r.ContentLength), h.secret) // exactly Content-Length bytes, never more
	if err != nil {
		return reject(http.StatusBadRequest, "reading the body failed"), nil
	}
	if !held.signedBy(want) {
		held.release()
		return reject(http.StatusUnauthorized, "bad signature"), nil
	}
	body := held.bytes()
	held.release()
	if event == "ping" {
		return result{status: http.StatusOK, outcome: string(store.OutcomeAccepted), reason: "pong"}, nil
	}
	d := &store.Delivery{Source: sourceOf(r.Header), GUID: guid, Event: event, ReceivedAt: start}
	in, err := decode(event, body, h.botLogin)
	if err != nil {
		// Record it for the dashboard, without its hash: the same body under
		// its right event type is still to be read.
		bad := &intent{outcome: store.OutcomeRejected, reason: err.Error()}
		res := reject(http.StatusBadRequest, err.Error())
		res.err = h.record(r.Context(), d, bad).err
		return res, nil
	}
	d.BodyHash = bodyHash(body)
	return h.record(r.Context(), d, in), in
}

// reject is the 4xx answer to a request the intake refuses.
func reject(status int, reason string) result {
	return result{status: status, outcome: string(store.OutcomeRejected), reason: reason}
}

// refuse is reject before the body was read.
func refuse(status int, reason string) result {
	r := reject(status, reason)
	r.unread = true
	return r
}

// parseSignature reads "sha256=<hex>". Nothing else is accepted: no SHA-1,
// no unsigned payloads.
func parseSignature(header string) (sum [sha256.Size]byte, ok bool) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(hexSig)); err != nil {
		return sum, false
	}
	return sum, true
}

// bodyHash identifies a payload whatever headers came with it: a signed body
// replayed under a new X-GitHub-Delivery (unsigned) is the same body.
func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
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
