package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// intakeSecret signs the benchmark's deliveries.
var intakeSecret = []byte("whsec_BENCH_intake_7f3a91c2")

// Targets of the intake benchmark (issue 11): GitHub waits 10 s for an
// answer, and one App rarely sees more than a few deliveries a second.
const (
	intakeP99Target  = 250 * time.Millisecond // at concurrency 64
	intakeRateTarget = 500.0                  // deliveries/s, on this machine
)

// outcome is what one delivery got.
type outcome struct {
	guid    string
	status  int
	latency time.Duration
	err     error
}

// loadResult is one load run.
type loadResult struct {
	outcomes []outcome
	elapsed  time.Duration
	// cut: the time budget ran out before every delivery was sent.
	cut bool
}

func (r *loadResult) rate() float64 { return float64(len(r.outcomes)) / r.elapsed.Seconds() }

func (r *loadResult) lat() latencies {
	l := make(latencies, 0, len(r.outcomes))
	for _, o := range r.outcomes {
		l = append(l, o.latency)
	}
	return l
}

// load posts ds to url from conc workers until all are sent or budget has
// passed, measuring each request to the end of its response headers.
func load(ctx context.Context, url string, ds []delivery, conc int, budget time.Duration) *loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var next atomic.Int64
	res := &loadResult{outcomes: make([]outcome, len(ds))}
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ds) {
					return
				}
				res.outcomes[i] = post(ctx, client, url, ds[i])
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	n := int(min(next.Load(), int64(len(ds))))
	// A request cut by the budget is not a result.
	kept := res.outcomes[:0]
	for _, o := range res.outcomes[:n] {
		if o.guid != "" && !(o.err != nil && ctx.Err() != nil) {
			kept = append(kept, o)
		}
	}
	res.outcomes = kept
	res.cut = len(kept) < len(ds)
	return res
}

func post(ctx context.Context, client *http.Client, url string, d delivery) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return outcome{guid: d.guid, err: err}
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/bench")
	h.Set("X-GitHub-Event", "pull_request")
	h.Set("X-GitHub-Delivery", d.guid)
	h.Set("X-GitHub-Hook-ID", "109948940")
	h.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	h.Set("X-GitHub-Hook-Installation-Target-ID", "5725")
	h.Set("X-Hub-Signature-256", d.sig)
	t0 := time.Now()
	resp, err := client.Do(req)
	lat := time.Since(t0)
	if err != nil {
		return outcome{guid: d.guid, err: err, latency: lat}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return outcome{guid: d.guid, status: resp.StatusCode, latency: lat}
}

// ceiling is the least a webhook endpoint can do: read the body under the
// same cap, check the signature, answer 202.
func ceiling(secret []byte) http.Handler {
	pool := sync.Pool{New: func() any { return new(bytes.Buffer) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := pool.Get().(*bytes.Buffer)
		defer pool.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, webhook.MaxBodyBytes)); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		hexSig, _ := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
		got, err := hex.DecodeString(hexSig)
		mac := hmac.New(sha256.New, secret)
		mac.Write(buf.Bytes())
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"outcome":"accepted","reason":""}`+"\n")
	})
}

// noReconcile: the queue is real, but no worker runs, so every job stays
// countable.
type noReconcile struct{}

// Reconcile is never called: no worker runs.
func (noReconcile) Reconcile(context.Context, string) (time.Duration, error) { return 0, nil }

// intakeEnv is the real intake (handler + store + River insert) on loopback.
type intakeEnv struct {
	st    *store.Store
	q     *jobs.Client
	srv   *server
	close func()
}

func openIntake(ctx context.Context, backend, pgURL string) (*intakeEnv, error) {
	quiet := slog.New(slog.DiscardHandler)
	var url string
	cleanup := []func(){}
	closeAll := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	switch backend {
	case "sqlite":
		dir, err := os.MkdirTemp("", "hasura-preview-bench-")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dir) })
		url = filepath.Join(dir, "bench.db")
	case "postgres":
		u, drop, err := tempDatabase(ctx, pgURL)
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, drop)
		url = u
	}
	st, err := store.Open(ctx, url, store.Options{Logger: quiet})
	if err != nil {
		closeAll()
		return nil, err
	}
	cleanup = append(cleanup, st.Close)
	q, err := jobs.New(st, noReconcile{}, nil, jobs.Options{Logger: quiet})
	if err != nil {
		closeAll()
		return nil, err
	}
	h, err := webhook.New(webhook.Config{Secret: intakeSecret, Store: st, Queue: q, BotLogin: "hasura-preview[bot]",
		Registerer: prometheus.NewRegistry(), Logger: quiet})
	if err != nil {
		closeAll()
		return nil, err
	}
	// Before the store closes: deliveries in flight are recorded.
	cleanup = append(cleanup, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Close(ctx)
	})
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	srv, err := serve(mux)
	if err != nil {
		closeAll()
		return nil, err
	}
	cleanup = append(cleanup, srv.Close)
	return &intakeEnv{st: st, q: q, srv: srv, close: closeAll}, nil
}

// check counts what the store holds against what was answered: every
// delivery answered 202 must be recorded once, nothing that was never sent
// may be recorded, every redelivery is answered 200 (duplicate), and every
// recorded PR has one job. A request cut by the time budget may have been
// committed without its answer being read: it is counted apart, not as a
// loss.
func (e *intakeEnv) check(ctx context.Context, sent []delivery, outs []outcome) (string, bool, error) {
	accepted := map[string]int{}
	var dup200, bad int
	for _, o := range outs {
		switch o.status {
		case http.StatusAccepted:
			accepted[o.guid]++
		case http.StatusOK:
			dup200++
		default:
			bad++
		}
	}
	recorded, err := e.st.RecentDeliveries(ctx, len(sent)+100)
	if err != nil {
		return "", false, err
	}
	byGUID := map[string]delivery{}
	for _, d := range sent {
		byGUID[d.guid] = d
	}
	have := map[string]bool{}
	prs := map[int]bool{}
	unknown, cut := 0, 0
	for _, d := range recorded {
		have[d.GUID] = true
		s, ok := byGUID[d.GUID]
		if !ok {
			unknown++
			continue
		}
		prs[s.pr] = true
		if accepted[d.GUID] == 0 {
			cut++
		}
	}
	missing, twice := 0, 0
	for g, n := range accepted {
		if !have[g] {
			missing++
		}
		if n > 1 {
			twice++
		}
	}
	stats, err := e.q.Stats(ctx)
	if err != nil {
		return "", false, err
	}
	ok := missing == 0 && twice == 0 && unknown == 0 && bad == 0 && stats["available"] == len(prs)
	summary := fmt.Sprintf("%d/%d stored, %d jobs/%d PRs, %d dup→200, %d errors", len(recorded)-cut, len(accepted),
		stats["available"], len(prs), dup200, bad)
	if cut > 0 {
		summary += fmt.Sprintf(", %d more stored whose answer the time budget cut", cut)
	}
	if missing+unknown+twice > 0 {
		summary += fmt.Sprintf(", **%d lost, %d unknown, %d answered 202 twice**", missing, unknown, twice)
	}
	return summary, ok, nil
}

func runIntake(ctx context.Context, cfg *config, out io.Writer) error {
	levels := []int{1, 16, 64}
	n := map[bool][3]int{true: {300, 800, 1200}, false: {2000, 6000, 8000}}[cfg.quick]
	budget := map[bool]time.Duration{true: 12 * time.Second, false: 60 * time.Second}[cfg.quick]
	backends := []string{"sqlite", "postgres"}
	var rows [][]string
	firstPR := 1000
	for li, conc := range levels {
		count := n[li]
		// The ceiling first, at the same concurrency with the same bodies.
		cds, err := makeDeliveries(intakeSecret, count, firstPR, 10, 2*conc+10)
		if err != nil {
			return err
		}
		csrv, err := serve(ceiling(intakeSecret))
		if err != nil {
			return err
		}
		load(ctx, csrv.URL, cds[:min(len(cds), 50)], conc, budget) // warm-up
		ceil := load(ctx, csrv.URL, cds, conc, budget)
		csrv.Close()
		cl := ceil.lat()
		rows = append(rows, []string{"ceiling (HMAC + 202)", fmt.Sprint(conc), fmt.Sprint(len(ceil.outcomes)),
			fmt.Sprintf("%.0f", ceil.rate()), ms(cl.quantile(0.5)), ms(cl.quantile(0.99)), "1.00×", "–", "–"})
		for _, b := range backends {
			if b == "postgres" && cfg.pgURL == "" {
				continue
			}
			firstPR += count + 100
			warm, err := makeDeliveries(intakeSecret, 50, firstPR, 0, 0)
			if err != nil {
				return err
			}
			firstPR += 100
			ds, err := makeDeliveries(intakeSecret, count, firstPR, 10, 2*conc+10)
			if err != nil {
				return err
			}
			env, err := openIntake(ctx, b, cfg.pgURL)
			if err != nil {
				return fmt.Errorf("%s: %w", b, err)
			}
			w := load(ctx, env.srv.URL+"/webhook", warm, conc, budget)
			r := load(ctx, env.srv.URL+"/webhook", ds, conc, budget)
			counted, ok, err := env.check(ctx, append(warm, ds...), append(w.outcomes, r.outcomes...))
			env.close()
			if err != nil {
				return fmt.Errorf("%s: counting: %w", b, err)
			}
			l := r.lat()
			p99 := l.quantile(0.99)
			target := fmt.Sprintf("rate %s", verdict(r.rate() >= intakeRateTarget))
			if conc == 64 {
				target += fmt.Sprintf(", p99 %s", verdict(p99 < intakeP99Target))
			}
			if !ok {
				target += ", **lost or duplicated deliveries**"
			}
			sentNote := fmt.Sprint(len(r.outcomes))
			if r.cut {
				sentNote += fmt.Sprintf(" (budget %s hit)", budget)
			}
			rows = append(rows, []string{b, fmt.Sprint(conc), sentNote, fmt.Sprintf("%.0f", r.rate()),
				ms(l.quantile(0.5)), ms(p99), ratio(r.rate(), ceil.rate()), counted, target})
		}
		firstPR += count + 100
	}
	fmt.Fprintln(out, "## 1. Webhook intake")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Signed ~%d KB `pull_request.synchronize` deliveries over loopback into the real handler + store + River insert, one transaction per delivery (no workers); every 10th is a redelivery of an earlier one. Ratio = deliveries/s against the bare ceiling handler measured just before, at the same concurrency, with the same bodies.\n\n", len(syncFixture)/1024)
	table(out, []string{"Target", "Concurrency", "Deliveries", "Deliveries/s", "p50 to answer", "p99 to answer",
		"Ratio to ceiling", "Store check", "Targets (≥ 500/s; p99 < 250 ms at 64)"}, rows)
	if cfg.pgURL == "" {
		fmt.Fprintln(out, "PostgreSQL rows skipped: HASURA_PREVIEW_TEST_POSTGRES_URL is unset.")
	}
	return nil
}
