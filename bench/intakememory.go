package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/reliability"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// The intake's memory under unauthenticated load: issue 10's target.
const (
	memoryRSSTarget = 128 << 20
	memorySenders   = 16
)

// runIntakeMemory has 16 senders post 25 MiB bodies with a well-formed but
// wrong signature to the service binary, each again as soon as it is
// answered, and reads the service's peak RSS (VmHWM) against its RSS idle
// after start, in the same run.
func runIntakeMemory(ctx context.Context, cfg *config, out io.Writer) error {
	span := map[bool]time.Duration{true: 10 * time.Second, false: 30 * time.Second}[cfg.quick]
	dir, bin, cleanup, err := buildTemp(ctx, cfg, "hasura-preview-bench-memory-", "./cmd/webhook", "hasura-preview-webhook")
	if err != nil {
		return err
	}
	defer cleanup()
	w, err := reliability.NewWorld(reliability.WorldOptions{Bin: bin, Dir: dir, PRs: 1, Env: map[string]string{"LOG_LEVEL": "error"}})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Start(ctx); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	idle := w.PeakRSS()

	body := bytes.Repeat([]byte(`{"action":"opened","padding":"`), webhook.MaxBodyBytes/30)
	body = append(body, bytes.Repeat([]byte(" "), webhook.MaxBodyBytes-len(body))...)
	wrongSig := "sha256=" + strings.Repeat("0f", 32)
	tr := &http.Transport{MaxConnsPerHost: memorySenders, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		statuses sync.Map // status code → *atomic.Int64
		failed   atomic.Int64
		sent     atomic.Int64
	)
	count := func(code int) {
		v, _ := statuses.LoadOrStore(code, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	sctx, cancel := context.WithTimeout(ctx, span)
	defer cancel()
	var wg sync.WaitGroup
	for i := range memorySenders {
		wg.Go(func() {
			for n := 0; sctx.Err() == nil; n++ {
				req, err := http.NewRequestWithContext(sctx, http.MethodPost, w.URL+"/webhook", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("memory-%d-%d", i, n))
				req.Header.Set("X-Hub-Signature-256", wrongSig)
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					// The service may answer 503 and close the connection
					// while the sender is still uploading.
					if sctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				count(resp.StatusCode)
			}
		})
	}
	wg.Wait()
	peak := w.PeakRSS()
	healthy := false
	if resp, err := http.Get(w.URL + "/healthz"); err == nil {
		resp.Body.Close()
		healthy = resp.StatusCode == http.StatusOK
	}

	var answers []string
	statuses.Range(func(k, v any) bool {
		answers = append(answers, fmt.Sprintf("%d × %d", v.(*atomic.Int64).Load(), k))
		return true
	})
	sort.Strings(answers)
	fmt.Fprintln(out, "## 1b. Intake memory under unsigned 25 MiB bodies")
	fmt.Fprintln(out)
	fmt.Fprintf(out, "The service binary (built as the Dockerfile does) on SQLite; %d senders in the bench process each post a 25 MiB body with a well-formed but wrong `X-Hub-Signature-256`, again as soon as it is answered, for %s. RSS is VmHWM of the service process from /proc; the baseline is the same process idle after start.\n\n", memorySenders, span)
	table(out, []string{"Measure", "Value", "Baseline", "Ratio (target)"}, [][]string{
		{"peak RSS (VmHWM)", fmt.Sprintf("%.1f MiB", float64(peak)/(1<<20)), fmt.Sprintf("idle after start: %.1f MiB", float64(idle)/(1<<20)),
			fmt.Sprintf("%s (< 128 MiB: %s)", ratio(float64(peak), float64(idle)), verdict(peak < memoryRSSTarget))},
		{"requests", fmt.Sprintf("%d sent: %s; %d cut off while uploading", sent.Load(), strings.Join(answers, ", "), failed.Load()),
			"–", fmt.Sprintf("healthy after: %v", healthy)},
	})
	return nil
}
