package service

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Pinger is what /readyz asks (*store.Store).
type Pinger interface {
	Ping(ctx context.Context) error
}

// routes is what the HTTP server serves.
type routes struct {
	webhook   http.Handler
	dashboard http.Handler
	setup     http.Handler // GET /setup, /setup/callback
	registry  *prometheus.Registry
	db        Pinger
	log       *slog.Logger
	// draining turns /readyz to 503 once shutdown begins.
	draining *atomic.Bool
}

func (r *routes) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", r.webhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// Liveness does not look at the database: an outage must not get
		// every replica killed.
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", r.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
		// A failing collector leaves the other series intact.
		ErrorHandling: promhttp.ContinueOnError,
	}))
	pages(mux, r.dashboard, r.setup)
	return mux
}

// pages registers the dashboard and /setup: the routes the dashboard's own
// listener serves too.
func pages(mux *http.ServeMux, dashboard, setup http.Handler) {
	mux.Handle("GET /{$}", dashboard)
	mux.Handle("GET /setup", setup)
	mux.Handle("GET /setup/callback", setup)
}

func (r *routes) readyz(w http.ResponseWriter, req *http.Request) {
	if r.draining.Load() {
		plain(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
	defer cancel()
	if err := r.db.Ping(ctx); err != nil {
		r.log.WarnContext(req.Context(), "readiness check failed", "error", err)
		plain(w, http.StatusServiceUnavailable, "database not reachable")
		return
	}
	plain(w, http.StatusOK, "ready")
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// newServer's timeouts keep slow clients from holding connections
// (Slowloris): a delivery is answered in milliseconds.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
