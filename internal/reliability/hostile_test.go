package reliability

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hasura-preview/hasura-preview/internal/jobs"
	"github.com/hasura-preview/hasura-preview/internal/store"
	"github.com/hasura-preview/hasura-preview/internal/store/storetest"
	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

const hostileSecret = "whsec_RELIABILITY_hostile_0c7e3b"

type noReconcile struct{}

func (noReconcile) Reconcile(context.Context, string) (time.Duration, error) { return 0, nil }

// TestHostileDeliveriesAtIntake sends the hostile table to the real intake
// (handler, store, River insert) on each backend, checking the status of
// each, the health endpoint after each, and that accepted hostile values
// are stored exactly as sent.
func TestHostileDeliveriesAtIntake(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t, store.Options{})
			logs := &lockedBuffer{}
			log := slog.New(slog.NewJSONHandler(logs, nil))
			q, err := jobs.New(st, noReconcile{}, nil, jobs.Options{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			h, err := webhook.New(webhook.Config{Secret: []byte(hostileSecret), Store: st, Queue: q,
				BotLogin: "hasura-preview[bot]", Registerer: prometheus.NewRegistry(), Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = h.Close(ctx)
			})
			mux := http.NewServeMux()
			mux.Handle("/webhook", h)
			mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
				if err := st.Ping(r.Context()); err != nil {
					http.Error(w, "store down", http.StatusServiceUnavailable)
				}
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			cases := HostileDeliveries([]byte(hostileSecret))
			if len(cases) < 20 {
				t.Fatalf("only %d hostile cases", len(cases))
			}
			ctx := context.Background()
			prs := 0
			for _, r := range SendHostile(ctx, srv.Client(), srv.URL+"/webhook", srv.URL+"/healthz", []byte(hostileSecret), cases) {
				if !r.OK() {
					t.Errorf("%s", r)
					continue
				}
				if r.Case.PR == "" || r.Status != http.StatusAccepted {
					continue
				}
				prs++
				pr, err := st.GetPR(ctx, r.Case.PR)
				if err != nil {
					t.Errorf("%s: PR not stored: %v", r.Case.Name, err)
					continue
				}
				if r.Case.Branch != "" && pr.Branch != r.Case.Branch {
					t.Errorf("%s: branch stored as %.80q", r.Case.Name, pr.Branch)
				}
				if r.Case.Title != "" && pr.Title != r.Case.Title {
					t.Errorf("%s: title stored as %q", r.Case.Name, pr.Title)
				}
			}
			// The SQL-looking values dropped nothing: the tables still answer.
			if _, err := st.RecentDeliveries(ctx, 10); err != nil {
				t.Fatalf("deliveries after hostile input: %v", err)
			}
			if s, err := q.Stats(ctx); err != nil || s["available"] != prs {
				t.Fatalf("jobs %v (%v), want %d available", s, err, prs)
			}
			leaks, err := ScanSecrets(map[string]string{"webhook secret": hostileSecret}, map[string]string{"intake log": logs.String()})
			if err != nil || len(leaks) > 0 {
				t.Fatalf("leaks: %v %v", leaks, err)
			}
			if strings.Contains(logs.String(), "panic") {
				t.Fatal("a handler panicked")
			}
		})
	}
}
