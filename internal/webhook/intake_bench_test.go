package webhook_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// BenchmarkIntake is one delivery through ServeHTTP (no network) on SQLite:
// decode, signature, delivery + PR + River insert in one transaction. Run
// with -cpuprofile to see where an intake's time goes; `go run ./bench`
// measures the same over loopback beside a bare HMAC handler.
func BenchmarkIntake(b *testing.B) {
	h, body := benchIntake(b, storetest.SQLite(b, store.Options{}))
	b.ResetTimer()
	for i := range b.N {
		post(b, h, body(i), fmt.Sprintf("bench-%d", i))
	}
}

// BenchmarkIntakeParallel is BenchmarkIntake from 64 goroutines on each
// backend, as under a burst.
func BenchmarkIntakeParallel(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			h, body := benchIntake(b, be.Open(b, store.Options{}))
			var n atomic.Int64
			b.SetParallelism(32) // × GOMAXPROCS (2 here): 64 goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(n.Add(1))
					post(b, h, body(i), fmt.Sprintf("bench-%d", i))
				}
			})
		})
	}
}

// benchIntake returns the handler and body(i), a distinct delivery for
// each i (the intake deduplicates by body): 256 PRs, a head SHA per i.
func benchIntake(b *testing.B, st *store.Store) (http.Handler, func(i int) []byte) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.New(st, noReconcile{}, nil, jobs.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	h, err := webhook.New(webhook.Config{Secret: secret, Store: st, Queue: q, BotLogin: "hasura-preview[bot]",
		Registerer: prometheus.NewRegistry(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	base := fixture(b, "pull_request.synchronize.json")
	placeholder := []byte(strings.Repeat("f", 40))
	templates := make([][]byte, 256)
	for i := range templates {
		templates[i] = edit(b, base, 1000+i, string(placeholder), time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
	}
	b.SetBytes(int64(len(base)))
	return h, func(i int) []byte {
		return bytes.Replace(templates[i%len(templates)], placeholder, fmt.Appendf(nil, "%040x", i), 1)
	}
}

func post(b *testing.B, h http.Handler, body []byte, guid string) {
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Set("X-Hub-Signature-256", webhook.Sign(secret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		b.Errorf("%d %s", rec.Code, rec.Body)
	}
}
